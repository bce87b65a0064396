//! The hooks the component exports, over plain Rust types so they run natively in tests.
//! Orchestration only: Genesys's protocol is in `genesys`, stored state in `state`, the
//! outbox's delivery rules in `outbox`; each hook has a file of its own.

mod agent_joined;
mod agent_message;
mod end;
mod flush;
mod queue_status;
mod report_delivery;
mod start;
mod user_message;

#[cfg(test)]
mod tests;

pub use agent_message::agent_message;
pub use end::end;
pub use flush::flush;
pub use queue_status::{queue_status, QUEUE_STATUS_CACHE_MS};
pub use report_delivery::report_delivery;
pub use start::start;
pub use user_message::{user_message, USER_JOINED, USER_LEFT};

use crate::model::{Action, Error, Outcome, Warning};
use crate::state::Handover;

/// The outcome of a call about `h`.
fn outcome(h: &Handover, actions: Vec<Action>, warnings: Vec<Warning>) -> Outcome {
    Outcome {
        session_id: Some(h.session_id.clone()),
        user_id: Some(h.user_id.clone()),
        genesys: Some(h.genesys()),
        actions,
        delivery_key: None,
        warnings,
    }
}

/// The outcome of a call that did nothing, with one warning.
fn ignored(user_id: Option<String>, w: Warning) -> Outcome {
    Outcome {
        user_id,
        warnings: vec![w],
        ..Outcome::default()
    }
}

fn no_handover(user_id: &str) -> Error {
    Error::UnknownConversation(format!("no open handover for user {user_id:?}"))
}
