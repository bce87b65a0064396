//! `Idempotency-Key` on the bot side's POSTs. The bot platform names each call (its own
//! id of the user turn); a call repeated under the same key — on any replica, also after
//! a crash — answers as the first did instead of running again, and a `user-message` that
//! must run again (its first answer was never stored) runs under the key as its turn id,
//! so Genesys gets the same message ids and takes the message once. A key reused with
//! another request is refused. Keys are kept per user and forgotten when the user's
//! handover ends.

use crate::kv::{Store, StoreError, Then, Write};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The request header.
pub const HEADER: &str = "idempotency-key";

/// The longest key taken.
pub const MAX_KEY_BYTES: usize = 255;

/// A key that is not 1 to 255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Idempotency-Key must be 1 to {MAX_KEY_BYTES} visible ASCII characters")]
pub struct BadKey;

/// Checks a header value as a key.
pub fn parse_key(value: &[u8]) -> Result<String, BadKey> {
    let ok = !value.is_empty()
        && value.len() <= MAX_KEY_BYTES
        && value.iter().all(|b| (0x21..=0x7e).contains(b));
    if !ok {
        return Err(BadKey);
    }
    String::from_utf8(value.to_vec()).map_err(|_| BadKey)
}

/// What to do with a keyed call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Never answered: run it (again), then record the answer under this request hash.
    Run(String),
    /// Answered before: give this answer again.
    Replay {
        /// The HTTP status.
        status: u16,
        /// The JSON body.
        body: serde_json::Value,
    },
    /// The key was used for another request.
    Mismatch,
}

#[derive(Serialize, Deserialize)]
struct Record {
    /// SHA-256 of the route and body, hex.
    hash: String,
    /// The answer, once there is one to give again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    answer: Option<(u16, serde_json::Value)>,
}

/// The keys of every tenant's users, in the shared store.
pub struct Keys {
    kv: Store,
}

/// A key's record; the user's length first, so users and keys that contain `/` never
/// make two pairs one name.
fn record_key(tenant: &str, user: &str, key: &str) -> String {
    format!("idem/{tenant}/{}/{user}/{key}", user.len())
}

fn user_set(tenant: &str, user: &str) -> String {
    format!("idem-keys/{tenant}/{user}")
}

/// What a request is, for telling a repeat from another request under the same key.
pub fn request_hash(route: &str, body: &[u8]) -> String {
    let mut d = Sha256::new();
    d.update((route.len() as u64).to_be_bytes());
    d.update(route.as_bytes());
    d.update(body);
    d.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

impl Keys {
    /// Keys kept in `kv`.
    pub fn new(kv: Store) -> Self {
        Keys { kv }
    }

    /// What to do with `user`'s call under `key`, whose request hashes to `hash`.
    pub async fn claim(
        &self,
        tenant: &str,
        user: &str,
        key: &str,
        hash: &str,
    ) -> Result<Claim, StoreError> {
        let at = record_key(tenant, user, key);
        if let Some(stored) = self.kv.get(&at).await? {
            let r: Record = serde_json::from_slice(&stored)
                .map_err(|e| StoreError::Corrupt(format!("idempotency record {at}: {e}")))?;
            return Ok(match r.answer {
                _ if r.hash != hash => Claim::Mismatch,
                Some((status, body)) => Claim::Replay { status, body },
                None => Claim::Run(r.hash),
            });
        }
        // Listed first, so an end that forgets the user's keys never misses one.
        self.kv.set_add(&user_set(tenant, user), key).await?;
        self.put(&at, hash, None).await?;
        Ok(Claim::Run(hash.to_string()))
    }

    /// The call under `key` answered `status` with `body`: repeats get it again.
    pub async fn answered(
        &self,
        tenant: &str,
        user: &str,
        key: &str,
        hash: &str,
        status: u16,
        body: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let at = record_key(tenant, user, key);
        self.put(&at, hash, Some((status, body.clone()))).await
    }

    /// The user's handover ended: forget every key of theirs, in one request.
    pub async fn forget(&self, tenant: &str, user: &str) -> Result<(), StoreError> {
        let writes = [Self::forgetting(tenant, user)];
        self.kv.write_then(&writes, Then::Nothing).await.map(drop)
    }

    /// The write that forgets every key of the user, without reading the list first: the
    /// records the list names, then the list.
    pub fn forgetting(tenant: &str, user: &str) -> Write {
        Write::SetClearWithKeys(user_set(tenant, user), record_key(tenant, user, ""))
    }

    async fn put(
        &self,
        at: &str,
        hash: &str,
        answer: Option<(u16, serde_json::Value)>,
    ) -> Result<(), StoreError> {
        let r = Record {
            hash: hash.to_string(),
            answer,
        };
        let bytes = serde_json::to_vec(&r).map_err(|e| StoreError::Other(e.to_string()))?;
        self.kv.set(at, &bytes).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_visible_ascii_of_bounded_length() {
        assert_eq!(parse_key(b"turn-42_a.b~c").unwrap(), "turn-42_a.b~c");
        for bad in [
            &b""[..],
            b"has space",
            b"tab\t",
            "é".as_bytes(),
            &[b'k'; 256],
        ] {
            assert_eq!(parse_key(bad), Err(BadKey), "{bad:?}");
        }
        assert!(parse_key(&[b'k'; 255]).is_ok());
    }

    #[tokio::test]
    async fn a_key_runs_once_answers_again_refuses_another_request_and_goes_with_the_handover() {
        let keys = Keys::new(Store::memory());
        let (a, b) = (
            request_hash("/message", b"{1}"),
            request_hash("/message", b"{2}"),
        );
        assert_ne!(a, b);
        assert_ne!(request_hash("/end", b"{1}"), a, "the route counts");
        assert_eq!(
            keys.claim("t", "u", "k1", &a).await.unwrap(),
            Claim::Run(a.clone())
        );
        // Not answered yet (the first call died): it runs again.
        assert_eq!(
            keys.claim("t", "u", "k1", &a).await.unwrap(),
            Claim::Run(a.clone())
        );
        assert_eq!(
            keys.claim("t", "u", "k1", &b).await.unwrap(),
            Claim::Mismatch
        );
        let body = json!({"ok": {"warnings": []}});
        keys.answered("t", "u", "k1", &a, 200, &body).await.unwrap();
        let replay = Claim::Replay { status: 200, body };
        assert_eq!(keys.claim("t", "u", "k1", &a).await.unwrap(), replay);
        assert_eq!(
            keys.claim("t", "u", "k1", &b).await.unwrap(),
            Claim::Mismatch
        );
        // Users and tenants are apart.
        assert_eq!(
            keys.claim("t", "v", "k1", &b).await.unwrap(),
            Claim::Run(b.clone())
        );
        assert_eq!(
            keys.claim("t2", "u", "k1", &b).await.unwrap(),
            Claim::Run(b.clone())
        );
        keys.forget("t", "u").await.unwrap();
        assert_eq!(
            keys.claim("t", "u", "k1", &b).await.unwrap(),
            Claim::Run(b.clone())
        );
        assert_eq!(
            keys.claim("t", "v", "k1", &a).await.unwrap(),
            Claim::Mismatch
        );
        keys.forget("t", "u").await.unwrap();
        keys.forget("t", "v").await.unwrap();
        keys.forget("t2", "u").await.unwrap();
        let left = keys.kv.keys_with_prefix("idem", None, 10).await.unwrap().0;
        assert!(left.is_empty(), "{left:?}");
    }
}
