//! The bot transcript sent to the agent as the first message(s) of the handover: one
//! readable line per entry (Cognigy's default rich outputs rendered by `rich`, the time when
//! given), the feature source's two optional filters, split to Genesys's text length.

mod rich;

use crate::model::{Speaker, TranscriptEntry};
use rich::Output;

/// Longest text we put in one Genesys message; longer text is split.
pub const MAX_TEXT_CHARS: usize = 5000;
/// Marker a bot platform uses for content the transcript cannot show.
pub const UNSUPPORTED_MARKER: &str = "UNSUPPORTED_STRUCTURE_DATA";
/// Longest time shown before a line, in characters.
const MAX_TIME_CHARS: usize = 40;

/// Filters for transcript lines.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filters {
    /// Drop lines with the unsupported-content marker (in the text or the data).
    pub drop_unsupported: bool,
    /// Drop lines without text or data.
    pub drop_empty: bool,
}

fn is_unsupported(e: &TranscriptEntry) -> bool {
    e.text.contains(UNSUPPORTED_MARKER)
        || e.data
            .as_deref()
            .is_some_and(|d| d.contains(UNSUPPORTED_MARKER))
}

fn is_empty(e: &TranscriptEntry) -> bool {
    e.text.trim().is_empty() && e.data.as_deref().is_none_or(|d| d.trim().is_empty())
}

/// What a line says: its text and rich outputs, or a placeholder.
fn body(e: &TranscriptEntry) -> String {
    let text = e.text.trim();
    let mut body = match text.contains(UNSUPPORTED_MARKER) {
        true => String::new(),
        false => text.to_string(),
    };
    for output in e.data.as_deref().map(rich::outputs).unwrap_or_default() {
        match output {
            // A prompt that repeats the line's text replaces it.
            Output::Inline(s) if s.starts_with(body.as_str()) => body = s,
            Output::Inline(s) => body = format!("{body} {s}"),
            Output::Items(heading, items) => {
                if body.is_empty() {
                    body = heading.to_string();
                }
                for item in items {
                    body.push_str("\n  - ");
                    body.push_str(&item);
                }
            }
        }
    }
    if !body.is_empty() {
        body
    } else if is_unsupported(e) {
        "[unsupported content]".to_string()
    } else if e.data.is_some() {
        "[structured content]".to_string()
    } else {
        "[empty message]".to_string()
    }
}

/// `[time] ` when the entry has one: on one line, at most [`MAX_TIME_CHARS`] characters.
fn time_prefix(e: &TranscriptEntry) -> String {
    let time: String = e
        .time
        .as_deref()
        .unwrap_or("")
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_TIME_CHARS)
        .collect();
    match time.trim() {
        "" => String::new(),
        t => format!("[{t}] "),
    }
}

/// One readable line per entry: `User: ...` / `[time] Bot: ...`.
pub fn lines(entries: &[TranscriptEntry], filters: Filters) -> Vec<String> {
    entries
        .iter()
        .filter(|e| !(filters.drop_unsupported && is_unsupported(e)))
        .filter(|e| !(filters.drop_empty && is_empty(e)))
        .map(|e| {
            let who = match e.speaker {
                Speaker::User => "User",
                Speaker::Bot => "Bot",
                Speaker::Agent => "Agent",
            };
            format!("{}{who}: {}", time_prefix(e), body(e))
        })
        .collect()
}

