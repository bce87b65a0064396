//! `agent-message`: a Genesys outbound webhook, verified and turned into actions for the
//! user. Every copy of one Genesys message id gives the same actions under one delivery
//! key; copies after the first are marked `duplicate`, so the host delivers them once. A
//! webhook of the user's earlier conversation is dropped with `stale-webhook-dropped`.

use super::agent_joined::{self, Show};
use super::{no_handover, outcome};
use crate::genesys::webhook;
use crate::model::*;
use crate::ports::Env;
use crate::settings::ProviderSettings;
use crate::state::{self, seen, sent, Handover};

/// `agent-message`: verify, parse and turn a Genesys outbound webhook into actions.
pub fn agent_message(env: &Env, hook: &Webhook) -> Result<Outcome, Error> {
    let secrets = ProviderSettings::webhook_secrets(env.config)?;
    let (w, mut warnings) = webhook::read(hook, &secrets)?;
    let user_id = w
        .user_id()
        .ok_or_else(|| Error::InvalidInput("webhook has no channel.to.id".into()))?;
    let Some(h) = state::handover::load(env.kv, user_id)? else {
        return Err(no_handover(user_id));
    };
    // A webhook of the user's earlier conversation (a late retry or a replay) is not this
    // handover's: nothing is claimed, touched or shown.
    if webhook::is_stale(&w, &h.conversation_id, h.opened_ms) {
        warnings.push(Warning::StaleWebhookDropped);
        return Ok(outcome(&h, Vec::new(), warnings));
    }
    let handle_bot_messages = ProviderSettings::handle_bot_messages(env.config)?;
    let show = Show {
        details: h.display_agent_details,
        name: ProviderSettings::send_profile(env.config)?,
    };
    // Ids that cannot be remembered (none, control characters, over 200 bytes) are
    // handled without deduplication.
    let dedupe_id = w.dedupe_id().filter(|id| seen::claimable(id));
    let message_id = dedupe_id.as_deref();
    let first = match message_id {
        Some(id) => seen::first_copy(env.kv, h.scope(), id)?,
        None => true,
    };
    // Not handled after all (an error after the id was counted): forget the id, so
    // Genesys's retry is.
    let forget_on_error = |e: Error| {
        if let (true, Some(id)) = (first, message_id) {
            let _ = seen::forget(env.kv, h.scope(), id);
        }
        e
    };
    if first {
        state::handover::touch(env.kv, &h, env.clock.now_ms()).map_err(forget_on_error)?;
    } else {
        warnings.push(Warning::Duplicate);
    }
    // A later copy gives the same actions again: the first copy's may never have reached
    // the host's queue (a replica that crashed right after its call).
    let (joined, notes) = match w.is_human() {
        true => {
            agent_joined::by_message(env, &h, message_id, first, show).map_err(forget_on_error)?
        }
        false => (false, Vec::new()),
    };
    warnings.extend(notes);
    let agent = agent_joined::stored(env, &h, show)?;
    let (mut actions, notes) = webhook::actions(&w, agent.as_ref(), handle_bot_messages);
    warnings.extend(notes);
    if joined {
        let (agent, _) = webhook::shown_agent(agent.as_ref());
        actions.insert(0, Action::Status(HandoverStatus::AgentJoined(agent)));
    }
    for action in &mut actions {
        if let Action::UserMessageFailed(failure) = action {
            name_failed_message(env, &h, failure)?;
        }
    }
    let mut o = outcome(&h, actions, warnings);
    o.delivery_key = message_id.map(|id| format!("{}/{id}", h.conversation_id));
    Ok(o)
}

/// Fill in what the failed user message said, when its note is still kept.
fn name_failed_message(env: &Env, h: &Handover, f: &mut UserMessageFailure) -> Result<(), Error> {
    let newest = state::outbox::seq(env.kv, h.scope())?;
    if let Some(note) = sent::find(env.kv, h.scope(), newest, &f.message_id)? {
        f.attachment = note.attachment();
        f.text = note.text;
    }
    Ok(())
}
