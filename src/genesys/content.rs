//! The content of an outbound message turned into parts the user can be shown: text,
//! attachments, quick replies, buttons and cards (attachments and links whose URL
//! `url_policy` refuses are left out), with a plain-text fallback for choices.

use super::outbound::{self, Card, ContentAttachment, Reply, Webhook};
use crate::model::{Attachment, Choice};
use crate::url_policy;
use std::borrow::Cow;

/// What one outbound message shows the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Text.
    Text(String),
    /// A file, with its caption.
    Attachment(Attachment, Option<String>),
    /// Choices with their prompt.
    Choices {
        /// Prompt or card texts.
        text: String,
        /// The choices, in order.
        choices: Vec<Choice>,
    },
}

/// A member's string, owned.
fn owned(t: &Option<Cow<'_, str>>) -> Option<String> {
    t.as_deref().map(str::to_string)
}

fn quick_reply(q: &Reply) -> Option<Choice> {
    let label = owned(&q.text).or_else(|| owned(&q.title))?;
    let value = owned(&q.payload).unwrap_or_else(|| label.clone());
    Some(Choice { label, value })
}

/// A card's choices go to `out`; a link button whose URL is refused is left out and
/// `dropped` set.
fn card_choices(card: &Card, out: &mut Vec<Choice>, dropped: &mut bool) -> String {
    for a in &card.actions {
        if let Some(label) = owned(&a.text) {
            let value = match (owned(&a.payload), a.url.as_deref()) {
                (Some(payload), _) => payload,
                (None, Some(url)) if !url_policy::allowed(url) => {
                    *dropped = true;
                    continue;
                }
                (None, Some(url)) => url.to_string(),
                (None, None) => label.clone(),
            };
            out.push(Choice { label, value });
        }
    }
    let title = owned(&card.title).unwrap_or_default();
    match card.description.as_deref() {
        Some(d) if !d.is_empty() => format!("{title}\n{d}"),
        _ => title,
    }
}

/// An attachment part; `Err` when its URL is refused.
fn attachment(a: &ContentAttachment) -> Option<Result<Part, ()>> {
    let url = a.url.as_deref()?;
    if !url_policy::allowed(url) {
        return Some(Err(()));
    }
    let att = Attachment {
        url: url.to_string(),
        mime_type: owned(&a.mime).unwrap_or_else(|| "application/octet-stream".into()),
        file_name: owned(&a.filename),
    };
    Some(Ok(Part::Attachment(att, owned(&a.text))))
}

/// What the content items of a message hold, gathered in order.
#[derive(Default)]
struct Content {
    parts: Vec<Part>,
    choices: Vec<Choice>,
    texts: Vec<String>,
    unsafe_url_dropped: bool,
}

impl Content {
    /// Take in one content item; unknown ones are skipped.
    fn add(&mut self, c: &outbound::Content) {
        match c.content_type.as_deref().unwrap_or("") {
            "Attachment" => match c.attachment.as_ref().and_then(attachment) {
                Some(Ok(part)) => self.parts.push(part),
                Some(Err(())) => self.unsafe_url_dropped = true,
                None => {}
            },
            "QuickReply" => self
                .choices
                .extend(c.quick_reply.as_ref().and_then(quick_reply)),
            "QuickReplyV2" => {
                if let Some(q) = &c.quick_reply_v2 {
                    self.texts.extend(owned(&q.title));
                    self.choices
                        .extend(q.actions.iter().filter_map(quick_reply));
                }
            }
            "Card" => {
                if let Some(card) = &c.card {
                    let dropped = &mut self.unsafe_url_dropped;
                    self.texts
                        .push(card_choices(card, &mut self.choices, dropped));
                }
            }
            "Carousel" => {
                for card in c.carousel.iter().flat_map(|c| &c.cards) {
                    let dropped = &mut self.unsafe_url_dropped;
                    self.texts
                        .push(card_choices(card, &mut self.choices, dropped));
                }
            }
            "Text" => self
                .texts
                .extend(c.text.as_ref().and_then(|t| owned(&t.body))),
            _ => {}
        }
    }
}

