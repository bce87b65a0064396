//! Genesys outbound webhooks (Genesys → bot platform): the normalized message as Genesys
//! sends it, turned into what the user should see.

use crate::model::{AgentInfo, Attachment, Choice};
use serde::Deserialize;
use serde_json::Value;

/// The fields of an outbound webhook we use; everything is optional on the wire.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    pub id: Option<String>,
    #[serde(default)]
    pub channel: Channel,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub text: Option<String>,
    #[serde(default)]
    pub content: Vec<Value>,
    #[serde(default)]
    pub events: Vec<Value>,
    pub originating_entity: Option<String>,
    pub conversation_id: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Channel {
    pub id: Option<String>,
    pub message_id: Option<String>,
    pub time: Option<String>,
    pub to: Option<Recipient>,
}

#[derive(Debug, Deserialize, Default)]
pub struct Recipient {
    pub id: Option<String>,
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

    pub fn is_bot(&self) -> bool {
        self.originating_entity.as_deref() == Some("Bot")
    }
}

/// What one outbound message shows the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Text(String),
    Attachment(Attachment, Option<String>),
    Choices { text: String, choices: Vec<Choice> },
    Typing,
}

fn s(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

fn quick_reply(q: &Value) -> Option<Choice> {
    let label = s(q, "text").or_else(|| s(q, "title"))?;
    let value = s(q, "payload").unwrap_or_else(|| label.clone());
    Some(Choice { label, value })
}

fn card_choices(card: &Value, out: &mut Vec<Choice>) -> String {
    for a in card
        .get("actions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(label) = s(a, "text") {
            let value = s(a, "payload")
                .or_else(|| s(a, "url"))
                .unwrap_or_else(|| label.clone());
            out.push(Choice { label, value });
        }
    }
    let title = s(card, "title").unwrap_or_default();
    match s(card, "description") {
        Some(d) if !d.is_empty() => format!("{title}\n{d}"),
        _ => title,
    }
}

/// The parts of a `Text` or `Structured` message, in order. Unknown content is skipped.
pub fn parts(w: &Webhook) -> Vec<Part> {
    let text = w.text.clone().filter(|t| !t.is_empty());
    let mut parts = Vec::new();
    let mut choices = Vec::new();
    let mut card_texts = Vec::new();
    for c in &w.content {
        match c.get("contentType").and_then(Value::as_str).unwrap_or("") {
            "Attachment" => {
                if let Some(a) = c.get("attachment") {
                    if let Some(url) = s(a, "url") {
                        let att = Attachment {
                            url,
                            mime_type: s(a, "mime")
                                .unwrap_or_else(|| "application/octet-stream".into()),
                            file_name: s(a, "filename"),
                        };
                        parts.push(Part::Attachment(att, s(a, "text")));
                    }
                }
            }
            "QuickReply" => choices.extend(c.get("quickReply").and_then(quick_reply)),
            "QuickReplyV2" => {
                if let Some(q) = c.get("quickReplyV2") {
                    if let Some(t) = s(q, "title") {
                        card_texts.push(t);
                    }
                    for a in q
                        .get("actions")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        choices.extend(quick_reply(a));
                    }
                }
            }
            "ButtonResponse" => {}
            "Card" => {
                if let Some(card) = c.get("card") {
                    card_texts.push(card_choices(card, &mut choices));
                }
            }
            "Carousel" => {
                for card in c
                    .pointer("/carousel/cards")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    card_texts.push(card_choices(card, &mut choices));
                }
            }
            "Text" => {
                if let Some(b) = c.pointer("/text/body").and_then(Value::as_str) {
                    card_texts.push(b.to_string());
                }
            }
            _ => {}
        }
    }
    if !choices.is_empty() {
        let mut t: Vec<String> = text.iter().cloned().collect();
        t.extend(card_texts.into_iter().filter(|s| !s.is_empty()));
        parts.insert(
            0,
            Part::Choices {
                text: t.join("\n"),
                choices,
            },
        );
    } else {
        let mut t: Vec<String> = text.iter().cloned().collect();
        t.extend(card_texts.into_iter().filter(|s| !s.is_empty()));
        if !t.is_empty() {
            parts.insert(0, Part::Text(t.join("\n")));
        }
    }
    parts
}

/// Whether an `Event` webhook says the agent is typing.
pub fn is_typing(w: &Webhook) -> bool {
    w.events
        .iter()
        .any(|e| e.get("eventType").and_then(Value::as_str) == Some("Typing"))
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

/// The agent as described by `GET /api/v2/users/{id}`: name and the largest image.
pub fn agent_from_user(v: &Value) -> Option<AgentInfo> {
    let name = s(v, "name").filter(|n| !n.is_empty())?;
    let images = v.get("images").and_then(Value::as_array);
    let avatar_url = images.and_then(|imgs| {
        imgs.iter()
            .filter_map(|i| Some((s(i, "resolution").unwrap_or_default(), s(i, "imageUri")?)))
            .max_by_key(|(r, _)| {
                let digits: String = r.chars().filter(char::is_ascii_digit).collect();
                digits.parse::<u64>().unwrap_or(0)
            })
            .map(|(_, u)| u)
    });
    Some(AgentInfo { name, avatar_url })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Webhook {
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
            parts(&w),
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
        assert_eq!(parts(&w), vec![Part::Text("Hello there!".into())]);
    }

    #[test]
    fn quick_replies_and_cards() {
        let w = parse(
            r#"{"type":"Structured","text":"Callback?","content":[
            {"contentType":"QuickReply","quickReply":{"text":"Yes","payload":"y","action":"Message"}},
            {"contentType":"QuickReply","quickReply":{"text":"No","payload":"n"}}]}"#,
        );
        let Part::Choices { text, choices } = &parts(&w)[0] else {
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
        let Part::Choices { text, choices } = &parts(&w)[0] else {
            panic!()
        };
        assert_eq!(text, "A\nB\nbee");
        assert_eq!(choices[0].value, "https://a");
        assert_eq!(choices[1].value, "b");
    }

    #[test]
    fn agent_details() {
        let v: Value = serde_json::from_str(
            r#"{"id":"a","name":"Alex Agent","images":[{"resolution":"x48","imageUri":"https://s/48"},
            {"resolution":"x300","imageUri":"https://s/300"}]}"#,
        )
        .unwrap();
        let a = agent_from_user(&v).unwrap();
        assert_eq!(a.name, "Alex Agent");
        assert_eq!(a.avatar_url.as_deref(), Some("https://s/300"));
    }
}
