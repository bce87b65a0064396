//! Genesys events that may end a handover, in the shapes Genesys produces them: an Amazon
//! EventBridge envelope, a Notifications frame, or a Web Services Data Action body, parsed
//! into the few facts `end` decides on.

use crate::model::{EndReason, Error};
use serde::Deserialize;
use std::borrow::Cow;

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

/// A string member of an event, borrowed where it can be.
type Text<'a> = Option<Cow<'a, str>>;

/// Any of the three shapes, as one record: an EventBridge envelope (`detail-type`,
/// `detail`), a Notifications frame (`topicName`, `eventBody`) or a Data Action body
/// (`topic`, `userId`, …). Unknown members are ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a> {
    #[serde(rename = "detail-type", borrow)]
    detail_type: Text<'a>,
    /// An EventBridge envelope's notification: a frame, read as this same record.
    #[serde(borrow)]
    detail: Option<Box<Body<'a>>>,
    #[serde(borrow)]
    topic_name: Text<'a>,
    #[serde(borrow)]
    event_body: Option<EventBody<'a>>,
    #[serde(borrow)]
    topic: Text<'a>,
    #[serde(borrow)]
    user_id: Text<'a>,
    #[serde(borrow)]
    conversation_id: Text<'a>,
    #[serde(borrow)]
    agent_user_id: Text<'a>,
    #[serde(borrow)]
    disconnect_type: Text<'a>,
}

/// The members of a conversation detail event's body that `end` decides on.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventBody<'a> {
    #[serde(borrow)]
    conversation_id: Text<'a>,
    #[serde(borrow)]
    user_id: Text<'a>,
    #[serde(borrow)]
    disconnect_type: Text<'a>,
    #[serde(borrow)]
    media_type: Text<'a>,
    #[serde(borrow)]
    message_type: Text<'a>,
    interacting_duration_ms: Option<u64>,
    alerting_duration_ms: Option<u64>,
}

/// A member's string, when present and not empty.
fn present(t: &Text) -> Option<String> {
    t.as_deref().filter(|s| !s.is_empty()).map(str::to_string)
}

/// Parse an event body the host received.
pub fn parse(bytes: &[u8]) -> Result<Event, Error> {
    let v: Body = serde_json::from_slice(bytes)
        .map_err(|e| Error::InvalidInput(format!("Genesys event is not valid: {e}")))?;
    // EventBridge envelope: the notification sits in `detail`.
    let frame = v.detail.as_deref().unwrap_or(&v);
    let (topic_name, event_body) = (&frame.topic_name, &frame.event_body);
    if let Some(topic) = present(topic_name).or_else(|| present(&v.detail_type)) {
        let body = event_body.as_ref().ok_or_else(|| {
            Error::InvalidInput("Genesys event has a topic but no eventBody object".into())
        })?;
        let media_ok = present(&body.media_type).is_none_or(|m| m == "MESSAGE");
        let type_ok = present(&body.message_type).is_none_or(|m| m == "OPEN");
        return Ok(Event {
            topic: topic_of(&topic),
            conversation_id: present(&body.conversation_id),
            end_user_id: None,
            agent_user_id: present(&body.user_id),
            disconnect_type: present(&body.disconnect_type),
            is_open_messaging: media_ok && type_ok,
            interacted: body.interacting_duration_ms.unwrap_or(0) > 0
                || body.interacting_duration_ms.is_none() && body.alerting_duration_ms.is_none(),
        });
    }
    // Web Services Data Action body from a Trigger/Workflow.
    if let Some(topic) = present(&v.topic) {
        let user = present(&v.user_id).ok_or_else(|| {
            Error::InvalidInput("Data Action event lacks 'userId' (the end user's address)".into())
        })?;
        return Ok(Event {
            topic: topic_of(&topic),
            conversation_id: present(&v.conversation_id),
            end_user_id: Some(user),
            agent_user_id: present(&v.agent_user_id),
            disconnect_type: present(&v.disconnect_type),
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
