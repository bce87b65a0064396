//! Genesys events that may end a handover, in the shapes Genesys produces them: an Amazon
//! EventBridge envelope, a Notifications frame, or a Web Services Data Action body, parsed
//! into the few facts `end` decides on.

use crate::model::{EndReason, Error};
use serde_json::Value;

/// The topic kinds that matter for a handover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// `…customer.end`: the customer side ended.
    CustomerEnd,
    /// `…user.end`: an agent left (ended, or transferred / requeued / rejected).
    UserEnd,
    /// `…acw`: after-call work began.
    Acw,
    /// `…user.start`: an agent joined.
    UserStart,
    /// Anything else.
    Other,
}

/// A parsed Genesys conversation event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// What happened.
    pub topic: Topic,
    /// Genesys conversation id, when the event carries one.
    pub conversation_id: Option<String>,
    /// End-user id (Data Action bodies carry it as `userId`).
    pub end_user_id: Option<String>,
    /// The agent (Genesys user) the event is about.
    pub agent_user_id: Option<String>,
    /// Genesys's `disconnectType` (`CLIENT`, `PEER`, `TRANSFER`, ...).
    pub disconnect_type: Option<String>,
    /// False when the event is not about an Open Messaging conversation.
    pub is_open_messaging: bool,
    /// Whether the agent ever interacted (absent on rejects and requeues).
    pub interacted: bool,
}

fn topic_of(name: &str) -> Topic {
    if name.ends_with(".customer.end") {
        Topic::CustomerEnd
    } else if name.ends_with(".user.end") {
        Topic::UserEnd
    } else if name.ends_with(".acw") {
        Topic::Acw
    } else if name.ends_with(".user.start") {
        Topic::UserStart
    } else {
        Topic::Other
    }
}

fn s(v: &Value, k: &str) -> Option<String> {
    v.get(k)
        .and_then(Value::as_str)
        .map(str::to_string)
        .filter(|s| !s.is_empty())
}

/// Parse an event body the host received.
pub fn parse(bytes: &[u8]) -> Result<Event, Error> {
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|e| Error::InvalidInput(format!("Genesys event is not valid JSON: {e}")))?;
    if !v.is_object() {
        return Err(Error::InvalidInput(
            "Genesys event must be a JSON object".into(),
        ));
    }
    // EventBridge envelope: the notification sits in `detail`.
    let frame = v.get("detail").filter(|d| d.is_object()).unwrap_or(&v);
    if let Some(topic) = s(frame, "topicName").or_else(|| s(&v, "detail-type")) {
        let body = frame
            .get("eventBody")
            .filter(|b| b.is_object())
            .ok_or_else(|| {
                Error::InvalidInput("Genesys event has a topic but no eventBody object".into())
            })?;
        let media_ok = s(body, "mediaType").is_none_or(|m| m == "MESSAGE");
        let type_ok = s(body, "messageType").is_none_or(|m| m == "OPEN");
        return Ok(Event {
            topic: topic_of(&topic),
            conversation_id: s(body, "conversationId"),
            end_user_id: None,
            agent_user_id: s(body, "userId"),
            disconnect_type: s(body, "disconnectType"),
            is_open_messaging: media_ok && type_ok,
            interacted: body
                .get("interactingDurationMs")
                .and_then(Value::as_u64)
                .unwrap_or(0)
                > 0
                || body.get("interactingDurationMs").is_none()
                    && body.get("alertingDurationMs").is_none(),
        });
    }
    // Web Services Data Action body from a Trigger/Workflow.
    if let Some(topic) = s(&v, "topic") {
        let user = s(&v, "userId").ok_or_else(|| {
            Error::InvalidInput("Data Action event lacks 'userId' (the end user's address)".into())
        })?;
        return Ok(Event {
            topic: topic_of(&topic),
            conversation_id: s(&v, "conversationId"),
            end_user_id: Some(user),
            agent_user_id: s(&v, "agentUserId"),
            disconnect_type: s(&v, "disconnectType"),
            is_open_messaging: true,
            interacted: true,
        });
    }
    Err(Error::InvalidInput(
        "Genesys event is neither an EventBridge envelope, a notification nor a Data Action body"
            .into(),
    ))
}

/// Whether a `user.end` disconnect type means the chat moved on rather than ended.
pub fn is_transfer(disconnect_type: Option<&str>) -> bool {
    disconnect_type.is_some_and(|d| d.contains("TRANSFER"))
}

/// Why the handover ended, from the `disconnectType` of an ending event.
pub fn end_reason(disconnect_type: Option<&str>) -> EndReason {
    match disconnect_type.unwrap_or("") {
        "PEER" => EndReason::AgentEnded,
        "ERROR" | "TRANSPORT_FAILURE" | "SYSTEM" => EndReason::Error,
        "INACTIVITY" | "SESSION_EXPIRED" | "TIMEOUT" => EndReason::Inactivity,
        _ => EndReason::CustomerEnded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eventbridge_customer_end() {
        let e = parse(br#"{"version":"0","detail-type":"v2.detail.events.conversation.{id}.customer.end",
            "detail":{"topicName":"v2.detail.events.conversation.c1.customer.end","version":"2",
            "eventBody":{"conversationId":"c1","disconnectType":"CLIENT","mediaType":"MESSAGE","messageType":"OPEN"}}}"#).unwrap();
        assert_eq!(e.topic, Topic::CustomerEnd);
        assert_eq!(e.conversation_id.as_deref(), Some("c1"));
        assert!(e.is_open_messaging);
    }

    #[test]
    fn other_media_is_flagged() {
        let e = parse(
            br#"{"detail":{"topicName":"v2.detail.events.conversation.c1.customer.end",
            "eventBody":{"conversationId":"c1","mediaType":"CHAT"}}}"#,
        )
        .unwrap();
        assert!(!e.is_open_messaging);
    }

    #[test]
    fn data_action_body() {
        let e = parse(br#"{"userId":"u1","topic":"v2.detail.events.conversation.id.user.end","disconnectType":"TRANSFER"}"#).unwrap();
        assert_eq!(e.topic, Topic::UserEnd);
        assert_eq!(e.end_user_id.as_deref(), Some("u1"));
        assert!(is_transfer(e.disconnect_type.as_deref()));
    }

    #[test]
    fn garbage_is_a_typed_error() {
        for b in [
            &b"nope"[..],
            b"[]",
            b"{}",
            br#"{"topic":"x"}"#,
            br#"{"detail":{"topicName":"t"}}"#,
        ] {
            assert!(matches!(parse(b), Err(Error::InvalidInput(_))));
        }
    }
}
