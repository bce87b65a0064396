//! Word-at-a-time scanning of string runs: webhook texts are long, and a run without a
//! quote, backslash or control character is skipped eight bytes per step instead of one.

/// Whether any of the eight bytes of `w` is `"`, `\` or a control character (below 0x20):
/// the classic "has a zero byte" test on `w` xor each of the two, and "has a byte below n"
/// on `w` itself (exact for n ≤ 128; bytes of 0x80 and up never count).
pub(super) fn ends_run(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let quote = zero(w ^ (ONES * u64::from(b'"')));
    let backslash = zero(w ^ (ONES * u64::from(b'\\')));
    let control = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    quote | backslash | control != 0
}

#[cfg(test)]
mod tests {
    use super::ends_run;

    #[test]
    fn a_word_ends_a_run_exactly_when_one_of_its_bytes_does() {
        let fillers = [b'a', b' ', b'~', 0x7f, 0x80, 0xc3, 0xff, b'!', b'#', b']'];
        for filler in fillers {
            let plain = [filler; 8];
            assert!(!ends_run(u64::from_le_bytes(plain)), "{filler:#x}");
            for stop in (0u8..0x20).chain([b'"', b'\\']) {
                for at in 0..8 {
                    let mut w = plain;
                    w[at] = stop;
                    assert!(ends_run(u64::from_le_bytes(w)), "{stop:#x} at {at}");
                }
            }
        }
        // Every byte value alone in a word of `a`s.
        for b in 0u8..=255 {
            let mut w = [b'a'; 8];
            w[3] = b;
            let ends = b < 0x20 || b == b'"' || b == b'\\';
            assert_eq!(ends_run(u64::from_le_bytes(w)), ends, "{b:#x}");
        }
    }
}
