//! The handover record (`handover/<user-id>`), written once by `start` and never rewritten,
//! and the handover's small mutable facts (activity, agent, transfer time), each in a key of
//! its own with a plain `set`, so concurrent calls never read-modify-write a shared record.

use super::keys::{self, Scope};
use super::{delete, get_json, get_json_lenient, get_text, get_u64, set, set_json, set_u64};
use crate::model::{AgentInfo, Error, GenesysRef};
use crate::ports::Kv;
use serde::{Deserialize, Serialize};

/// The agent as stored (the cache and the handover's `agent` key).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Agent {
    /// Display name.
    pub name: String,
    /// Avatar URL.
    pub avatar_url: Option<String>,
}

impl From<&Agent> for AgentInfo {
    fn from(a: &Agent) -> Self {
        AgentInfo {
            name: a.name.clone(),
            avatar_url: a.avatar_url.clone(),
        }
    }
}

impl From<&AgentInfo> for Agent {
    fn from(a: &AgentInfo) -> Self {
        Agent {
            name: a.name.clone(),
            avatar_url: a.avatar_url.clone(),
        }
    }
}

/// One open handover, as `start` wrote it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Handover {
    /// The bot platform's user id.
    pub user_id: String,
    /// The bot platform's session id.
    pub session_id: String,
    /// Random id of this handover; every per-handover key lives under it, so nothing an
    /// earlier handover of the same user left behind is ever read.
    #[serde(default)]
    pub hid: String,
    /// The start generation that opened it (`end` removes the claim keys up to it).
    #[serde(default)]
    pub generation: u64,
    /// The Open Messaging integration.
    pub integration_id: String,
    /// The Genesys conversation.
    pub conversation_id: String,
    /// Show the agent's name and avatar.
    pub display_agent_details: bool,
    /// Send "User joined the conversation" on reconnect.
    pub user_connects_message: bool,
    /// Send "User left the conversation" on disconnect.
    pub user_disconnects_message: bool,
    /// Text sent to the agent before the user or the bot closes the Genesys side.
    pub disconnect_message: Option<String>,
    /// The node's inactivity timeout, in place of the tenant's (none: the tenant's).
    #[serde(default)]
    pub inactivity_timeout_secs: Option<u32>,
    /// When the handover opened (epoch milliseconds): the time its first message carried
    /// to Genesys. A webhook that names no conversation and is older than this belongs to
    /// an earlier handover. None in records of releases that did not keep it.
    #[serde(default)]
    pub opened_ms: Option<u64>,
}

impl Handover {
    /// The handover's own keys.
    pub fn scope(&self) -> Scope<'_> {
        Scope(&self.hid)
    }

    /// Where the handover lives in Genesys.
    pub fn genesys(&self) -> GenesysRef {
        GenesysRef {
            integration_id: self.integration_id.clone(),
            conversation_id: self.conversation_id.clone(),
        }
    }
}

/// The open handover of `user_id`, if any.
pub fn load(kv: &dyn Kv, user_id: &str) -> Result<Option<Handover>, Error> {
    let mut h: Option<Handover> = get_json(kv, &keys::handover(user_id), "handover record")?;
    if let Some(h) = h.as_mut().filter(|h| h.hid.is_empty()) {
        // A record written before handover ids existed: its conversation is unique too.
        h.hid = format!("c-{}", h.conversation_id);
    }
    Ok(h)
}

/// Store a new handover: its activity, the conversation index, then the record itself
/// (the record's presence is what makes the handover open).
pub fn create(kv: &dyn Kv, h: &Handover, now_ms: u64) -> Result<(), Error> {
    touch(kv, h, now_ms)?;
    set(
        kv,
        &keys::conversation(&h.conversation_id),
        h.user_id.as_bytes(),
    )?;
    set_json(kv, &keys::handover(&h.user_id), h)
}

/// The user whose handover has this Genesys conversation.
pub fn user_for_conversation(kv: &dyn Kv, conversation_id: &str) -> Result<Option<String>, Error> {
    get_text(kv, &keys::conversation(conversation_id))
}

