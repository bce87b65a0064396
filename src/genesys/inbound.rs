//! Bodies of the inbound Open Messaging API (bot platform → Genesys): messages, typing
//! events and receipts, shaped as `OpenInboundNormalized*` in Genesys's API, and the
//! participant data (routing and custom attributes) the first message carries.

use crate::flatten;
use crate::model::{Attachment, Error, HandoverSettings, UserProfile};
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
}

impl Kind {
    /// The endpoint's name in the path.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Message => "message",
            Kind::Event => "event",
            Kind::Receipt => "receipt",
        }
    }
}

/// Routing attributes the Architect flow reads (`queueId`, `myLanguage`, `mySkills`,
/// `priority`, `userId`, `sessionId`), plus the node's Custom Attributes, flattened and
/// checked against Genesys's limits.
pub fn attributes(
    user: &UserProfile,
    node: &HandoverSettings,
    queue_id: Option<&str>,
) -> Result<BTreeMap<String, String>, Error> {
    let mut attrs = BTreeMap::new();
    let routing = [
        ("queueId", queue_id),
        ("myLanguage", node.language.as_deref()),
        ("mySkills", node.skills.as_deref()),
        ("priority", node.priority.as_deref()),
        ("userId", Some(user.user_id.as_str())),
        ("sessionId", Some(user.session_id.as_str())),
    ];
    for (k, v) in routing {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            attrs.insert(k.to_string(), v.to_string());
        }
    }
    let custom = node.custom_attributes.as_deref();
    if let Some(custom) = custom.filter(|c| !c.trim().is_empty()) {
        for (k, v) in flatten::flatten(custom)? {
            if attrs.contains_key(&k) {
                return Err(Error::InvalidInput(format!(
                    "custom attribute {k:?} collides with a routing attribute of the same name"
                )));
            }
            attrs.insert(k, v);
        }
    }
    flatten::check_limits(&attrs)?;
    Ok(attrs)
}

/// `channel.from`: the end user. Profile fields only when `send_profile` is on.
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

/// An inbound attachment message.
pub fn attachment_message(from: Value, message_id: &str, time: &str, a: &Attachment) -> Value {
    let mut att =
        json!({ "mediaType": media_type(&a.mime_type), "url": a.url, "mime": a.mime_type });
    if let Some(f) = &a.file_name {
        att["filename"] = json!(f);
    }
    json!({
        "channel": { "messageId": message_id, "from": from, "time": time },
        "content": [ { "attachment": att } ]
    })
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
