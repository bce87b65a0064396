//! The Genesys Cloud paths we call, in one list: the OAuth token endpoint on the login
//! host and the Platform API paths on the API host. The typed calls build on these, and
//! the in-process fake Genesys of the tests routes by them.

use super::inbound::Kind;

/// OAuth client-credentials token (login host).
pub const TOKEN: &str = "/oauth/token";
/// The Open Messaging integrations list.
pub const INTEGRATIONS: &str = "/api/v2/conversations/messaging/integrations/open";
/// Prefix of a messaging conversation (`GET`), and of its participants (`PATCH`).
pub const CONVERSATIONS: &str = "/api/v2/conversations/messages/";
/// What follows the integration id in an inbound endpoint's path.
pub const INBOUND: &str = "/inbound/open/";
/// Prefix of a user.
pub const USERS: &str = "/api/v2/users/";
/// Prefix of a routing queue.
pub const QUEUES: &str = "/api/v2/routing/queues/";
/// What follows the queue id in the estimated wait time's path.
pub const ESTIMATED_WAIT: &str = "/estimatedwaittime";
/// The queue observations query (analytics: agents on queue, interactions now).
pub const QUEUE_OBSERVATIONS: &str = "/api/v2/analytics/queues/observations/query";

/// One page of the integrations list.
pub fn integrations(page: u32) -> String {
    format!("{INTEGRATIONS}?pageSize=25&pageNumber={page}")
}

/// An inbound endpoint of an integration.
pub fn inbound(integration_id: &str, kind: Kind) -> String {
    format!("{CONVERSATIONS}{integration_id}{INBOUND}{}", kind.as_str())
}

/// A messaging conversation.
pub fn conversation(conversation_id: &str) -> String {
    format!("{CONVERSATIONS}{conversation_id}")
}

/// A participant of a messaging conversation.
pub fn participant(conversation_id: &str, participant_id: &str) -> String {
    format!("{CONVERSATIONS}{conversation_id}/participants/{participant_id}")
}

/// A user (an agent).
pub fn user(user_id: &str) -> String {
    format!("{USERS}{user_id}")
}

/// The estimated wait time of a queue (`EstimatedWaitTimePredictions`).
pub fn estimated_wait(queue_id: &str) -> String {
    format!("{QUEUES}{queue_id}{ESTIMATED_WAIT}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            inbound("i-1", Kind::Receipt),
            "/api/v2/conversations/messages/i-1/inbound/open/receipt"
        );
        assert_eq!(
            participant("c", "p"),
            "/api/v2/conversations/messages/c/participants/p"
        );
        assert_eq!(
            inbound("i-1", Kind::StructuredResponse),
            "/api/v2/conversations/messages/i-1/inbound/open/structured/response"
        );
        assert_eq!(
            estimated_wait("q-1"),
            "/api/v2/routing/queues/q-1/estimatedwaittime"
        );
        assert_eq!(
            integrations(2),
            "/api/v2/conversations/messaging/integrations/open?pageSize=25&pageNumber=2"
        );
    }
}
