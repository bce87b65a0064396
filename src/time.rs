//! ISO-8601 timestamps as Genesys writes and expects them (`yyyy-MM-ddTHH:mm:ss.SSSZ`),
//! without a date library: the component stays small.

/// Format milliseconds since the epoch as `2026-11-25T09:14:03.512Z`.
pub fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let millis = ms % 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Read an ISO-8601 date and time as milliseconds since the epoch: `2021-11-25T09:42:16.302Z`,
/// with any number of fraction digits (or none; beyond milliseconds they are cut), `t` or
/// `T`, and `Z` or an offset `+01:00` / `-0530`. Anything else (no time zone, a date
/// alone, out-of-range fields, a time before 1970) is `None`.
pub fn parse_iso8601(s: &str) -> Option<u64> {
    let s = s.trim();
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let digits = b.get(from..from + len)?;
        digits.iter().try_fold(0i64, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0'))
        })
    };
    let sep = |at: usize, c: &[u8]| b.get(at).is_some_and(|x| c.contains(x));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let (y, m, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hh, mm, ss) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let mut at = 19;
    let mut millis = 0;
    if sep(at, b".,") {
        at += 1;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            if at - start < 3 {
                millis = millis * 10 + i64::from(b[at] - b'0');
            }
            at += 1;
        }
        if at == start {
            return None;
        }
        for _ in (at - start)..3 {
            millis *= 10;
        }
    }
    let offset_minutes = match &b[at..] {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (oh, om) = match rest.len() {
                5 if rest[2] == b':' => (num(at + 1, 2)?, num(at + 4, 2)?),
                4 => (num(at + 1, 2)?, num(at + 3, 2)?),
                2 => (num(at + 1, 2)?, 0),
                _ => return None,
            };
            if oh > 23 || om > 59 {
                return None;
            }
            let minutes = oh * 60 + om;
            if *sign == b'-' {
                -minutes
            } else {
                minutes
            }
        }
        _ => return None,
    };
    let secs = days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss - offset_minutes * 60;
    u64::try_from(secs * 1000 + millis).ok()
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Howard Hinnant's civil-to-days algorithm: days since 1970-01-01.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_764_062_043_512), "2025-11-25T09:14:03.512Z");
        // A leap day.
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn reads_what_it_writes_and_genesys_variants() {
        for ms in [
            0,
            951_782_400_000,
            1_637_833_336_302,
            1_764_062_043_512,
            4_102_444_799_999,
        ] {
            assert_eq!(parse_iso8601(&iso8601(ms)), Some(ms), "{}", iso8601(ms));
        }
        let ms = 1_637_833_336_302; // 2021-11-25T09:42:16.302Z
        for s in [
            "2021-11-25T09:42:16.302Z",
            " 2021-11-25t09:42:16.302z ",
            "2021-11-25T09:42:16.3020000Z",
            "2021-11-25T09:42:16.30299Z",
            "2021-11-25T10:42:16.302+01:00",
            "2021-11-25T04:12:16.302-0530",
            "2021-11-25T11:42:16.302+02",
            "2021-11-25T09:42:16,302Z",
        ] {
            assert_eq!(parse_iso8601(s), Some(ms), "{s}");
        }
        assert_eq!(parse_iso8601("2021-11-25T09:42:16Z"), Some(ms - 302));
        assert_eq!(parse_iso8601("2021-11-25T09:42:16.3Z"), Some(ms - 2));
        assert_eq!(parse_iso8601("2000-02-29T00:00:00Z"), Some(951_782_400_000));
    }

    #[test]
    fn refuses_what_is_not_a_zoned_date_time() {
        for s in [
            "",
            "2021-11-25",
            "2021-11-25T09:42:16",
            "2021-11-25T09:42:16.Z",
            "2021-11-25 09:42:16Z",
            "2021-13-25T09:42:16Z",
            "2021-02-29T09:42:16Z",
            "2021-11-31T09:42:16Z",
            "2021-11-25T24:00:00Z",
            "2021-11-25T09:60:00Z",
            "2021-11-25T09:42:16+1:00",
            "2021-11-25T09:42:16+01:00:00",
            "2021-11-25T09:42:16Zjunk",
            "1969-12-31T23:59:59Z",
            "２０２１-11-25T09:42:16Z",
            "+2021-11-25T09:42:16Z",
            "yesterday",
        ] {
            assert_eq!(parse_iso8601(s), None, "{s}");
        }
    }
}
