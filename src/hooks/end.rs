//! `end`: decide whether a signal ends the handover (Genesys events, the user or the bot
//! closing, an inactivity tick), track transfers and agents joining (`agent_joined.rs`), and
//! when it ends, end it once: close the Genesys side if we are the ones closing, then
//! remove every key.

use super::start::text_items;
use super::{agent_joined, ignored, outcome};
use crate::genesys::events::{self, Event, Topic};
use crate::genesys::Client;
use crate::model::*;
use crate::outbox;
use crate::ports::Env;
use crate::settings::ProviderSettings;
use crate::state::ending::{self, Ending};
use crate::state::{self, Handover};

/// `end`: decide whether a signal ends the handover, and clean up if it does.
pub fn end(env: &Env, signal: &EndSignal) -> Result<Outcome, Error> {
    let provider = ProviderSettings::load(env.config)?;
    let client = Client::new(env, &provider);
    match signal {
        EndSignal::GenesysEvent(bytes) => genesys_event(&client, bytes),
        EndSignal::UserLeft(user_id) => closed_here(&client, user_id, EndReason::UserLeft),
        EndSignal::BotClosed(user_id) => closed_here(&client, user_id, EndReason::BotClosed),
        EndSignal::InactivityCheck(user_id) => inactivity_check(&client, user_id),
    }
}

/// The user or the bot closed the handover: Genesys's side is closed too.
fn closed_here(client: &Client, user_id: &str, reason: EndReason) -> Result<Outcome, Error> {
    match state::handover::load(client.env.kv, user_id)? {
        Some(h) => finish(client, &h, reason, true),
        None => Ok(ignored(Some(user_id.to_string()), Warning::NoOpenHandover)),
    }
}

/// An inactivity tick: ends the handover once it was idle for its timeout (the node's,
/// else the tenant's); before that, within `inactivity-warning-secs` of it, warns once per
/// idle period.
fn inactivity_check(client: &Client, user_id: &str) -> Result<Outcome, Error> {
    let kv = client.env.kv;
    let Some(h) = state::handover::load(kv, user_id)? else {
        return Ok(ignored(Some(user_id.to_string()), Warning::NoOpenHandover));
    };
    let now = client.env.clock.now_ms();
    let Some(last) = state::handover::last_activity(kv, &h)? else {
        // Never dated (a handover opened by an earlier version): its idle time starts now.
        // Or just ended by another call, which removed the date with every other key: then
        // the date we wrote is ours to remove.
        state::handover::touch(kv, &h, now)?;
        if !still_open(client, &h)? {
            state::handover::forget_activity(kv, &h)?;
            return Ok(ignored(Some(user_id.to_string()), Warning::NoOpenHandover));
        }
        return Ok(outcome(&h, Vec::new(), Vec::new()));
    };
    let idle_ms = now.saturating_sub(last);
    let timeout_secs = h
        .inactivity_timeout_secs
        .map_or(client.settings.inactivity_timeout_secs, u64::from);
    let timeout_ms = timeout_secs.saturating_mul(1000);
    if idle_ms >= timeout_ms {
        return finish(client, &h, EndReason::Inactivity, true);
    }
    let lead_ms = client.settings.inactivity_warning_secs.saturating_mul(1000);
    let left_ms = timeout_ms - idle_ms;
    if lead_ms == 0 || left_ms > lead_ms || !state::warned::claim(kv, h.scope(), last)? {
        return Ok(outcome(&h, Vec::new(), Vec::new()));
    }
    if !still_open(client, &h)? {
        // Ended while we claimed: the keys we just wrote are ours to remove.
        state::warned::remove_all(kv, h.scope())?;
        return Ok(ignored(Some(user_id.to_string()), Warning::NoOpenHandover));
    }
    let left_secs = u32::try_from(left_ms.div_ceil(1000)).unwrap_or(u32::MAX);
    let warning = Action::InactivityWarning(left_secs);
    Ok(outcome(&h, vec![warning], Vec::new()))
}

/// The handover an event is about: by the end user's id, or by the conversation (whose
/// handover must still be that conversation's). Also the user id, when known.
fn handover_of(client: &Client, ev: &Event) -> Result<(Option<String>, Option<Handover>), Error> {
    let kv = client.env.kv;
    let user_id = match (&ev.end_user_id, &ev.conversation_id) {
        (Some(u), _) => Some(u.clone()),
        (None, Some(c)) => state::handover::user_for_conversation(kv, c)?,
        (None, None) => None,
    };
    let h = match &user_id {
        Some(u) => state::handover::load(kv, u)?,
        None => None,
    };
    let by_conversation = ev.end_user_id.is_none();
    let h =
        h.filter(|h| !by_conversation || ev.conversation_id.as_ref() == Some(&h.conversation_id));
    Ok((user_id, h))
}

