//! Why a hook failed (WIT `error`, `api-error`, `signature-problem`), as plain Rust.

/// An error Genesys answered with (WIT `api-error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// Genesys error code, e.g. `bad.request`.
    pub code: String,
    /// Genesys error message.
    pub message: String,
}

/// Why a webhook signature was refused (WIT `signature-problem`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureProblem {
    /// No signature header.
    Missing,
    /// Not `sha256=` and base64 of 32 bytes.
    Malformed,
    /// Matches no configured secret.
    Mismatch,
}

/// Why a hook failed (WIT `error`). Messages name settings and fields, never secret values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A provider setting is missing or invalid.
    Config(String),
    /// Genesys refused the credentials.
    Auth(String),
    /// Genesys answered with an error.
    Api(ApiError),
    /// Genesys could not be reached or answered garbage.
    Transport(String),
    /// A hook argument is invalid.
    InvalidInput(String),
    /// A webhook's signature was refused.
    BadSignature(SignatureProblem),
    /// No open handover for the webhook, event or user.
    UnknownConversation(String),
    /// The key-value store failed.
    Storage(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Config(m) => write!(f, "configuration error: {m}"),
            Error::Auth(m) => write!(f, "authentication error: {m}"),
            Error::Api(e) => write!(
                f,
                "Genesys API error {} {}: {}",
                e.status, e.code, e.message
            ),
            Error::Transport(m) => write!(f, "transport error: {m}"),
            Error::InvalidInput(m) => write!(f, "invalid input: {m}"),
            Error::BadSignature(p) => write!(f, "webhook signature refused: {p:?}"),
            Error::UnknownConversation(m) => write!(f, "unknown conversation: {m}"),
            Error::Storage(m) => write!(f, "storage error: {m}"),
        }
    }
}

impl std::error::Error for Error {}

/// A result whose error is the hook [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
