//! The small traits the domain logic needs from its host: HTTP, key-value, config, clock.
//! The component implements them over WASI; tests implement them in memory.

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
pub trait Kv {
    /// Value of `key`, if any.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String>;
    /// Store `value` under `key`.
    fn set(&self, key: &str, value: &[u8]) -> Result<(), String>;
    /// Remove `key` (no error when absent).
    fn delete(&self, key: &str) -> Result<(), String>;
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
    /// A fresh unique identifier (UUID text).
    fn new_id(&self) -> String;
    /// Wait before a retry.
    fn sleep_ms(&self, ms: u64);
}

/// Everything a hook needs from its host.
pub struct Env<'a> {
    pub http: &'a dyn Http,
    pub kv: &'a dyn Kv,
    pub config: &'a dyn Config,
    pub clock: &'a dyn Clock,
}