fn genesys_event(client: &Client, bytes: &[u8]) -> Result<Outcome, Error> {
    let ev = events::parse(bytes)?;
    if !ev.is_open_messaging || ev.topic == Topic::Other {
        return Ok(ignored(None, Warning::EventIgnored));
    }
    let (user_id, h) = handover_of(client, &ev)?;
    let Some(h) = h else {
        return Ok(ignored(user_id, Warning::NoOpenHandover));
    };
    let (kv, now) = (client.env.kv, client.env.clock.now_ms());
    match ev.topic {
        Topic::CustomerEnd => {
            let reason = events::end_reason(ev.disconnect_type.as_deref());
            finish(client, &h, reason, false)
        }
        Topic::UserEnd if events::is_transfer(ev.disconnect_type.as_deref()) || !ev.interacted => {
            state::handover::set_transfer(kv, &h, Some(now))?;
            state::handover::set_agent(kv, &h, None)?;
            // The next agent is announced again.
            state::joined::next_epoch(kv, h.scope())?;
            let status = HandoverStatus::Transferred;
            Ok(outcome(&h, vec![Action::Status(status)], Vec::new()))
        }
        Topic::UserEnd => finish(client, &h, EndReason::AgentEnded, false),
        Topic::Acw => match state::handover::transfer_ms(kv, &h)? {
            Some(t) if now.saturating_sub(t) < client.settings.acw_grace_ms => {
                Ok(outcome(&h, Vec::new(), vec![Warning::EventIgnored]))
            }
            _ => finish(client, &h, EndReason::AgentEnded, false),
        },
        Topic::UserStart => {
            let (actions, warnings) =
                agent_joined::by_event(client, &h, ev.agent_user_id.as_deref())?;
            Ok(outcome(&h, actions, warnings))
        }
        Topic::Other => Ok(ignored(None, Warning::EventIgnored)),
    }
}

/// Close the Genesys side: what the user said last (if Genesys takes it now), the
/// optional goodbye text, then the customer participant disconnected.
fn close_genesys(client: &Client, h: &Handover) -> Result<(), Error> {
    let _ = outbox::deliver(client, h, &[]);
    if let Some(text) = &h.disconnect_message {
        for (kind, body) in text_items(client.env, &h.user_id, text) {
            client.send_inbound(&h.integration_id, kind, &body, false)?;
        }
    }
    client.disconnect_customer(&h.conversation_id)
}

/// Whether the record of `h` is still there (not removed, nor replaced by a new handover).
fn still_open(client: &Client, h: &Handover) -> Result<bool, Error> {
    let current = state::handover::load(client.env.kv, &h.user_id)?;
    Ok(current.is_some_and(|r| r.hid == h.hid))
}

/// End the handover once: only the first call that gets here ends it (the others answer
/// `no-open-handover`), closes the Genesys side if `close`, and removes every key.
fn finish(client: &Client, h: &Handover, reason: EndReason, close: bool) -> Result<Outcome, Error> {
    let kv = client.env.kv;
    let gone = || ignored(Some(h.user_id.clone()), Warning::NoOpenHandover);
    match ending::begin(kv, h.scope(), client.env.clock.now_ms())? {
        Ending::Mine => {}
        Ending::Busy => {
            // A call that dated the ending on behalf of a first one which had already
            // removed every key would leave `ending-at` behind: once the record is gone,
            // the ending keys are ours to remove.
            if !still_open(client, h)? {
                ending::abandon(kv, h.scope())?;
            }
            return Ok(gone());
        }
        Ending::Stale => return state::handover::remove(kv, h).map(|()| gone()),
    }
    if !still_open(client, h)? {
        // We read the record before another call ended the handover and removed its
        // ending keys: the counter we just set is ours to remove, the end is not ours.
        ending::abandon(kv, h.scope())?;
        return Ok(gone());
    }
    if close {
        if let Err(e) = close_genesys(client, h) {
            let _ = ending::abandon(kv, h.scope());
            return Err(e);
        }
    }
    if let Err(e) = state::handover::remove(kv, h) {
        // Still open for every reader (the record is there): let a retry end it.
        if still_open(client, h).unwrap_or(true) {
            let _ = ending::abandon(kv, h.scope());
            return Err(e);
        }
    }
    let status = HandoverStatus::Ended(reason);
    Ok(outcome(h, vec![Action::Status(status)], Vec::new()))
}
