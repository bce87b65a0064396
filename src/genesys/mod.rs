//! Everything about Genesys Cloud's protocol, and nothing else knows it: the REST client
//! (token, retries), typed API calls, the inbound bodies we send, the outbound webhooks and
//! events Genesys sends, a queue's figures, and the one rule for which failures are worth
//! retrying.

pub mod api;
pub mod attributes;
pub mod client;
pub mod content;
pub mod events;
pub mod inbound;
pub mod outbound;
pub mod paths;
pub mod queues;
pub mod region;
pub mod signature;
pub mod webhook;

pub use client::Client;

use crate::model::Error;

/// What a failed request means for sending it again. The one rule for the client's own
/// retries and for the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Genesys could not take it now (no answer, timeout, 408, 429, 5xx): the identical
    /// request may succeed later.
    Retryable,
    /// Genesys refused this very request (any other 4xx): sending it again cannot help.
    Permanent,
    /// The call cannot go on, whatever the request (credentials refused, a setting or the
    /// store failed): the request itself was not judged.
    Aborted,
}

impl Failure {
    /// The failure an error status stands for.
    pub fn of_status(status: u16) -> Failure {
        match status {
            408 | 429 => Failure::Retryable,
            400..=499 => Failure::Permanent,
            _ => Failure::Retryable,
        }
    }

    /// The failure a hook error stands for.
    pub fn of(error: &Error) -> Failure {
        match error {
            Error::Transport(_) => Failure::Retryable,
            Error::Api(e) => Failure::of_status(e.status),
            _ => Failure::Aborted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ApiError;

    #[test]
    fn one_rule_for_retries() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert_eq!(Failure::of_status(s), Failure::Retryable, "{s}");
        }
        for s in [400, 401, 403, 404, 409, 413, 422] {
            assert_eq!(Failure::of_status(s), Failure::Permanent, "{s}");
        }
        let api = |status| {
            Error::Api(ApiError {
                status,
                code: String::new(),
                message: String::new(),
            })
        };
        assert_eq!(Failure::of(&api(503)), Failure::Retryable);
        assert_eq!(Failure::of(&api(400)), Failure::Permanent);
        assert_eq!(
            Failure::of(&Error::Transport("x".into())),
            Failure::Retryable
        );
        assert_eq!(Failure::of(&Error::Auth("x".into())), Failure::Aborted);
        assert_eq!(Failure::of(&Error::Storage("x".into())), Failure::Aborted);
    }
}
