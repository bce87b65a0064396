//! `agent-message`: a Genesys outbound webhook, verified and turned into actions for the
//! user. Every copy of one Genesys message id gives the same actions under one delivery
//! key; copies after the first are marked `duplicate`, so the host delivers them once.

use super::{no_handover, outcome};
use crate::genesys::webhook;
use crate::model::*;
use crate::ports::Env;
use crate::settings::ProviderSettings;
use crate::state::{self, seen};

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
    let handle_bot_messages = ProviderSettings::handle_bot_messages(env.config)?;
    let agent = match h.display_agent_details {
        true => state::handover::agent(env.kv, &h)?,
        false => None,
    };
    // Ids that cannot be remembered (none, control characters, over 200 bytes) are
    // handled without deduplication.
    let message_id = w.message_id().filter(|id| seen::claimable(id));
    let first = match message_id {
        Some(id) => seen::first_copy(env.kv, h.scope(), id)?,
        None => true,
    };
    if first {
        if let Err(e) = state::handover::touch(env.kv, &h, env.clock.now_ms()) {
            // Not handled after all: forget the id, so Genesys's retry is.
            if let Some(id) = message_id {
                let _ = seen::forget(env.kv, h.scope(), id);
            }
            return Err(e);
        }
    } else {
        warnings.push(Warning::Duplicate);
    }
    // A later copy gives the same actions again: the first copy's may never have reached
    // the host's queue (a replica that crashed right after its call).
    let (actions, notes) = webhook::actions(&w, agent.as_ref(), handle_bot_messages);
    warnings.extend(notes);
    let mut o = outcome(&h, actions, warnings);
    o.delivery_key = message_id.map(|id| format!("{}/{id}", h.conversation_id));
    Ok(o)
}