/// Record traffic on this handover now.
pub fn touch(kv: &dyn Kv, h: &Handover, now_ms: u64) -> Result<(), Error> {
    set_u64(kv, &h.scope().activity(), now_ms)
}

/// Forget when the handover last saw traffic (a date written after the handover ended).
pub fn forget_activity(kv: &dyn Kv, h: &Handover) -> Result<(), Error> {
    delete(kv, &h.scope().activity())
}

/// When the handover last saw traffic, if known (`start` records it; a record written by
/// an earlier version has none).
pub fn last_activity(kv: &dyn Kv, h: &Handover) -> Result<Option<u64>, Error> {
    get_u64(kv, &h.scope().activity())
}

/// The agent shown to the user, if known.
pub fn agent(kv: &dyn Kv, h: &Handover) -> Result<Option<AgentInfo>, Error> {
    Ok(get_json_lenient::<Agent>(kv, &h.scope().agent())?.map(|a| AgentInfo::from(&a)))
}

/// Remember (or forget) the agent shown to the user.
pub fn set_agent(kv: &dyn Kv, h: &Handover, agent: Option<&AgentInfo>) -> Result<(), Error> {
    match agent {
        Some(a) => set_json(kv, &h.scope().agent(), &Agent::from(a)),
        None => delete(kv, &h.scope().agent()),
    }
}

/// When a transfer or requeue was last seen.
pub fn transfer_ms(kv: &dyn Kv, h: &Handover) -> Result<Option<u64>, Error> {
    get_u64(kv, &h.scope().transfer())
}

/// Remember (or forget) when a transfer or requeue was seen.
pub fn set_transfer(kv: &dyn Kv, h: &Handover, at_ms: Option<u64>) -> Result<(), Error> {
    match at_ms {
        Some(ms) => set_u64(kv, &h.scope().transfer(), ms),
        None => delete(kv, &h.scope().transfer()),
    }
}

/// Remove every key of the handover: the claim keys in one `delete-many` first, while the
/// record still keeps new `start`s out (deleting the lease after the record could delete
/// the lease of a new start that already began, and let a third one open a second
/// conversation); the warnings' keys one by one (rare); then, after reading the counters
/// (one `get-many`) and the seen index (another), everything else in one `delete-many` (atomic on
/// Redis and redb), listed so that a host deleting one key after another still removes
/// the record and then the ending counter last: a crash part way leaves what a retried
/// `end` finds and removes.
pub fn remove(kv: &dyn Kv, h: &Handover) -> Result<(), Error> {
    use super::{claim, ending, joined, outbox, seen, sent, warned};
    let mut gone = Vec::new();
    claim::keys_upto(&mut gone, &h.user_id, h.generation);
    super::delete_many(kv, &gone)?;
    gone.clear();
    let scope = h.scope();
    // The counters in one read.
    let [warned, seq, seen_count, epoch] = super::counters(
        kv,
        [
            scope.warned_count(),
            scope.out_seq(),
            scope.seen_count(),
            scope.agent_epoch(),
        ],
    )?;
    // Warnings are rare (one per idle period): their keys go one by one.
    warned::remove_upto(kv, scope, warned)?;
    let mut index = Vec::new();
    seen::index_keys(&mut index, scope, seen_count);
    let seen_values = match index.is_empty() {
        true => Vec::new(),
        false => super::get_many(kv, &index)?,
    };
    gone.push(scope.activity());
    gone.push(scope.agent());
    gone.push(scope.transfer());
    sent::keys_upto(&mut gone, scope, seq);
    outbox::keys_upto(&mut gone, scope, seq);
    seen::keys(&mut gone, scope, &seen_values);
    joined::keys(&mut gone, scope, epoch);
    gone.push(keys::handover(&h.user_id));
    gone.push(keys::conversation(&h.conversation_id));
    ending::keys(&mut gone, scope);
    super::delete_many(kv, &gone)
}
