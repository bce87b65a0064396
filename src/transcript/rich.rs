//! Cognigy's default rich outputs (`data._cognigy._default`: `_quickReplies`, `_buttons`,
//! `_gallery`, `_list`, `_image`, `_audio`, `_video`, as Cognigy's webchat types define them)
//! rendered as text an agent can read: choices in brackets, media as their URLs.

use serde_json::Value;

/// One rendered output: inline text, or items shown one per line under a heading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Goes on the line, e.g. `Which parcel? [Blue box | Red box]` or a media URL.
    Inline(String),
    /// A gallery or list: its heading and one line per item.
    Items(&'static str, Vec<String>),
}

/// Renders one kind of output.
type Render = fn(&Value) -> Option<Output>;

/// The default outputs in a line's data, in a fixed order; empty when there are none.
pub fn outputs(data: &str) -> Vec<Output> {
    // From bytes, as every other JSON the component reads: one instance of the parser.
    let Ok(v) = serde_json::from_slice::<Value>(data.as_bytes()) else {
        return Vec::new();
    };
    let Some(default) = v
        .pointer("/_cognigy/_default")
        .or_else(|| v.get("_default"))
    else {
        return Vec::new();
    };
    let renderers: [(&str, Render); 7] = [
        ("_quickReplies", quick_replies),
        ("_buttons", buttons),
        ("_gallery", |g| items(g, "Gallery:")),
        ("_list", |l| items(l, "List:")),
        ("_image", |m| {
            media(m, "imageUrl", "imageAltText", "[image]")
        }),
        ("_audio", |m| {
            media(m, "audioUrl", "audioAltText", "[audio]")
        }),
        ("_video", |m| {
            media(m, "videoUrl", "videoAltText", "[video]")
        }),
    ];
    renderers
        .iter()
        .filter_map(|(key, render)| default.get(*key).filter(|o| o.is_object()).and_then(render))
        .collect()
}

/// Text of a field, on one line (control characters become spaces), trimmed.
fn text(v: &Value, key: &str) -> Option<String> {
    let s = v.get(key)?.as_str()?;
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

/// A URL worth showing: `http(s)://`, nothing a viewer could run.
fn url(v: &Value, key: &str) -> Option<String> {
    let u = text(v, key)?;
    let lower = u.to_ascii_lowercase();
    let web = lower.starts_with("https://") || lower.starts_with("http://");
    (web && !u.contains(char::is_whitespace)).then_some(u)
}

fn array<'v>(v: &'v Value, key: &str) -> impl Iterator<Item = &'v Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

/// `label` and what it leads to: a link's URL, a phone button's number.
fn button(b: &Value) -> Option<String> {
    let title = text(b, "title")?;
    let target = match b.get("type").and_then(Value::as_str) {
        Some("web_url") => url(b, "url"),
        Some("phone_number") => text(b, "payload"),
        _ => None,
    };
    Some(match target {
        Some(t) => format!("{title} ({t})"),
        None => title,
    })
}

fn bracketed(labels: Vec<String>) -> Option<String> {
    (!labels.is_empty()).then(|| format!("[{}]", labels.join(" | ")))
}

fn prompt_with(prompt: Option<String>, labels: Vec<String>) -> Option<Output> {
    let parts: Vec<String> = prompt.into_iter().chain(bracketed(labels)).collect();
    (!parts.is_empty()).then(|| Output::Inline(parts.join(" ")))
}

fn quick_replies(q: &Value) -> Option<Output> {
    let labels = array(q, "quickReplies")
        .filter_map(|r| text(r, "title"))
        .collect();
    prompt_with(text(q, "text"), labels)
}

fn buttons(b: &Value) -> Option<Output> {
    prompt_with(
        text(b, "text"),
        array(b, "buttons").filter_map(button).collect(),
    )
}

