//! Standard base64 with padding (RFC 4648 §4), encode only: the component writes it (HTTP
//! Basic credentials, webhook signatures) and checks a signature by comparing encodings, so
//! a decoder, and the base64 crate's code, are not needed.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// `bytes` in standard base64, padded with `=`.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            let c = match i <= chunk.len() {
                true => ALPHABET[(n >> (18 - 6 * i) & 63) as usize],
                false => b'=',
            };
            out.push(char::from(c));
        }
    }
    out
}

/// Whether `c` is a character of the alphabet (not padding).
pub fn is_symbol(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'+' || c == b'/'
}

/// The alphabet's value of `c`, if it is one of its characters.
pub fn value(c: u8) -> Option<u8> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_the_rfc_4648_vectors() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(encode(plain.as_bytes()), encoded, "{plain}");
        }
    }

    #[test]
    fn every_byte_value_round_trips_through_the_alphabet() {
        let bytes: Vec<u8> = (0..=255).collect();
        let e = encode(&bytes);
        assert_eq!(e.len(), 344);
        assert!(e.trim_end_matches('=').bytes().all(is_symbol));
        // Decode by hand: 6 bits per symbol.
        let mut bits = 0u32;
        let mut n = 0;
        let mut back = Vec::new();
        for c in e.trim_end_matches('=').bytes() {
            bits = bits << 6 | u32::from(value(c).unwrap());
            n += 6;
            if n >= 8 {
                n -= 8;
                back.push((bits >> n) as u8);
            }
        }
        assert_eq!(back, bytes);
        assert_eq!(value(b'='), None);
        assert_eq!(value(b'/'), Some(63));
    }
}
