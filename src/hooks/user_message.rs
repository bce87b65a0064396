//! `user-message`: a user turn or event relayed to Genesys. Messages and structured
//! responses (a choice among the agent's quick replies or buttons) go through the
//! handover's outbox, so one Genesys cannot take yet is kept and re-sent in order (with a
//! note of what they said, for a later `Failed` receipt); typing is sent directly, only
//! when nothing older waits.

use super::start::text_items;
use super::{ignored, no_handover, outcome};
use crate::genesys::inbound::{self, Kind};
use crate::genesys::{Client, Failure};
use crate::model::*;
use crate::outbox;
use crate::ports::Env;
use crate::settings::{keys, ProviderSettings};
use crate::state::{self, sent, Handover};
use crate::time::iso8601;
use crate::transcript::{split_chars, MAX_TEXT_CHARS};
use crate::url_policy;

/// Text sent to the agent when the user comes back.
pub const USER_JOINED: &str = "User joined the conversation";
/// Text sent to the agent when the user goes away.
pub const USER_LEFT: &str = "User left the conversation";

/// An attachment message with the first piece of its caption; the rest of a caption over
/// Genesys's length limit follows as text messages.
fn attachment_items(
    env: &Env,
    user_id: &str,
    a: &Attachment,
    caption: &str,
) -> Vec<(Kind, inbound::Message)> {
    let now = iso8601(env.clock.now_ms());
    let mut pieces = split_chars(caption, MAX_TEXT_CHARS).into_iter();
    let first = pieces.next().unwrap_or_default();
    let from = inbound::from(user_id, None);
    let id = env.clock.new_id();
    let body = inbound::attachment_message(from, &id, &now, a, Some(&first));
    let mut items = vec![(Kind::Message, body)];
    items.extend(pieces.flat_map(|rest| text_items(env, user_id, &rest)));
    items
}

/// The outbox items an event becomes (none for typing, or a switched-off notice). A file
/// whose URL `url_policy` refuses is left out (its caption still goes, as a text).
fn items(env: &Env, h: &Handover, event: &UserEvent) -> Vec<(Kind, inbound::Message)> {
    let user_id = h.user_id.as_str();
    match event {
        UserEvent::Text(text) => text_items(env, user_id, text),
        UserEvent::Attachment(a) => attachment_items(env, user_id, a, ""),
        UserEvent::CaptionedAttachment(c) if !url_policy::allowed(&c.attachment.url) => {
            text_items(env, user_id, &c.caption)
        }
        UserEvent::CaptionedAttachment(c) => {
            attachment_items(env, user_id, &c.attachment, &c.caption)
        }
        UserEvent::Reconnected if h.user_connects_message => text_items(env, user_id, USER_JOINED),
        UserEvent::Disconnected if h.user_disconnects_message => {
            text_items(env, user_id, USER_LEFT)
        }
        UserEvent::ButtonResponse(b) => {
            let now = iso8601(env.clock.now_ms());
            let from = inbound::from(user_id, None);
            let body = inbound::structured_response(from, &env.clock.new_id(), &now, b);
            vec![(Kind::StructuredResponse, body)]
        }
        UserEvent::Typing | UserEvent::Reconnected | UserEvent::Disconnected => Vec::new(),
    }
}

/// Refuse a structured response Genesys could not take: no originating message, an empty
/// label, or a label or payload over `max_chars` (one message, never split).
fn check_choice(b: &ButtonResponse, max_chars: usize) -> Result<(), Error> {
    let limit = max_chars.min(MAX_TEXT_CHARS);
    if b.originating_message_id.trim().is_empty() {
        return Err(Error::InvalidInput(
            "button response needs the originating message id (the send-choices message id)".into(),
        ));
    }
    if b.text.trim().is_empty() {
        return Err(Error::InvalidInput("button response needs a text".into()));
    }
    for (what, v) in [("text", &b.text), ("payload", &b.payload)] {
        let chars = v.chars().count();
        if chars > limit {
            return Err(Error::InvalidInput(format!(
                "button response {what} of {chars} characters is over the limit of {limit}"
            )));
        }
    }
    Ok(())
}

/// Refuse, before anything is stored or sent, what can never be relayed: a text over the
/// tenant's `max-user-text-chars` (one user message may not become an unbounded number of
/// Genesys requests), an attachment without a url or mime type.
fn check(event: &UserEvent, max_chars: usize) -> Result<(), Error> {
    if let UserEvent::CaptionedAttachment(c) = event {
        check(&UserEvent::Text(c.caption.clone()), max_chars)?;
        return check(&UserEvent::Attachment(c.attachment.clone()), max_chars);
    }
    match event {
        UserEvent::Text(text) => {
            let chars = text.chars().count();
            if chars > max_chars {
                return Err(Error::InvalidInput(format!(
                    "user text of {chars} characters is over the limit of {max_chars} ({})",
                    keys::MAX_USER_TEXT_CHARS
                )));
            }
        }
        UserEvent::Attachment(a) if a.url.trim().is_empty() || a.mime_type.trim().is_empty() => {
            return Err(Error::InvalidInput(
                "attachment needs a url and a mime type".into(),
            ));
        }
        UserEvent::ButtonResponse(b) => check_choice(b, max_chars)?,
        _ => {}
    }
    Ok(())
}

