//! Bodies of the inbound Open Messaging API (bot platform → Genesys): messages, typing
//! events and receipts, shaped as `OpenInboundNormalized*` in Genesys's API, and structured
//! responses (`OpenInboundStructuredResponseMessage`), as records whose members are named
//! once, here. The participant data the first message carries is built in `attributes.rs`.

use crate::model::{Attachment, ButtonResponse, ChoiceKind, UserProfile};
use serde::{Deserialize, Serialize};
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

/// `OpenMessagingFromRecipient` (and `OpenMessagingToRecipient`): the end user. Profile
/// members only when `send-user-profile` is on and the profile has them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    /// The end user's id (the bot platform's user id).
    pub id: String,
    /// What kind of id it is.
    pub id_type: IdType,
    /// First name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Nickname.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    /// Email address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A recipient's `idType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IdType {
    /// An id that is neither a phone number nor an email address: ours always are.
    Opaque,
}

/// `OpenInboundMessageMessagingChannel` (messages) and `OpenInboundMessagingChannel`
/// (events, without a message id or metadata).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Channel {
    /// The message's id: Genesys answers a repeated one with a 409.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// The end user.
    pub from: Recipient,
    /// When it happened (ISO 8601).
    pub time: String,
    /// The participant data (first message only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<ChannelMetadata>,
}

/// `channel.metadata`: where Genesys takes participant data from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelMetadata {
    /// Attributes Architect's Get Participant Data reads.
    pub custom_attributes: BTreeMap<String, String>,
}

/// A user message: `OpenInboundNormalizedMessage` (text, attachment) or
/// `OpenInboundStructuredResponseMessage` (a choice, with `buttonResponse` and
/// `originatingMessageId`), whichever members it has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// Who, when, and the message id.
    pub channel: Channel,
    /// The text (an attachment's caption).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The attachment (one at most).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub content: Vec<Content>,
    /// The choice, in a structured response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub button_response: Option<ContentButtonResponse>,
    /// The agent's message the choice answers, in a structured response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub originating_message_id: Option<String>,
}

/// `OpenInboundMessageContent`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    /// The file.
    pub attachment: ContentAttachment,
}

/// `OpenContentAttachment`: a file by URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentAttachment {
    /// Genesys's kind of file.
    pub media_type: MediaType,
    /// Where Genesys downloads it.
    pub url: String,
    /// IANA media type.
    pub mime: String,
    /// File name, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

/// An attachment's `mediaType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MediaType {
    /// `image/*`.
    Image,
    /// `video/*`.
    Video,
    /// `audio/*`.
    Audio,
    /// Anything else.
    File,
}

/// `ContentButtonResponse`: the user's choice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentButtonResponse {
    /// Quick reply or button.
    #[serde(rename = "type")]
    pub kind: ButtonType,
    /// The label chosen.
    pub text: String,
    /// The payload of the choice.
    pub payload: String,
}

/// A button response's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ButtonType {
    /// One of the agent's quick replies.
    QuickReply,
    /// One of the agent's buttons.
    Button,
}

/// `OpenInboundNormalizedEvent`: typing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Who and when (no message id).
    pub channel: Channel,
    /// What happened.
    pub events: Vec<OpenEvent>,
}

/// `OpenEvent`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenEvent {
    /// What kind of event.
    pub event_type: EventType,
}

/// An event's `eventType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventType {
    /// The user is typing.
    Typing,
}

/// `OpenInboundNormalizedReceipt`: what became of an agent message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    /// The agent message's id.
    pub id: String,
    /// To whom, and when.
    pub channel: ReceiptChannel,
    /// Delivered or failed.
    pub status: ReceiptStatus,
    /// Always true: no other receipt follows.
    pub is_final_receipt: bool,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<Reason>,
}

/// `OpenInboundMessagingReceiptChannel`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptChannel {
    /// The end user the agent message was for.
    pub to: Recipient,
    /// When (ISO 8601).
    pub time: String,
}

/// A receipt's `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReceiptStatus {
    /// The user got it.
    Delivered,
    /// The user did not get it.
    Failed,
}

/// `ConversationReason`: why a message failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// Genesys's reason code.
    pub code: ReasonCode,
    /// What happened, for the agent.
    pub message: String,
}

/// A reason's `code` (the one we send).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReasonCode {
    /// Anything that is not one of Genesys's more specific codes.
    GeneralError,
}

