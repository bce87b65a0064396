//! "An agent joined", once per agent: told by a `user.start` event or, when Genesys sends
//! none, by the first message a human agent sends. The agent's details are looked up best
//! effort: a failure shows the agent as unknown, with a warning, never an error.

use crate::genesys::{webhook, Client};
use crate::model::*;
use crate::ports::Env;
use crate::settings::ProviderSettings;
use crate::state::{self, joined, Handover};

/// The most one lookup request may take (retries included): the lookup delays the agent's
/// message, and later copies of that message wait for it.
const LOOKUP_BUDGET_MS: u64 = 3_000;
/// Longest reason a lookup warning gives.
const MAX_REASON_CHARS: usize = 200;

/// What of the agent the user is shown.
#[derive(Debug, Clone, Copy)]
pub(super) struct Show {
    /// Display Agent Details (node): the name and the avatar.
    pub details: bool,
    /// `send-profile` (tenant): the name.
    pub name: bool,
}

impl Show {
    /// Whether anything of the agent is shown (and so worth looking up).
    pub fn any(self) -> bool {
        self.details || self.name
    }

    /// The stored agent as shown.
    pub fn agent(self, agent: Option<AgentInfo>) -> Option<AgentInfo> {
        match (self.details, self.name) {
            (true, _) => agent,
            (false, true) => agent.map(|a| AgentInfo {
                avatar_url: None,
                ..a
            }),
            (false, false) => None,
        }
    }
}

/// The agent as stored for the handover, as shown.
pub(super) fn stored(env: &Env, h: &Handover, show: Show) -> Result<Option<AgentInfo>, Error> {
    match show.any() {
        true => Ok(show.agent(state::handover::agent(env.kv, h)?)),
        false => Ok(None),
    }
}

fn failed(reason: String) -> Vec<Warning> {
    let reason: String = reason.chars().take(MAX_REASON_CHARS).collect();
    vec![Warning::AgentLookupFailed(reason)]
}

/// The agent's details within a short budget: `agent_user_id` (a `user.start` event's), or
/// the agent connected to the conversation. An avatar `url_policy` refuses is left out.
fn lookup(
    env: &Env,
    provider: &ProviderSettings,
    agent_user_id: Option<&str>,
    conversation_id: &str,
) -> (Option<AgentInfo>, Vec<Warning>) {
    let mut quick = provider.clone();
    quick.retry_deadline_ms = quick.retry_deadline_ms.min(LOOKUP_BUDGET_MS);
    quick.request_timeout_ms = quick.request_timeout_ms.min(LOOKUP_BUDGET_MS);
    let client = Client::new(env, &quick);
    let id = match agent_user_id {
        Some(id) => Ok(Some(id.to_string())),
        None => client.connected_agent(conversation_id),
    };
    match id.and_then(|id| id.map_or(Ok(None), |id| client.agent(&id))) {
        Ok(Some(agent)) => {
            let (agent, avatar_dropped) = webhook::shown_agent(Some(&agent));
            let warnings = match avatar_dropped {
                true => vec![Warning::UnsafeUrlDropped],
                false => Vec::new(),
            };
            (agent, warnings)
        }
        Ok(None) => (
            None,
            failed("Genesys names no agent (none connected, or a user without a name)".into()),
        ),
        Err(e) => (None, failed(e.describe())),
    }
}

/// A human agent's message (or event): whether it announces the agent, plus warnings. The
/// first message of an agent epoch with no announcer yet claims it (the first copy decides;
/// later copies repeat that decision, waiting for it if need be), looks the agent up when
/// shown, stores it, and only then records itself, so every copy finds the agent stored.
pub(super) fn by_message(
    env: &Env,
    h: &Handover,
    message_id: Option<&str>,
    first: bool,
    show: Show,
) -> Result<(bool, Vec<Warning>), Error> {
    let (kv, scope) = (env.kv, h.scope());
    let (epoch, by) = joined::current(kv, scope)?;
    let me = joined::by_message(message_id);
    let by = match by {
        Some(by) => by,
        None if first => {
            if !joined::claim(kv, scope, epoch)? {
                return Ok((false, Vec::new()));
            }
            let mut warnings = Vec::new();
            if show.any() {
                let (agent, notes) = match ProviderSettings::load(env.config) {
                    Ok(provider) => lookup(env, &provider, None, &h.conversation_id),
                    Err(e) => (None, failed(e.describe())),
                };
                state::handover::set_agent(kv, h, agent.as_ref())?;
                warnings = notes;
            }
            joined::set_by(kv, scope, epoch, &me)?;
            return Ok((true, warnings));
        }
        None => match joined::wait_by(kv, env.clock, scope, epoch)? {
            Some(by) => by,
            None => return Ok((false, Vec::new())),
        },
    };
    // An id-less message cannot be told from another: only the one that claimed announces.
    Ok((message_id.is_some() && by == me, Vec::new()))
}

/// A `user.start` event: the agent joined. Announced unless a message (or an earlier copy
/// of the event) already did in this agent epoch; then only details the first lookup
/// missed are filled in, silently.
pub(super) fn by_event(
    client: &Client,
    h: &Handover,
    agent_user_id: Option<&str>,
) -> Result<(Vec<Action>, Vec<Warning>), Error> {
    let (env, kv, scope) = (client.env, client.env.kv, h.scope());
    let show = Show {
        details: h.display_agent_details,
        name: client.settings.send_profile,
    };
    state::handover::set_transfer(kv, h, None)?;
    state::handover::touch(kv, h, env.clock.now_ms())?;
    let epoch = joined::epoch(kv, scope)?;
    if !joined::claim(kv, scope, epoch)? {
        let known = state::handover::agent(kv, h)?.is_some();
        if show.any() && !known && agent_user_id.is_some() {
            let (agent, warnings) = lookup(env, client.settings, agent_user_id, "");
            state::handover::set_agent(kv, h, agent.as_ref())?;
            return Ok((Vec::new(), warnings));
        }
        return Ok((Vec::new(), Vec::new()));
    }
    let (agent, warnings) = match show.any() {
        true => lookup(env, client.settings, agent_user_id, &h.conversation_id),
        false => (None, Vec::new()),
    };
    state::handover::set_agent(kv, h, agent.as_ref())?;
    joined::set_by(kv, scope, epoch, joined::BY_EVENT)?;
    let status = HandoverStatus::AgentJoined(show.agent(agent));
    Ok((vec![Action::Status(status)], warnings))
}
