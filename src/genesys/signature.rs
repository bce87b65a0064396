//! Verification of Genesys's `X-Hub-Signature-256` webhook header: `sha256=` followed by
//! base64(HMAC-SHA256(secret, raw body)), compared in constant time.

use crate::base64;
use crate::model::SignatureProblem;
use genesys_om_hmac::hmac_sha256;

/// The header Genesys signs webhooks with.
pub const HEADER: &str = "x-hub-signature-256";

/// Base64 of 32 bytes: 43 symbols, the last with its two unused bits clear, then `=`.
const ENCODED_LEN: usize = 44;

fn mac(secret: &str, body: &[u8]) -> [u8; 32] {
    hmac_sha256(secret.as_bytes(), body)
}

/// The header value Genesys would send for `body` under `secret`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    format!("sha256={}", base64::encode(&mac(secret, body)))
}

/// Whether `s` is the one (canonical) base64 encoding of some 32 bytes.
fn is_digest(s: &[u8]) -> bool {
    s.len() == ENCODED_LEN
        && s[..ENCODED_LEN - 1].iter().all(|&c| base64::is_symbol(c))
        && base64::value(s[ENCODED_LEN - 2]).is_some_and(|v| v & 3 == 0)
        && s[ENCODED_LEN - 1] == b'='
}

/// Equal, in time that depends only on the (public) length.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// Check `header` (the value, if present) against `body` under any of `secrets`
/// (current first, then the previous one during a rotation). Encodings are compared, not
/// digests: a 32-byte digest has exactly one canonical encoding, and anything else is
/// refused as malformed before any comparison.
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secrets: &[String],
) -> Result<(), SignatureProblem> {
    let value = header.ok_or(SignatureProblem::Missing)?.trim();
    let encoded = value
        .strip_prefix("sha256=")
        .ok_or(SignatureProblem::Malformed)?
        .as_bytes();
    if !is_digest(encoded) {
        return Err(SignatureProblem::Malformed);
    }
    for secret in secrets {
        if same(base64::encode(&mac(secret, body)).as_bytes(), encoded) {
            return Ok(());
        }
    }
    Err(SignatureProblem::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The worked vector of the Genesys spec (section 5).
    const SECRET: &str = "my-webhook-secret-123";
    const BODY: &str = r#"{"id":"36e4d8d92b071f15116d01d111bb8802","channel":{"id":"a2171742-7359-41cf-aa68-ad5049250806","platform":"Open","type":"Private","to":{"id":"5608add1-7b77-460b-a7f0-97a8d8f2b6db"},"from":{"nickname":"PS testing OM Integration","id":"a2171742-7359-41cf-aa68-ad5049250806","idType":"Opaque"},"time":"2021-11-25T09:42:16.302Z","messageId":"36e4d8d92b071f15116d01d111bb8802"},"type":"Text","text":"Hello there!","originatingEntity":"Human","direction":"Outbound"}"#;
    const GOOD: &str = "sha256=uhRK5AWBvMjHAo9ZcCxk/yriMr+MDZLXQjXt81Kc/PM=";

    fn secrets(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn matches_the_published_vector() {
        assert_eq!(BODY.len(), 461);
        assert_eq!(sign(SECRET, BODY.as_bytes()), GOOD);
        assert_eq!(
            verify(Some(GOOD), BODY.as_bytes(), &secrets(&[SECRET])),
            Ok(())
        );
    }

    #[test]
    fn refuses_hex_missing_and_tampered() {
        let s = secrets(&[SECRET]);
        let hex = "sha256=ba144ae40581bcc8c7028f59702c64fe2ae232bf8c0d92d74235edf3529cfcf3";
        assert_eq!(
            verify(Some(hex), BODY.as_bytes(), &s),
            Err(SignatureProblem::Malformed)
        );
        assert_eq!(
            verify(None, BODY.as_bytes(), &s),
            Err(SignatureProblem::Missing)
        );
        assert_eq!(
            verify(Some(&GOOD[7..]), BODY.as_bytes(), &s),
            Err(SignatureProblem::Malformed)
        );
        let mut tampered = BODY.as_bytes().to_vec();
        tampered[100] ^= 1;
        assert_eq!(
            verify(Some(GOOD), &tampered, &s),
            Err(SignatureProblem::Mismatch)
        );
        assert_eq!(
            verify(
                Some(GOOD),
                BODY.as_bytes(),
                &secrets(&["another-secret-value"])
            ),
            Err(SignatureProblem::Mismatch)
        );
    }

    #[test]
    fn refuses_every_other_spelling_of_the_digest() {
        let s = secrets(&[SECRET]);
        let b64 = &GOOD[7..];
        // The same 32 bytes with the last symbol's unused bits set, without padding, with
        // too much padding, or with a character outside the alphabet: all malformed.
        for other in [
            format!("sha256={}N=", &b64[..42]),
            format!("sha256={}", &b64[..43]),
            format!("sha256={b64}="),
            format!("sha256=-{}", &b64[1..]),
        ] {
            assert_eq!(
                verify(Some(&other), BODY.as_bytes(), &s),
                Err(SignatureProblem::Malformed),
                "{other}"
            );
        }
        // Surrounding spaces are not part of the value.
        assert_eq!(
            verify(Some(&format!(" {GOOD} ")), BODY.as_bytes(), &s),
            Ok(())
        );
    }

    #[test]
    fn accepts_previous_secret_during_rotation() {
        let s = secrets(&["the-new-secret-value-1", SECRET]);
        assert_eq!(verify(Some(GOOD), BODY.as_bytes(), &s), Ok(()));
    }
}
