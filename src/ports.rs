//! The small traits the domain logic needs from its host: HTTP, key-value, config, clock.
//! The component implements them over WASI (`component/`); tests implement them in memory
//! (`testing/`), so every hook runs natively as well as inside the component.

/// An HTTP request to Genesys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET`, `POST`, `PATCH`, ...
    pub method: &'static str,
    /// Absolute `https://` URL.
    pub url: String,
    /// Header names and values.
    pub headers: Vec<(String, String)>,
    /// Request body (may be empty).
    pub body: Vec<u8>,
    /// Give up waiting for the answer after this long.
    pub timeout_ms: u64,
}

/// An HTTP response from Genesys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends HTTP requests; errors are transport failures (no answer at all).
pub trait Http {
    /// Send one request and read the whole answer.
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, String>;
}

/// A key-value bucket already scoped to the tenant by the host.
///
/// Several hook calls may use the same bucket at once (other instances, other replicas):
/// each operation is atomic on its key, nothing more. There is no listing and no
/// compare-and-swap; [`Kv::increment`] is the only read-modify-write.
pub trait Kv {
    /// Value of `key`, if any.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String>;
    /// Store `value` under `key`.
    fn set(&self, key: &str, value: &[u8]) -> Result<(), String>;
    /// Remove `key` (no error when absent).
    fn delete(&self, key: &str) -> Result<(), String>;
    /// Atomically add `delta` to the counter under `key` and return the new value; a
    /// missing key counts as 0 (`wasi:keyvalue/atomics.increment`). A counter read with
    /// [`Kv::get`] counts only when it is decimal text (as the reference host stores it);
    /// otherwise it is read again through this call with `delta` 0, so a host may store
    /// counters as it likes.
    fn increment(&self, key: &str, delta: u64) -> Result<u64, String>;
    /// Values of `keys`, in order, in one call (`wasi:keyvalue/batch.get-many`: one round
    /// trip to a remote store). Each key is read atomically; together they are no snapshot.
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, String> {
        keys.iter().map(|k| self.get(k)).collect()
    }
    /// Remove `keys` in one call (`wasi:keyvalue/batch.delete-many`).
    fn delete_many(&self, keys: &[String]) -> Result<(), String> {
        keys.iter().try_for_each(|k| self.delete(k))
    }
}

/// Provider settings supplied by the host (`wasi:config`).
pub trait Config {
    /// Value of `key`, if set.
    fn get(&self, key: &str) -> Result<Option<String>, String>;
}

/// Time and identifiers.
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
    /// A fresh unique identifier (UUID text): 128 random bits in the component
    /// (`wasi:random`), see [`uuid_v4`].
    fn new_id(&self) -> String;
    /// Wait before a retry.
    fn sleep_ms(&self, ms: u64);
}

/// Format 16 random bytes as a version-4 UUID (`xxxxxxxx-xxxx-4xxx-Nxxx-xxxxxxxxxxxx`).
pub fn uuid_v4(b: [u8; 16]) -> String {
    uuid(b, 4)
}

/// Format 16 bytes of a hash as a version-8 ("custom") UUID (RFC 9562).
pub fn uuid_v8(b: [u8; 16]) -> String {
    uuid(b, 8)
}

fn uuid(mut b: [u8; 16], version: u8) -> String {
    b[6] = (b[6] & 0x0f) | (version << 4);
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Everything a hook needs from its host.
pub struct Env<'a> {
    /// Requests to Genesys.
    pub http: &'a dyn Http,
    /// The tenant's key-value bucket.
    pub kv: &'a dyn Kv,
    /// The tenant's provider settings.
    pub config: &'a dyn Config,
    /// Time, sleeping and fresh ids.
    pub clock: &'a dyn Clock,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_v4_sets_version_and_variant() {
        assert_eq!(uuid_v4([0xff; 16]), "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert_eq!(uuid_v4([0; 16]), "00000000-0000-4000-8000-000000000000");
    }
}