/// A gallery card or list item: `title: subtitle [buttons]`.
fn item(i: &Value) -> Option<String> {
    let head = match (text(i, "title"), text(i, "subtitle")) {
        (Some(t), Some(s)) => format!("{t}: {s}"),
        (Some(t), None) => t,
        (None, Some(s)) => s,
        (None, None) => String::new(),
    };
    let parts: Vec<String> = Some(head)
        .filter(|h| !h.is_empty())
        .into_iter()
        .chain(bracketed(array(i, "buttons").filter_map(button).collect()))
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

fn items(v: &Value, heading: &'static str) -> Option<Output> {
    let mut lines: Vec<String> = array(v, "items").filter_map(item).collect();
    // A list's own button (e.g. "Show more").
    lines.extend(v.get("button").and_then(button).map(|b| format!("[{b}]")));
    (!lines.is_empty()).then_some(Output::Items(heading, lines))
}

fn media(m: &Value, url_key: &str, alt_key: &str, unknown: &str) -> Option<Output> {
    let shown = url(m, url_key).unwrap_or_else(|| unknown.to_string());
    Some(Output::Inline(match text(m, alt_key) {
        Some(alt) => format!("{shown} ({alt})"),
        None => shown,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn of(default: Value) -> Vec<Output> {
        outputs(&json!({ "_cognigy": { "_default": default } }).to_string())
    }

    fn inline(s: &str) -> Vec<Output> {
        vec![Output::Inline(s.into())]
    }

    #[test]
    fn quick_replies_and_buttons() {
        let q = json!({ "_quickReplies": { "type": "quick_replies", "text": "Which parcel?",
            "quickReplies": [ { "id": 1, "title": "Blue box", "contentType": "postback", "payload": "blue" },
                              { "id": 2, "title": "Red box", "contentType": "postback", "payload": "red" } ] } });
        assert_eq!(of(q), inline("Which parcel? [Blue box | Red box]"));
        let b = json!({ "_buttons": { "type": "buttons", "text": "Need more?", "buttons": [
            { "title": "Track", "type": "web_url", "url": "https://track.example/4711" },
            { "title": "Call us", "type": "phone_number", "payload": "+4930123" },
            { "title": "Bad", "type": "web_url", "url": "javascript:alert(1)" },
            { "title": "Agent", "type": "postback", "payload": "agent" } ] } });
        assert_eq!(
            of(b),
            inline("Need more? [Track (https://track.example/4711) | Call us (+4930123) | Bad | Agent]")
        );
    }

    #[test]
    fn galleries_and_lists_are_one_line_per_item() {
        let g = json!({ "_gallery": { "type": "carousel", "items": [
            { "id": 1, "title": "Blue box", "subtitle": "small", "imageUrl": "https://i/b.png",
              "buttons": [ { "title": "Choose", "type": "postback", "payload": "b" } ] },
            { "id": 2, "title": "Red box", "subtitle": "", "imageUrl": "" } ] } });
        let want = vec![
            "Blue box: small [Choose]".to_string(),
            "Red box".to_string(),
        ];
        assert_eq!(of(g), vec![Output::Items("Gallery:", want)]);
        let l = json!({ "_list": { "type": "list", "items": [ { "title": "One", "subtitle": "first" } ],
            "button": { "title": "More", "type": "postback", "payload": "more" } } });
        let want = vec!["One: first".to_string(), "[More]".to_string()];
        assert_eq!(of(l), vec![Output::Items("List:", want)]);
    }

    #[test]
    fn media_are_their_urls() {
        let m = json!({ "_image": { "type": "image", "imageUrl": "https://i/x.png", "imageAltText": "A box" },
            "_audio": { "type": "audio", "audioUrl": "https://a/x.mp3", "audioAltText": "" },
            "_video": { "type": "video", "videoUrl": "data:video/mp4;base64,AAAA" } });
        let want = vec![
            Output::Inline("https://i/x.png (A box)".into()),
            Output::Inline("https://a/x.mp3".into()),
            Output::Inline("[video]".into()),
        ];
        assert_eq!(of(m), want);
    }

    #[test]
    fn other_data_has_no_outputs() {
        for data in [
            "",
            "not json",
            "[]",
            r#"{"_cognigy":{"_webchat":{}}}"#,
            r#"{"_cognigy":{"_default":{"_quickReplies":null,"_image":"x"}}}"#,
        ] {
            assert!(outputs(data).is_empty(), "{data}");
        }
        assert_eq!(
            outputs(r#"{"_default":{"_image":{"imageUrl":"https://i/y.png"}}}"#),
            inline("https://i/y.png")
        );
    }
}
