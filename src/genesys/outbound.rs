//! Genesys outbound webhooks (Genesys → bot platform): the normalized message as Genesys
//! sends it, with what it is (human or bot, a `Failed` receipt) and how its copies are
//! recognised. Its content is turned into parts for the user in `content.rs`; which actions
//! a webhook produces is decided in `webhook.rs`.

use crate::model::FailureReason;
use serde::Deserialize;
use std::borrow::Cow;

/// A string member of a webhook, borrowed from the body when it has no escapes.
type Text<'a> = Option<Cow<'a, str>>;

/// The fields of an outbound webhook we use, borrowed from the body it was parsed from;
/// everything is optional on the wire, and unknown members are ignored.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Webhook<'a> {
    /// Message id (Genesys retries carry the same one).
    #[serde(borrow)]
    pub id: Text<'a>,
    /// Channel: integration, recipient, time.
    #[serde(default, borrow)]
    pub channel: Channel<'a>,
    /// `Text`, `Structured`, `Event`, `Receipt`, ...
    #[serde(rename = "type", borrow)]
    pub kind: Text<'a>,
    /// Message text.
    #[serde(borrow)]
    pub text: Text<'a>,
    /// Content items (attachments, quick replies, cards, ...).
    #[serde(default, borrow)]
    pub content: Vec<Content<'a>>,
    /// Events (typing).
    #[serde(default, borrow)]
    pub events: Vec<Event<'a>>,
    /// `Human` or `Bot`.
    #[serde(borrow)]
    pub originating_entity: Text<'a>,
    /// The Genesys conversation, when Genesys names it.
    #[serde(borrow)]
    pub conversation_id: Text<'a>,
    /// A receipt's status: `Sent`, `Delivered`, `Read`, `Failed`, `Published`, `Removed`.
    #[serde(borrow)]
    pub status: Text<'a>,
    /// A `Failed` receipt's reasons.
    #[serde(default, borrow)]
    pub reasons: Vec<Reason<'a>>,
}

/// `channel` of an outbound message.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Channel<'a> {
    /// The integration id.
    #[serde(borrow)]
    pub id: Text<'a>,
    /// Message id, when the top-level one is missing.
    #[serde(borrow)]
    pub message_id: Text<'a>,
    /// When Genesys sent it.
    #[serde(borrow)]
    pub time: Text<'a>,
    /// The end user.
    #[serde(borrow)]
    pub to: Option<Recipient<'a>>,
}

/// `channel.to` of an outbound message.
#[derive(Debug, Deserialize, Default)]
pub struct Recipient<'a> {
    /// The end user's id (our `channel.from.id`).
    #[serde(borrow)]
    pub id: Text<'a>,
}

/// One content item (`ConversationMessageContent`): which member is set depends on
/// `contentType`; `content.rs` reads the one it names.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Content<'a> {
    /// `Attachment`, `QuickReply`, `QuickReplyV2`, `Card`, `Carousel`, `Text`, ...
    #[serde(borrow)]
    pub content_type: Text<'a>,
    /// A file.
    #[serde(borrow)]
    pub attachment: Option<ContentAttachment<'a>>,
    /// One quick reply.
    #[serde(borrow)]
    pub quick_reply: Option<Reply<'a>>,
    /// Quick replies with a title.
    #[serde(rename = "quickReplyV2", borrow)]
    pub quick_reply_v2: Option<QuickReplyV2<'a>>,
    /// A card.
    #[serde(borrow)]
    pub card: Option<Card<'a>>,
    /// Cards.
    #[serde(borrow)]
    pub carousel: Option<Carousel<'a>>,
    /// Text content.
    #[serde(borrow)]
    pub text: Option<TextContent<'a>>,
}

/// `ConversationContentAttachment`.
#[derive(Debug, Deserialize, Default)]
pub struct ContentAttachment<'a> {
    /// Where the file is.
    #[serde(borrow)]
    pub url: Text<'a>,
    /// Its media type.
    #[serde(borrow)]
    pub mime: Text<'a>,
    /// Its file name.
    #[serde(borrow)]
    pub filename: Text<'a>,
    /// The caption.
    #[serde(borrow)]
    pub text: Text<'a>,
}

/// Something the user can pick: a quick reply (`ConversationContentQuickReply`, or an action
/// of a `QuickReplyV2`: `text` or `title`, `payload`) or a card's button
/// (`ConversationContentCardAction`: `text`, and a postback's `payload` or a link's `url`).
/// One record for both, since they share their members.
#[derive(Debug, Deserialize, Default)]
pub struct Reply<'a> {
    /// The label.
    #[serde(borrow)]
    pub text: Text<'a>,
    /// The label, in the V2 form.
    #[serde(borrow)]
    pub title: Text<'a>,
    /// The value sent back (a quick reply's or a postback's).
    #[serde(borrow)]
    pub payload: Text<'a>,
    /// A link button's URL.
    #[serde(borrow)]
    pub url: Text<'a>,
}

/// `ConversationContentQuickReplyV2`.
#[derive(Debug, Deserialize, Default)]
pub struct QuickReplyV2<'a> {
    /// The prompt.
    #[serde(borrow)]
    pub title: Text<'a>,
    /// The replies.
    #[serde(default, borrow)]
    pub actions: Vec<Reply<'a>>,
}

/// `ConversationContentCard`.
#[derive(Debug, Deserialize, Default)]
pub struct Card<'a> {
    /// Title.
    #[serde(borrow)]
    pub title: Text<'a>,
    /// Description.
    #[serde(borrow)]
    pub description: Text<'a>,
    /// Buttons: postbacks and links.
    #[serde(default, borrow)]
    pub actions: Vec<Reply<'a>>,
}

/// `ConversationContentCarousel`.
#[derive(Debug, Deserialize, Default)]
pub struct Carousel<'a> {
    /// The cards.
    #[serde(default, borrow)]
    pub cards: Vec<Card<'a>>,
}

/// `ConversationContentText`.
#[derive(Debug, Deserialize, Default)]
pub struct TextContent<'a> {
    /// The text.
    #[serde(borrow)]
    pub body: Text<'a>,
}

/// One event of an `Event` message.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Event<'a> {
    /// `Typing`, `Presence`, ...
    #[serde(borrow)]
    pub event_type: Text<'a>,
}

/// `ConversationReason`.
#[derive(Debug, Deserialize, Default)]
pub struct Reason<'a> {
    /// Genesys's reason code.
    #[serde(borrow)]
    pub code: Text<'a>,
    /// Genesys's explanation.
    #[serde(borrow)]
    pub message: Text<'a>,
}

impl Webhook<'_> {
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

    /// The Genesys conversation it names, if any (`conversationId`; optional in the older
    /// documentation).
    pub fn conversation_id(&self) -> Option<&str> {
        self.conversation_id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// When Genesys sent it (`channel.time`), if that reads as an ISO-8601 time.
    pub fn sent_ms(&self) -> Option<u64> {
        crate::time::parse_iso8601(self.channel.time.as_deref()?)
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
                let code = r.code.as_deref().filter(|c| !c.is_empty()).map(Into::into);
                let message = r.message.as_deref().unwrap_or_default().to_string();
                (code.is_some() || !message.is_empty()).then_some(FailureReason { code, message })
            })
            .collect();
        Some((self.message_id()?.to_string(), reasons))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Webhook<'_> {
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
