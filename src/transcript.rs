//! The bot transcript sent to the agent as the first message(s) of the handover, with
//! the two optional filters of the feature source (unsupported and empty messages), split
//! to Genesys's text length.

use crate::model::{Speaker, TranscriptEntry};

/// Longest text we put in one Genesys message; longer text is split.
pub const MAX_TEXT_CHARS: usize = 5000;
/// Marker a bot platform uses for content the transcript cannot show.
pub const UNSUPPORTED_MARKER: &str = "UNSUPPORTED_STRUCTURE_DATA";

/// Filters for transcript lines.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filters {
    /// Drop lines with the unsupported-content marker.
    pub drop_unsupported: bool,
    /// Drop lines without text or data.
    pub drop_empty: bool,
}

fn is_unsupported(e: &TranscriptEntry) -> bool {
    e.data
        .as_deref()
        .is_some_and(|d| d.contains(UNSUPPORTED_MARKER))
}

fn is_empty(e: &TranscriptEntry) -> bool {
    e.text.trim().is_empty() && e.data.as_deref().is_none_or(|d| d.trim().is_empty())
}

/// One readable line per entry: `User: ...` / `Bot: ...`.
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
            let text = e.text.trim();
            let body = if !text.is_empty() {
                text.to_string()
            } else if is_unsupported(e) {
                "[unsupported content]".to_string()
            } else if e.data.is_some() {
                "[structured content]".to_string()
            } else {
                "[empty message]".to_string()
            };
            format!("{who}: {body}")
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
}
