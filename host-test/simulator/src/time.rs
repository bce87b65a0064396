//! The wall clock in the two shapes Genesys uses: ISO-8601 UTC with milliseconds in message
//! bodies, and epoch milliseconds in EventBridge event bodies. Written out by hand so the
//! simulator needs no date crate.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub(crate) fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64
}

/// Now as `yyyy-MM-ddTHH:mm:ss.SSSZ`.
pub(crate) fn now_iso() -> String {
    iso_at(now_millis())
}

/// `ahead` milliseconds from now, as [`now_iso`] writes it.
pub(crate) fn iso_in_millis(ahead: u64) -> String {
    iso_at(now_millis() + ahead)
}

fn iso_at(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        ms % 1000
    )
}