/// The transcript as message texts of at most [`MAX_TEXT_CHARS`] characters each.
pub fn messages(entries: &[TranscriptEntry], filters: Filters) -> Vec<String> {
    let lines = lines(entries, filters);
    if lines.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut cur = String::from("Transcript of the conversation with the bot:");
    for line in lines {
        for piece in split_chars(&line, MAX_TEXT_CHARS) {
            if cur.chars().count() + 1 + piece.chars().count() > MAX_TEXT_CHARS {
                out.push(std::mem::take(&mut cur));
            }
            if !cur.is_empty() {
                cur.push('\n');
            }
            cur.push_str(&piece);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Split text into pieces of at most `max` characters (on char boundaries).
pub fn split_chars(text: &str, max: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return vec![String::new()];
    }
    chars.chunks(max).map(|c| c.iter().collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(speaker: Speaker, text: &str, data: Option<&str>) -> TranscriptEntry {
        TranscriptEntry {
            speaker,
            text: text.into(),
            data: data.map(Into::into),
            time: None,
        }
    }

    fn sample() -> Vec<TranscriptEntry> {
        vec![
            e(Speaker::User, "I need help", None),
            e(
                Speaker::Bot,
                "",
                Some(r#"{"_cognigy":"UNSUPPORTED_STRUCTURE_DATA"}"#),
            ),
            e(Speaker::User, "   ", None),
            e(Speaker::Bot, "Connecting you to an agent", None),
        ]
    }

    #[test]
    fn filters_off_keep_everything() {
        let l = lines(&sample(), Filters::default());
        assert_eq!(
            l,
            vec![
                "User: I need help",
                "Bot: [unsupported content]",
                "User: [empty message]",
                "Bot: Connecting you to an agent"
            ]
        );
    }

    #[test]
    fn filters_on_drop_lines() {
        let f = Filters {
            drop_unsupported: true,
            drop_empty: false,
        };
        assert_eq!(lines(&sample(), f).len(), 3);
        let f = Filters {
            drop_unsupported: false,
            drop_empty: true,
        };
        assert_eq!(lines(&sample(), f).len(), 3);
        let f = Filters {
            drop_unsupported: true,
            drop_empty: true,
        };
        assert_eq!(
            lines(&sample(), f),
            vec!["User: I need help", "Bot: Connecting you to an agent"]
        );
    }

    #[test]
    fn long_transcripts_are_split() {
        let long: Vec<_> = (0..30)
            .map(|i| e(Speaker::User, &"x".repeat(400 + i), None))
            .collect();
        let m = messages(&long, Filters::default());
        assert!(m.len() >= 3);
        assert!(m.iter().all(|t| t.chars().count() <= MAX_TEXT_CHARS));
        let huge = vec![e(Speaker::Bot, &"é".repeat(12_000), None)];
        assert!(messages(&huge, Filters::default())
            .iter()
            .all(|t| t.chars().count() <= MAX_TEXT_CHARS));
    }

    #[test]
    fn the_marker_is_found_in_the_text_too() {
        let entries = vec![
            e(Speaker::Bot, "UNSUPPORTED_STRUCTURE_DATA", None),
            e(Speaker::Bot, "Hello", None),
        ];
        assert_eq!(
            lines(&entries, Filters::default()),
            vec!["Bot: [unsupported content]", "Bot: Hello"]
        );
        let f = Filters {
            drop_unsupported: true,
            drop_empty: false,
        };
        assert_eq!(lines(&entries, f), vec!["Bot: Hello"]);
    }

    #[test]
    fn rich_outputs_are_readable() {
        let quick = r#"{"_cognigy":{"_default":{"_quickReplies":{"type":"quick_replies","text":"Which parcel?",
            "quickReplies":[{"id":1,"title":"Blue box","contentType":"postback","payload":"blue"},
                            {"id":2,"title":"Red box","contentType":"postback","payload":"red"}]}}}}"#;
        let gallery = r#"{"_cognigy":{"_default":{"_gallery":{"type":"carousel","items":[
            {"title":"Blue box","subtitle":"small","imageUrl":"","buttons":[]},{"title":"Red box"}]}}}}"#;
        let image =
            r#"{"_cognigy":{"_default":{"_image":{"type":"image","imageUrl":"https://i/x.png"}}}}"#;
        let entries = vec![
            e(Speaker::Bot, "Which parcel?", Some(quick)),
            e(Speaker::Bot, "", Some(quick)),
            e(Speaker::Bot, "Here you go:", Some(gallery)),
            e(Speaker::Bot, "", Some(gallery)),
            e(Speaker::Bot, "Your label", Some(image)),
            e(Speaker::Bot, "", Some(r#"{"_cognigy":{"_webchat":{}}}"#)),
        ];
        assert_eq!(
            lines(&entries, Filters::default()),
            vec![
                "Bot: Which parcel? [Blue box | Red box]",
                "Bot: Which parcel? [Blue box | Red box]",
                "Bot: Here you go:\n  - Blue box: small\n  - Red box",
                "Bot: Gallery:\n  - Blue box: small\n  - Red box",
                "Bot: Your label https://i/x.png",
                "Bot: [structured content]",
            ]
        );
    }

    #[test]
    fn a_time_is_shown_when_given() {
        let mut timed = e(Speaker::User, "hi", None);
        timed.time = Some(" 2026-11-25T09:14:03Z ".into());
        let mut blank = e(Speaker::Bot, "hello", None);
        blank.time = Some("  ".into());
        let mut long = e(Speaker::User, "x", None);
        long.time = Some(format!("{}\n", "9".repeat(60)));
        assert_eq!(
            lines(&[timed, blank, long], Filters::default()),
            vec![
                "[2026-11-25T09:14:03Z] User: hi".to_string(),
                "Bot: hello".to_string(),
                format!("[{}] User: x", "9".repeat(40)),
            ]
        );
    }
}