/// A captioned attachment without a caption is a plain one.
fn plain(event: &UserEvent) -> UserEvent {
    match event {
        UserEvent::CaptionedAttachment(c) if c.caption.trim().is_empty() => {
            UserEvent::Attachment(c.attachment.clone())
        }
        other => other.clone(),
    }
}

/// The note kept of a message item, for a `Failed` receipt about it.
fn note((kind, body): &(Kind, inbound::Message)) -> Option<sent::Note> {
    if !kind.is_message() {
        return None;
    }
    let (id, text, attachment) = inbound::summary(body)?;
    Some(sent::Note::new(&id, text.as_deref(), attachment.as_ref()))
}

/// Send a typing event; a failure Genesys may get over is only a warning.
fn typing(client: &Client, h: &Handover) -> Result<Vec<Warning>, Error> {
    let now = iso8601(client.env.clock.now_ms());
    let body = inbound::typing_event(inbound::from(&h.user_id, None), &now);
    match client.send_inbound(&h.integration_id, Kind::Event, &body, false) {
        Ok(()) => Ok(Vec::new()),
        Err(e) if Failure::of(&e) == Failure::Aborted => Err(e),
        Err(_) => Ok(vec![Warning::DeliveryPending]),
    }
}

/// The Genesys message id of piece `n` of a turn: SHA-256 over the handover's id, the
/// bot platform's turn id and `n`, as a version-8 UUID. The same turn of the same handover
/// always gets the same ids, so Genesys takes a repeated call's messages once.
fn turn_message_id(hid: &str, turn: &str, n: usize) -> String {
    use sha2::{Digest, Sha256};
    // The handover id is a UUID (no newline); the turn id comes last, so nothing it holds
    // can make two triples one text.
    let d = Sha256::digest(format!("{hid}\n{n}\n{turn}"));
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    crate::ports::uuid_v8(b)
}

/// `user-message`: relay a user turn or user event to Genesys; with the bot platform's
/// `turn` id, under message ids derived from it (see [`turn_message_id`]).
pub fn user_message(
    env: &Env,
    user_id: &str,
    event: &UserEvent,
    turn: Option<&str>,
) -> Result<Outcome, Error> {
    let provider = ProviderSettings::load(env.config)?;
    check(event, provider.max_user_text_chars)?;
    let event = &plain(event);
    let Some(h) = state::handover::load(env.kv, user_id)? else {
        return match event {
            UserEvent::Text(_)
            | UserEvent::Attachment(_)
            | UserEvent::CaptionedAttachment(_)
            | UserEvent::ButtonResponse(_) => Err(no_handover(user_id)),
            _ => Ok(ignored(Some(user_id.to_string()), Warning::NoOpenHandover)),
        };
    };
    let mut warnings = Vec::new();
    if let UserEvent::Attachment(a)
    | UserEvent::CaptionedAttachment(CaptionedAttachment { attachment: a, .. }) = event
    {
        if !url_policy::allowed(&a.url) {
            warnings.push(Warning::UnsafeUrlDropped);
            if let UserEvent::Attachment(_) = event {
                // Nothing else to send: not stored, not sent, the host is told why.
                return Ok(outcome(&h, Vec::new(), warnings));
            }
        }
    }
    let client = Client::new(env, &provider);
    let mut items = items(env, &h, event);
    if let Some(turn) = turn {
        for (n, (_, m)) in items.iter_mut().enumerate() {
            m.channel.message_id = Some(turn_message_id(&h.hid, turn, n));
        }
    }
    let notes: Vec<Option<sent::Note>> = items.iter().map(note).collect();
    let own = outbox::queue(&client, &h, items)?;
    for (n, note) in own.iter().zip(notes) {
        // Best effort: a note only lets a later `Failed` receipt say what the message was.
        if let Some(note) = note {
            let _ = sent::put(env.kv, h.scope(), *n, &note);
        }
    }
    warnings.extend(outbox::deliver(&client, &h, &own)?);
    if *event == UserEvent::Typing && warnings.is_empty() {
        warnings = typing(&client, &h)?;
    }
    // Best effort: once a message went out, a failed bookkeeping write must not turn the
    // answer into an error (an error means "never sent").
    let _ = state::handover::touch(env.kv, &h, env.clock.now_ms());
    Ok(outcome(&h, Vec::new(), warnings))
}
