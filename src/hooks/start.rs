//! `start`: claim the user's next start generation, open the Genesys conversation with
//! the transcript and routing attributes as its first message (attributes that cannot be
//! sent are left out with a warning), store the handover, and queue the rest of the
//! transcript behind it.

use super::outcome;
use crate::genesys::api::Opened;
use crate::genesys::attributes::attributes;
use crate::genesys::inbound::{self, Kind};
use crate::genesys::Client;
use crate::model::*;
use crate::outbox;
use crate::ports::Env;
use crate::settings::ProviderSettings;
use crate::state::claim::{self, Claim};
use crate::state::{self, Handover};
use crate::time::iso8601;
use crate::transcript::{self, Filters, MAX_TEXT_CHARS};

/// The first message when the transcript is empty.
const NO_TRANSCRIPT: &str = "The user asked for a human agent.";

fn in_progress(user: &UserProfile, h: Option<&Handover>) -> Outcome {
    let status = vec![Action::Status(HandoverStatus::AlreadyInProgress)];
    match h {
        Some(h) => outcome(h, status, Vec::new()),
        None => Outcome {
            session_id: Some(user.session_id.clone()),
            user_id: Some(user.user_id.clone()),
            actions: status,
            ..Outcome::default()
        },
    }
}

/// The transcript as message texts (at least one).
fn texts(entries: &[TranscriptEntry], provider: &ProviderSettings) -> Vec<String> {
    let filters = Filters {
        drop_unsupported: provider.filter_unsupported,
        drop_empty: provider.filter_empty,
    };
    let mut texts = transcript::messages(entries, filters);
    if texts.is_empty() {
        texts.push(NO_TRANSCRIPT.to_string());
    }
    texts
}

/// Inbound text messages for `text` (split when over Genesys's length limit).
pub(super) fn text_items(env: &Env, user_id: &str, text: &str) -> Vec<(Kind, inbound::Message)> {
    let now = iso8601(env.clock.now_ms());
    transcript::split_chars(text, MAX_TEXT_CHARS)
        .into_iter()
        .map(|piece| {
            let from = inbound::from(user_id, None);
            let body = inbound::text_message(from, &env.clock.new_id(), &now, &piece, None);
            (Kind::Message, body)
        })
        .collect()
}

/// `start`: open the Genesys conversation, or answer `already-in-progress`.
pub fn start(
    env: &Env,
    user: &UserProfile,
    transcript_entries: &[TranscriptEntry],
    node: &HandoverSettings,
) -> Result<Outcome, Error> {
    if user.user_id.trim().is_empty() {
        return Err(Error::InvalidInput("user-id is empty".into()));
    }
    let provider = ProviderSettings::load(env.config)?;
    if let Some(h) = state::handover::load(env.kv, &user.user_id)? {
        return Ok(in_progress(user, Some(&h)));
    }
    let (attrs, mut warnings) = attributes(user, node, provider.queue_id.as_deref())?;
    let generation = match claim::claim(env.kv, &user.user_id, env.clock.now_ms())? {
        Claim::Won(generation) => generation,
        Claim::Busy => return Ok(in_progress(user, None)),
    };
    let client = Client::new(env, &provider);
    let texts = texts(transcript_entries, &provider);
    let profile = provider.send_user_profile.then_some(user);
    let opened_ms = env.clock.now_ms();
    let first = inbound::text_message(
        inbound::from(&user.user_id, profile),
        &env.clock.new_id(),
        &iso8601(opened_ms),
        &texts[0],
        Some(&attrs),
    );
    let h = match open(&client, user, node, (generation, opened_ms), &first) {
        Ok(h) => h,
        Err(e) => {
            // Give the generation up, so the next start need not wait for the lease.
            let _ = claim::release(env.kv, &user.user_id, generation);
            return Err(e);
        }
    };
    let rest: Vec<(Kind, inbound::Message)> = texts[1..]
        .iter()
        .flat_map(|t| text_items(env, &user.user_id, t))
        .collect();
    let own = outbox::queue(&client, &h, rest)?;
    warnings.extend(outbox::deliver(&client, &h, &own)?);
    Ok(outcome(
        &h,
        vec![Action::Status(HandoverStatus::Queued)],
        warnings,
    ))
}

/// Open the conversation and store the handover (under a fresh handover id), with the
/// start generation and the time `first` carries.
fn open(
    client: &Client,
    user: &UserProfile,
    node: &HandoverSettings,
    (generation, opened_ms): (u64, u64),
    first: &inbound::Message,
) -> Result<Handover, Error> {
    let env = client.env;
    let Opened {
        integration_id,
        conversation_id,
    } = client.open_conversation(first)?;
    let h = Handover {
        user_id: user.user_id.clone(),
        session_id: user.session_id.clone(),
        hid: env.clock.new_id(),
        generation,
        integration_id,
        conversation_id,
        display_agent_details: node.display_agent_details,
        user_connects_message: node.enable_user_connects_message,
        user_disconnects_message: node.enable_user_disconnects_message,
        disconnect_message: node
            .disconnect_message
            .clone()
            .filter(|m| !m.trim().is_empty()),
        inactivity_timeout_secs: node.inactivity_timeout_secs,
        opened_ms: Some(opened_ms),
    };
    state::handover::create(env.kv, &h, env.clock.now_ms())?;
    Ok(h)
}
