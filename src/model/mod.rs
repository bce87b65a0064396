//! The WIT types (`wit/handover.wit`) as the domain code uses them: wit-bindgen's own
//! generated types, re-exported, with what the generated code cannot know added here (the
//! node's defaults, an empty outcome, an error's description).

pub use crate::bindings::handover::genesys_om::types::*;

/// A result whose error is the hook [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

// Generated types get derives only all at once (`additional_derives`), and not every WIT
// type has a default: these are written out.
#[allow(clippy::derivable_impls)]
impl Default for UserProfile {
    fn default() -> Self {
        Self {
            user_id: String::new(),
            session_id: String::new(),
            first_name: None,
            last_name: None,
            nickname: None,
            email: None,
        }
    }
}

impl Default for HandoverSettings {
    /// The node's defaults: connect/disconnect messages on, agent details off, the
    /// tenant's inactivity timeout.
    fn default() -> Self {
        Self {
            language: None,
            skills: None,
            priority: None,
            enable_user_connects_message: true,
            enable_user_disconnects_message: true,
            display_agent_details: false,
            custom_attributes: None,
            disconnect_message: None,
            inactivity_timeout_secs: None,
        }
    }
}

impl Default for Outcome {
    /// No actions, no warnings, nothing known.
    fn default() -> Self {
        Self {
            session_id: None,
            user_id: None,
            genesys: None,
            actions: Vec::new(),
            delivery_key: None,
            warnings: Vec::new(),
        }
    }
}

impl Error {
    /// What went wrong, for logs and for Genesys's view of a refused message: names
    /// settings and fields, never secret values.
    pub fn describe(&self) -> String {
        match self {
            Error::Config(m) => format!("configuration error: {m}"),
            Error::Auth(m) => format!("authentication error: {m}"),
            Error::Api(e) => format!("Genesys API error {} {}: {}", e.status, e.code, e.message),
            Error::Transport(m) => format!("transport error: {m}"),
            Error::InvalidInput(m) => format!("invalid input: {m}"),
            Error::BadSignature(p) => format!("webhook signature refused: {p:?}"),
            Error::UnknownConversation(m) => format!("unknown conversation: {m}"),
            Error::Storage(m) => format!("storage error: {m}"),
        }
    }
}
