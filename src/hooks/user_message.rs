//! `user-message`: a user turn or event relayed to Genesys. Messages go through the
//! handover's outbox, so one Genesys cannot take yet is kept and re-sent in order; typing
//! is momentary and sent directly, only when nothing older waits.

use super::start::text_items;
use super::{ignored, no_handover, outcome};
use crate::genesys::inbound::{self, Kind};
use crate::genesys::{Client, Failure};
use crate::model::*;
use crate::outbox;
use crate::ports::Env;
use crate::settings::{keys, ProviderSettings};
use crate::state::{self, Handover};
use crate::time::iso8601;
use crate::url_policy;
use serde_json::Value;

/// Text sent to the agent when the user comes back.
pub const USER_JOINED: &str = "User joined the conversation";
/// Text sent to the agent when the user goes away.
pub const USER_LEFT: &str = "User left the conversation";

/// The outbox items an event becomes (none for typing, or a switched-off notice).
fn items(env: &Env, h: &Handover, event: &UserEvent) -> Vec<(Kind, Value)> {
    let user_id = h.user_id.as_str();
    match event {
        UserEvent::Text(text) => text_items(env, user_id, text),
        UserEvent::Attachment(a) => {
            let now = iso8601(env.clock.now_ms());
            let from = inbound::from(user_id, None);
            let body = inbound::attachment_message(from, &env.clock.new_id(), &now, a);
            vec![(Kind::Message, body)]
        }
        UserEvent::Reconnected if h.user_connects_message => text_items(env, user_id, USER_JOINED),
        UserEvent::Disconnected if h.user_disconnects_message => {
            text_items(env, user_id, USER_LEFT)
        }
        UserEvent::Typing | UserEvent::Reconnected | UserEvent::Disconnected => Vec::new(),
    }
}

/// Refuse, before anything is stored or sent, what can never be relayed: a text over the
/// tenant's `max-user-text-chars` (one user message may not become an unbounded number of
/// Genesys requests), an attachment without a url or mime type.
fn check(event: &UserEvent, max_chars: usize) -> Result<(), Error> {
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
        _ => {}
    }
    Ok(())
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

/// `user-message`: relay a user turn or user event to Genesys.
pub fn user_message(env: &Env, user_id: &str, event: &UserEvent) -> Result<Outcome, Error> {
    let provider = ProviderSettings::load(env.config)?;
    check(event, provider.max_user_text_chars)?;
    let Some(h) = state::handover::load(env.kv, user_id)? else {
        return match event {
            UserEvent::Text(_) | UserEvent::Attachment(_) => Err(no_handover(user_id)),
            _ => Ok(ignored(Some(user_id.to_string()), Warning::NoOpenHandover)),
        };
    };
    if let UserEvent::Attachment(a) = event {
        if !url_policy::allowed(&a.url) {
            // Nothing else to send: not stored, not sent, the host is told why.
            eprintln!(
                "genesys-om: dropped a user attachment whose URL is not https to a public host"
            );
            return Ok(outcome(&h, Vec::new(), vec![Warning::UnsafeUrlDropped]));
        }
    }
    let client = Client::new(env, &provider);
    let items = items(env, &h, event);
    let own = outbox::queue(&client, &h, items)?;
    let mut warnings = outbox::deliver(&client, &h, &own)?;
    if *event == UserEvent::Typing && warnings.is_empty() {
        warnings = typing(&client, &h)?;
    }
    // Best effort: once a message went out, a failed bookkeeping write must not turn the
    // answer into an error (an error means "never sent").
    let _ = state::handover::touch(env.kv, &h, env.clock.now_ms());
    Ok(outcome(&h, Vec::new(), warnings))
}
