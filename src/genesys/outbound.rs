//! Genesys outbound webhooks (Genesys → bot platform): the normalized message as Genesys
//! sends it, with what it is (human or bot, a `Failed` receipt) and how its copies are
//! recognised. Its content is turned into parts for the user in `content.rs`; which actions
//! a webhook produces is decided in `webhook.rs`.

use crate::model::FailureReason;
use serde::Deserialize;
use serde_json::Value;

/// The fields of an outbound webhook we use; everything is optional on the wire.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    /// Message id (Genesys retries carry the same one).
    pub id: Option<String>,
    /// Channel: integration, recipient, time.
    #[serde(default)]
    pub channel: Channel,
    /// `Text`, `Structured`, `Event`, `Receipt`, ...
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Message text.
    pub text: Option<String>,
    /// Content items (attachments, quick replies, cards, ...).
    #[serde(default)]
    pub content: Vec<Value>,
    /// Events (typing).
    #[serde(default)]
    pub events: Vec<Value>,
    /// `Human` or `Bot`.
    pub originating_entity: Option<String>,
    /// The Genesys conversation, when Genesys names it.
    pub conversation_id: Option<String>,
    /// A receipt's status: `Sent`, `Delivered`, `Read`, `Failed`, `Published`, `Removed`.
    pub status: Option<String>,
    /// A `Failed` receipt's reasons (`ConversationReason`: `code`, `message`).
    #[serde(default)]
    pub reasons: Vec<Value>,
}

/// `channel` of an outbound message.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Channel {
    /// The integration id.
    pub id: Option<String>,
    /// Message id, when the top-level one is missing.
    pub message_id: Option<String>,
    /// When Genesys sent it.
    pub time: Option<String>,
    /// The end user.
    pub to: Option<Recipient>,
}

/// `channel.to` of an outbound message.
#[derive(Debug, Deserialize, Default)]
pub struct Recipient {
    /// The end user's id (our `channel.from.id`).
    pub id: Option<String>,
}

fn s(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

impl Webhook {
    /// The end user the message is for.
    pub fn user_id(&self) -> Option<&str> {
        self.channel
            .to
            .as_ref()?
            .id
            .as_deref()
            .filter(|s| !s.is_empty())
    }

    /// The message id used for deduplication (Genesys retries carry the same one).
    pub fn message_id(&self) -> Option<&str> {
        self.id.as_deref().or(self.channel.message_id.as_deref())
    }

    /// The id copies are recognised by: the message id, and for a receipt its status too
    /// (one message may get `Published` and then `Failed`).
    pub fn dedupe_id(&self) -> Option<String> {
        let id = self.message_id()?;
        Some(match self.kind.as_deref() {
            Some("Receipt") => format!("{id}:{}", self.status.as_deref().unwrap_or("")),
            _ => id.to_string(),
        })
    }

    /// Whether a Genesys bot or flow (not a person) sent it.
    pub fn is_bot(&self) -> bool {
        self.originating_entity.as_deref() == Some("Bot")
    }

    /// Whether a human agent sent it (a message or an event; receipts are about the
    /// user's messages).
    pub fn is_human(&self) -> bool {
        self.originating_entity.as_deref() == Some("Human")
            && matches!(self.kind.as_deref(), Some("Text" | "Structured" | "Event"))
    }

    /// A `Failed` receipt: the user message it is about and Genesys's reasons.
    pub fn failure(&self) -> Option<(String, Vec<FailureReason>)> {
        if self.kind.as_deref() != Some("Receipt") || self.status.as_deref() != Some("Failed") {
            return None;
        }
        let reasons = self
            .reasons
            .iter()
            .filter_map(|r| {
                let code = s(r, "code").filter(|c| !c.is_empty());
                let message = s(r, "message").unwrap_or_default();
                (code.is_some() || !message.is_empty()).then_some(FailureReason { code, message })
            })
            .collect();
        Some((self.message_id()?.to_string(), reasons))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Webhook {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn failed_receipts_name_the_message_and_the_reasons() {
        let w = parse(
            r#"{"id":"m-1","channel":{"to":{"id":"u1"}},"type":"Receipt","status":"Failed",
            "reasons":[{"code":"MediaTypeNotAllowed","message":"Media type not allowed"},{"message":""}],
            "isFinalReceipt":true,"direction":"Inbound"}"#,
        );
        let (id, reasons) = w.failure().unwrap();
        assert_eq!(id, "m-1");
        assert_eq!(
            reasons,
            vec![FailureReason {
                code: Some("MediaTypeNotAllowed".into()),
                message: "Media type not allowed".into()
            }]
        );
        assert_eq!(w.dedupe_id().as_deref(), Some("m-1:Failed"));
        assert!(!w.is_human());
        let delivered = parse(r#"{"id":"m-1","type":"Receipt","status":"Delivered"}"#);
        assert!(delivered.failure().is_none());
        assert_eq!(delivered.dedupe_id().as_deref(), Some("m-1:Delivered"));
    }
}
