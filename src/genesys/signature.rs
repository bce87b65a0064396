//! Verification of Genesys's `X-Hub-Signature-256` webhook header: `sha256=` followed by
//! base64(HMAC-SHA256(secret, raw body)), compared in constant time.

use crate::model::SignatureProblem;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The header Genesys signs webhooks with.
pub const HEADER: &str = "x-hub-signature-256";

/// The header value Genesys would send for `body` under `secret`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    format!(
        "sha256={}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

/// Check `header` (the value, if present) against `body` under any of `secrets`
/// (current first, then the previous one during a rotation).
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secrets: &[String],
) -> Result<(), SignatureProblem> {
    let value = header.ok_or(SignatureProblem::Missing)?.trim();
    let encoded = value
        .strip_prefix("sha256=")
        .ok_or(SignatureProblem::Malformed)?;
    let digest = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| SignatureProblem::Malformed)?;
    if digest.len() != 32 {
        return Err(SignatureProblem::Malformed);
    }
    for secret in secrets {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(body);
        // `verify_slice` compares in constant time.
        if mac.verify_slice(&digest).is_ok() {
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
    fn accepts_previous_secret_during_rotation() {
        let s = secrets(&["the-new-secret-value-1", SECRET]);
        assert_eq!(verify(Some(GOOD), BODY.as_bytes(), &s), Ok(()));
    }
}
