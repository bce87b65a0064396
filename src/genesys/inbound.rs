//! Bodies of the inbound Open Messaging API (bot platform → Genesys): messages, typing
//! events and receipts, shaped as `OpenInboundNormalized*` in Genesys's API, and structured
//! responses (`OpenInboundStructuredResponseMessage`). The participant data the first
//! message carries is built in `attributes.rs`.

use crate::model::{Attachment, ButtonResponse, ChoiceKind, UserProfile};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The inbound endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Messages (text, attachments).
    Message,
    /// Events (typing).
    Event,
    /// Delivery receipts.
    Receipt,
    /// A choice among the agent's quick replies or buttons (`structured/response`).
    #[serde(rename = "structured-response")]
    StructuredResponse,
}

impl Kind {
    /// The endpoint's name in the path.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Message => "message",
            Kind::Event => "event",
            Kind::Receipt => "receipt",
            Kind::StructuredResponse => "structured/response",
        }
    }

    /// Whether the body is a user message with a `channel.messageId` (a message or a
    /// structured response), as opposed to an event or a receipt.
    pub fn is_message(self) -> bool {
        matches!(self, Kind::Message | Kind::StructuredResponse)
    }
}

/// `channel.from`: the end user. Profile fields only when `send-user-profile` is on.
pub fn from(user_id: &str, profile: Option<&UserProfile>) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(user_id));
    m.insert("idType".into(), json!("Opaque"));
    if let Some(p) = profile {
        for (k, v) in [
            ("firstName", &p.first_name),
            ("lastName", &p.last_name),
            ("nickname", &p.nickname),
            ("email", &p.email),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                m.insert(k.into(), json!(v));
            }
        }
    }
    Value::Object(m)
}

/// An inbound text message, optionally with custom attributes (first message only).
pub fn text_message(
    from: Value,
    message_id: &str,
    time: &str,
    text: &str,
    attrs: Option<&BTreeMap<String, String>>,
) -> Value {
    let mut channel = json!({ "messageId": message_id, "from": from, "time": time });
    if let Some(a) = attrs {
        channel["metadata"] = json!({ "customAttributes": a });
    }
    json!({ "channel": channel, "text": text })
}

/// Genesys's attachment media type for an IANA type.
pub fn media_type(mime: &str) -> &'static str {
    match mime
        .split('/')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
        .as_str()
    {
        "image" => "Image",
        "video" => "Video",
        "audio" => "Audio",
        _ => "File",
    }
}

/// An inbound attachment message, with its caption as the message text when there is one.
pub fn attachment_message(
    from: Value,
    message_id: &str,
    time: &str,
    a: &Attachment,
    caption: Option<&str>,
) -> Value {
    let mut att =
        json!({ "mediaType": media_type(&a.mime_type), "url": a.url, "mime": a.mime_type });
    if let Some(f) = &a.file_name {
        att["filename"] = json!(f);
    }
    let mut body = json!({
        "channel": { "messageId": message_id, "from": from, "time": time },
        "content": [ { "attachment": att } ]
    });
    if let Some(c) = caption.filter(|c| !c.is_empty()) {
        body["text"] = json!(c);
    }
    body
}

/// A structured response: the user's choice among the agent's quick replies or buttons
/// (`ButtonResponse` with Genesys's `type`), answering `originatingMessageId`.
pub fn structured_response(from: Value, message_id: &str, time: &str, b: &ButtonResponse) -> Value {
    let kind = match b.kind {
        ChoiceKind::QuickReply => "QuickReply",
        ChoiceKind::Button => "Button",
    };
    json!({
        "channel": { "messageId": message_id, "from": from, "time": time },
        "buttonResponse": { "type": kind, "text": b.text, "payload": b.payload },
        "originatingMessageId": b.originating_message_id
    })
}

/// What an inbound message body says: its message id, its text (a structured response's:
/// the label chosen) and its attachment.
pub fn summary(body: &Value) -> Option<(String, Option<String>, Option<Attachment>)> {
    let id = body.pointer("/channel/messageId")?.as_str()?.to_string();
    let text = body
        .get("text")
        .or_else(|| body.pointer("/buttonResponse/text"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let attachment = body.pointer("/content/0/attachment").and_then(|a| {
        let field = |k: &str| a.get(k).and_then(Value::as_str).map(str::to_string);
        Some(Attachment {
            url: field("url")?,
            mime_type: field("mime").unwrap_or_default(),
            file_name: field("filename"),
        })
    });
    Some((id, text, attachment))
}

/// The user is typing.
pub fn typing_event(from: Value, time: &str) -> Value {
    json!({ "channel": { "from": from, "time": time }, "events": [ { "eventType": "Typing" } ] })
}

/// A delivery receipt for an agent message.
pub fn receipt(
    user_id: &str,
    message_id: &str,
    time: &str,
    delivered: bool,
    reason: Option<&str>,
) -> Value {
    let mut v = json!({
        "id": message_id,
        "channel": { "to": { "id": user_id, "idType": "Opaque" }, "time": time },
        "status": if delivered { "Delivered" } else { "Failed" },
        "isFinalReceipt": true
    });
    if !delivered {
        v["reasons"] = json!([{
            "code": "GeneralError",
            "message": reason.filter(|r| !r.is_empty()).unwrap_or("The message could not be delivered to the user")
        }]);
    }
    v
}
