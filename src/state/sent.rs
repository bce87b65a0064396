//! What the user's recent messages said, so a `Failed` receipt from Genesys can name the
//! message it is about: one note per outbox item, under the item's number (one write, no
//! index of its own); a receipt looks through the newest [`SCAN`] of them.

use super::keys::Scope;
use super::{get_json_lenient, set_json};
use crate::model::{Attachment, Error};
use crate::ports::Kv;
use serde::{Deserialize, Serialize};

/// How many of the newest outbox items a receipt looks through.
pub const SCAN: u64 = 100;
/// How much of a text a note keeps, in characters.
pub const TEXT_CHARS: usize = 200;

/// What one user message said.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Note {
    /// The message's Genesys id (`channel.messageId`).
    pub message_id: String,
    /// Its text or caption, cut to [`TEXT_CHARS`] characters.
    pub text: Option<String>,
    /// Its file.
    pub file: Option<File>,
}

/// A file as a note keeps it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct File {
    /// Where it can be fetched.
    pub url: String,
    /// IANA media type.
    pub mime_type: String,
    /// File name.
    pub file_name: Option<String>,
}

impl Note {
    /// A note of a message: `text` is cut to [`TEXT_CHARS`] characters.
    pub fn new(message_id: &str, text: Option<&str>, file: Option<&Attachment>) -> Note {
        Note {
            message_id: message_id.to_string(),
            text: text
                .filter(|t| !t.is_empty())
                .map(|t| t.chars().take(TEXT_CHARS).collect()),
            file: file.map(|a| File {
                url: a.url.clone(),
                mime_type: a.mime_type.clone(),
                file_name: a.file_name.clone(),
            }),
        }
    }

    /// The file, when the message was an attachment.
    pub fn attachment(&self) -> Option<Attachment> {
        self.file.clone().map(|f| Attachment {
            url: f.url,
            mime_type: f.mime_type,
            file_name: f.file_name,
        })
    }
}

/// Keep the note of outbox item `n`.
pub fn put(kv: &dyn Kv, scope: Scope, n: u64, note: &Note) -> Result<(), Error> {
    set_json(kv, &scope.sent(n), note)
}

/// The note of `message_id` among the newest [`SCAN`] items up to `newest`.
pub fn find(
    kv: &dyn Kv,
    scope: Scope,
    newest: u64,
    message_id: &str,
) -> Result<Option<Note>, Error> {
    for n in (newest.saturating_sub(SCAN - 1).max(1)..=newest).rev() {
        let note: Option<Note> = get_json_lenient(kv, &scope.sent(n))?;
        if let Some(note) = note.filter(|note| note.message_id == message_id) {
            return Ok(Some(note));
        }
    }
    Ok(None)
}

/// The notes of items 1 to `last` (removed before the outbox forgets its count).
pub(super) fn keys_upto(out: &mut Vec<String>, scope: Scope, last: u64) {
    for n in 1..=last {
        out.push(scope.sent(n));
    }
}
