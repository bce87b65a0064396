//! The `X-Hub-Signature-256` header of Genesys's outbound webhooks. Written here again on
//! purpose: the simulator is the test oracle and does not borrow the component's code.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// `sha256=` + base64(HMAC-SHA256(secret, body)), the `X-Hub-Signature-256` value.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    format!(
        "sha256={}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::sign;

    #[test]
    fn matches_openssl() {
        // printf 'body' | openssl dgst -sha256 -hmac secret -binary | base64
        assert_eq!(
            sign("secret", b"body"),
            "sha256=3EaYNVf+oSe0OvchRn65s/3iM4/j4U9RlSqoR4wT01U="
        );
    }
}