/// What a message shows the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// The parts, in order.
    pub parts: Vec<Part>,
    /// An attachment or link was left out because `url_policy` refused its URL.
    pub unsafe_url_dropped: bool,
}

/// The parts of a `Text` or `Structured` message, in order: the text (or the choices with
/// their prompt) first, then attachments. Unknown content is skipped; attachments and link
/// buttons with a refused URL are left out.
pub fn parts(w: &Webhook) -> Shown {
    let mut content = Content::default();
    for c in &w.content {
        content.add(c);
    }
    let mut text: Vec<String> = owned(&w.text)
        .filter(|t| !t.is_empty())
        .into_iter()
        .collect();
    text.extend(content.texts.into_iter().filter(|s| !s.is_empty()));
    let mut parts = content.parts;
    if !content.choices.is_empty() {
        let choices = content.choices;
        parts.insert(
            0,
            Part::Choices {
                text: text.join("\n"),
                choices,
            },
        );
    } else if !text.is_empty() {
        parts.insert(0, Part::Text(text.join("\n")));
    }
    Shown {
        parts,
        unsafe_url_dropped: content.unsafe_url_dropped,
    }
}

/// Whether an `Event` webhook says the agent is typing.
pub fn is_typing(w: &Webhook) -> bool {
    w.events
        .iter()
        .any(|e| e.event_type.as_deref() == Some("Typing"))
}

/// Plain-text rendering of choices, for channels without buttons.
pub fn fallback(text: &str, choices: &[Choice]) -> String {
    let labels: Vec<&str> = choices.iter().map(|c| c.label.as_str()).collect();
    if text.is_empty() {
        format!("Options: {}", labels.join(" | "))
    } else {
        format!("{text}\nOptions: {}", labels.join(" | "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Webhook<'_> {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn text_and_attachment() {
        let w = parse(
            r#"{"id":"8085","channel":{"to":{"id":"u1"}},"type":"Text","content":[{"contentType":"Attachment",
            "attachment":{"mediaType":"Image","url":"https://x/y.png","mime":"image/png","filename":"y.png"}}],
            "originatingEntity":"Human"}"#,
        );
        assert_eq!(w.user_id(), Some("u1"));
        assert_eq!(
            parts(&w).parts,
            vec![Part::Attachment(
                Attachment {
                    url: "https://x/y.png".into(),
                    mime_type: "image/png".into(),
                    file_name: Some("y.png".into())
                },
                None
            )]
        );
        let w = parse(r#"{"type":"Text","text":"Hello there!"}"#);
        assert_eq!(parts(&w).parts, vec![Part::Text("Hello there!".into())]);
    }

    #[test]
    fn quick_replies_and_cards() {
        let w = parse(
            r#"{"type":"Structured","text":"Callback?","content":[
            {"contentType":"QuickReply","quickReply":{"text":"Yes","payload":"y","action":"Message"}},
            {"contentType":"QuickReply","quickReply":{"text":"No","payload":"n"}}]}"#,
        );
        let Part::Choices { text, choices } = &parts(&w).parts[0] else {
            panic!()
        };
        assert_eq!(text, "Callback?");
        assert_eq!(choices.len(), 2);
        assert_eq!(fallback(text, choices), "Callback?\nOptions: Yes | No");
        let w = parse(
            r#"{"type":"Structured","content":[{"contentType":"Carousel","carousel":{"cards":[
            {"title":"A","actions":[{"type":"Link","text":"Open","url":"https://a"}]},
            {"title":"B","description":"bee","actions":[{"type":"Postback","text":"Pick","payload":"b"}]}]}}]}"#,
        );
        let Part::Choices { text, choices } = &parts(&w).parts[0] else {
            panic!()
        };
        assert_eq!(text, "A\nB\nbee");
        assert_eq!(choices[0].value, "https://a");
        assert_eq!(choices[1].value, "b");
    }
}
