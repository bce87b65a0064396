//! Decimal counters, the one value format `increment` reads and writes: its parsing, the
//! add, and the two errors live here once, so every backend accepts the same values and
//! words its `NotANumber` and overflow errors the same way.

use super::StoreError;

/// Parses a stored counter: ASCII digits, no sign, no leading zeros (except `0` itself).
pub(crate) fn parse_counter(key: &str, value: &[u8]) -> Result<u64, StoreError> {
    let canonical = !value.is_empty()
        && value.iter().all(u8::is_ascii_digit)
        && (value.len() == 1 || value[0] != b'0');
    let parsed = canonical
        .then(|| std::str::from_utf8(value).ok()?.parse::<u64>().ok())
        .flatten();
    parsed.ok_or_else(|| not_a_number(key))
}

/// The value `increment` stores at `key`: the `stored` counter (missing counts as 0)
/// plus `delta`; [`StoreError::NotANumber`] or an overflow error instead.
pub(crate) fn add_to_counter(
    key: &str,
    stored: Option<&[u8]>,
    delta: u64,
) -> Result<u64, StoreError> {
    let current = match stored {
        Some(v) => parse_counter(key, v)?,
        None => 0,
    };
    current.checked_add(delta).ok_or_else(|| overflow(key))
}

pub(crate) fn not_a_number(key: &str) -> StoreError {
    StoreError::NotANumber(format!("the value of `{key}` is not a decimal u64"))
}

pub(crate) fn overflow(key: &str) -> StoreError {
    StoreError::Other(format!("incrementing `{key}` would overflow"))
}

#[cfg(test)]
mod tests {
    use super::super::StoreError;

    #[test]
    fn counters_parse_only_canonical_decimals() {
        use super::parse_counter;
        assert_eq!(parse_counter("k", b"0").unwrap(), 0);
        assert_eq!(
            parse_counter("k", b"18446744073709551615").unwrap(),
            u64::MAX
        );
        for bad in [
            &b"18446744073709551616"[..],
            b"01",
            b"",
            b"-1",
            b"1e3",
            b"\xff",
        ] {
            assert!(matches!(
                parse_counter("k", bad),
                Err(StoreError::NotANumber(_))
            ));
        }
    }
}