/// `channel.from`: the end user. Profile members only when `send-user-profile` is on
/// (`profile`), and only those that are not empty.
pub fn from(user_id: &str, profile: Option<&UserProfile>) -> Recipient {
    let member = |v: fn(&UserProfile) -> &Option<String>| {
        profile
            .and_then(|p| v(p).as_deref())
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    Recipient {
        id: user_id.to_string(),
        id_type: IdType::Opaque,
        first_name: member(|p| &p.first_name),
        last_name: member(|p| &p.last_name),
        nickname: member(|p| &p.nickname),
        email: member(|p| &p.email),
    }
}

/// The channel of a user message.
fn channel(from: Recipient, message_id: &str, time: &str) -> Channel {
    Channel {
        message_id: Some(message_id.to_string()),
        from,
        time: time.to_string(),
        metadata: None,
    }
}

/// An inbound text message, optionally with custom attributes (first message only).
pub fn text_message(
    from: Recipient,
    message_id: &str,
    time: &str,
    text: &str,
    attrs: Option<&BTreeMap<String, String>>,
) -> Message {
    let metadata = attrs.map(|a| ChannelMetadata {
        custom_attributes: a.clone(),
    });
    Message {
        channel: Channel {
            metadata,
            ..channel(from, message_id, time)
        },
        text: Some(text.to_string()),
        content: Vec::new(),
        button_response: None,
        originating_message_id: None,
    }
}

/// Genesys's attachment media type for an IANA type.
pub fn media_type(mime: &str) -> MediaType {
    match mime
        .split('/')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
        .as_str()
    {
        "image" => MediaType::Image,
        "video" => MediaType::Video,
        "audio" => MediaType::Audio,
        _ => MediaType::File,
    }
}

/// An inbound attachment message, with its caption as the message text when there is one.
pub fn attachment_message(
    from: Recipient,
    message_id: &str,
    time: &str,
    a: &Attachment,
    caption: Option<&str>,
) -> Message {
    let attachment = ContentAttachment {
        media_type: media_type(&a.mime_type),
        url: a.url.clone(),
        mime: a.mime_type.clone(),
        filename: a.file_name.clone(),
    };
    Message {
        channel: channel(from, message_id, time),
        text: caption.filter(|c| !c.is_empty()).map(str::to_string),
        content: vec![Content { attachment }],
        button_response: None,
        originating_message_id: None,
    }
}

/// A structured response: the user's choice among the agent's quick replies or buttons
/// (`ButtonResponse` with Genesys's `type`), answering `originatingMessageId`.
pub fn structured_response(
    from: Recipient,
    message_id: &str,
    time: &str,
    b: &ButtonResponse,
) -> Message {
    let kind = match b.kind {
        ChoiceKind::QuickReply => ButtonType::QuickReply,
        ChoiceKind::Button => ButtonType::Button,
    };
    Message {
        channel: channel(from, message_id, time),
        text: None,
        content: Vec::new(),
        button_response: Some(ContentButtonResponse {
            kind,
            text: b.text.clone(),
            payload: b.payload.clone(),
        }),
        originating_message_id: Some(b.originating_message_id.clone()),
    }
}

/// What a user message says: its message id, its text (a structured response's: the label
/// chosen) and its attachment.
pub fn summary(body: &Message) -> Option<(String, Option<String>, Option<Attachment>)> {
    let id = body.channel.message_id.clone()?;
    let text = body
        .text
        .clone()
        .or_else(|| body.button_response.as_ref().map(|b| b.text.clone()));
    let attachment = body.content.first().map(|c| Attachment {
        url: c.attachment.url.clone(),
        mime_type: c.attachment.mime.clone(),
        file_name: c.attachment.filename.clone(),
    });
    Some((id, text, attachment))
}

/// The user is typing.
pub fn typing_event(from: Recipient, time: &str) -> Event {
    Event {
        channel: Channel {
            message_id: None,
            from,
            time: time.to_string(),
            metadata: None,
        },
        events: vec![OpenEvent {
            event_type: EventType::Typing,
        }],
    }
}

/// A delivery receipt for an agent message.
pub fn receipt(
    user_id: &str,
    message_id: &str,
    time: &str,
    delivered: bool,
    reason: Option<&str>,
) -> Receipt {
    let reasons = match delivered {
        true => Vec::new(),
        false => vec![Reason {
            code: ReasonCode::GeneralError,
            message: reason
                .filter(|r| !r.is_empty())
                .unwrap_or("The message could not be delivered to the user")
                .to_string(),
        }],
    };
    Receipt {
        id: message_id.to_string(),
        channel: ReceiptChannel {
            to: from(user_id, None),
            time: time.to_string(),
        },
        status: match delivered {
            true => ReceiptStatus::Delivered,
            false => ReceiptStatus::Failed,
        },
        is_final_receipt: true,
        reasons,
    }
}

#[cfg(test)]
#[path = "inbound_tests.rs"]
mod tests;
