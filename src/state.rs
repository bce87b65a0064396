//! What a handover remembers between hook calls, kept in the tenant's KV bucket.
//! Keys: `handover/<user-id>` (this record), `conversation/<genesys-id>` (→ user id),
//! `seen/<user-id>` (handled webhook ids), `activity/<user-id>` (last traffic),
//! `outbox/<user-id>` (messages not yet accepted by Genesys), `token`,
//! `integration/<deployment-name>`, `agent/<genesys-user-id>` (agent cache).

use crate::model::{AgentInfo, Error};
use crate::ports::Kv;
use serde::{Deserialize, Serialize};

/// How many handled webhook message ids a handover remembers for deduplication.
pub const SEEN_LIMIT: usize = 256;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Agent {
    pub name: String,
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

/// One open handover.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Handover {
    pub user_id: String,
    pub session_id: String,
    pub integration_id: String,
    pub conversation_id: String,
    pub display_agent_details: bool,
    pub user_connects_message: bool,
    pub user_disconnects_message: bool,
    pub disconnect_message: Option<String>,
    pub agent: Option<Agent>,
    pub started_ms: u64,
    pub last_activity_ms: u64,
    /// When a transfer or requeue was last seen; an `acw` within the grace period after
    /// it does not end the handover.
    pub transfer_ms: Option<u64>,
}

/// A user message or event waiting to reach Genesys, with the body it was first sent with
/// (and so the same message id on every attempt).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Pending {
    /// Inbound endpoint: `message` or `event`.
    pub kind: String,
    pub body: serde_json::Value,
    /// Whether an earlier attempt may have reached Genesys.
    pub tried: bool,
}

pub fn outbox_key(user_id: &str) -> String {
    format!("outbox/{user_id}")
}

pub fn load_outbox(kv: &dyn Kv, user_id: &str) -> Result<Vec<Pending>, Error> {
    match kv.get(&outbox_key(user_id)).map_err(Error::Storage)? {
        None => Ok(Vec::new()),
        Some(b) => serde_json::from_slice(&b)
            .map_err(|e| Error::Storage(format!("outbox is corrupt: {e}"))),
    }
}

pub fn save_outbox(kv: &dyn Kv, user_id: &str, queue: &[Pending]) -> Result<(), Error> {
    if queue.is_empty() {
        return kv.delete(&outbox_key(user_id)).map_err(Error::Storage);
    }
    let b = serde_json::to_vec(queue).map_err(|e| Error::Storage(e.to_string()))?;
    kv.set(&outbox_key(user_id), &b).map_err(Error::Storage)
}

pub fn handover_key(user_id: &str) -> String {
    format!("handover/{user_id}")
}

pub fn conversation_key(conversation_id: &str) -> String {
    format!("conversation/{conversation_id}")
}

pub fn load(kv: &dyn Kv, user_id: &str) -> Result<Option<Handover>, Error> {
    match kv.get(&handover_key(user_id)).map_err(Error::Storage)? {
        None => Ok(None),
        Some(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| Error::Storage(format!("handover record is corrupt: {e}"))),
    }
}

pub fn save(kv: &dyn Kv, h: &Handover) -> Result<(), Error> {
    let b = serde_json::to_vec(h).map_err(|e| Error::Storage(e.to_string()))?;
    kv.set(&handover_key(&h.user_id), &b)
        .map_err(Error::Storage)?;
    kv.set(&conversation_key(&h.conversation_id), h.user_id.as_bytes())
        .map_err(Error::Storage)
}

/// The user whose handover has this Genesys conversation.
pub fn user_for_conversation(kv: &dyn Kv, conversation_id: &str) -> Result<Option<String>, Error> {
    Ok(kv
        .get(&conversation_key(conversation_id))
        .map_err(Error::Storage)?
        .and_then(|b| String::from_utf8(b).ok()))
}

/// Remove every entry of this handover.
pub fn remove(kv: &dyn Kv, h: &Handover) -> Result<(), Error> {
    kv.delete(&handover_key(&h.user_id))
        .map_err(Error::Storage)?;
    kv.delete(&conversation_key(&h.conversation_id))
        .map_err(Error::Storage)
}

// Handled webhook ids and the last activity live in keys of their own, so the hot path
// (a webhook) reads and writes a few short lines instead of the whole handover record.

pub fn seen_key(user_id: &str) -> String {
    format!("seen/{user_id}")
}

pub fn activity_key(user_id: &str) -> String {
    format!("activity/{user_id}")
}

/// Webhook message ids already handled for this user, oldest first.
pub fn load_seen(kv: &dyn Kv, user_id: &str) -> Result<Vec<String>, Error> {
    Ok(kv
        .get(&seen_key(user_id))
        .map_err(Error::Storage)?
        .map(|b| {
            String::from_utf8_lossy(&b)
                .lines()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default())
}

/// Remember `id` (ids with a line break are not remembered), keeping the newest [`SEEN_LIMIT`].
pub fn mark_seen(kv: &dyn Kv, user_id: &str, mut seen: Vec<String>, id: &str) -> Result<(), Error> {
    if id.is_empty() || id.contains(['\n', '\r']) {
        return Ok(());
    }
    seen.push(id.to_string());
    let skip = seen.len().saturating_sub(SEEN_LIMIT);
    kv.set(&seen_key(user_id), seen[skip..].join("\n").as_bytes())
        .map_err(Error::Storage)
}

/// Record traffic on this handover now.
pub fn touch(kv: &dyn Kv, user_id: &str, now_ms: u64) -> Result<(), Error> {
    kv.set(&activity_key(user_id), now_ms.to_string().as_bytes())
        .map_err(Error::Storage)
}

/// When the handover last saw traffic.
pub fn last_activity(kv: &dyn Kv, h: &Handover) -> Result<u64, Error> {
    let touched = kv
        .get(&activity_key(&h.user_id))
        .map_err(Error::Storage)?
        .and_then(|b| String::from_utf8(b).ok()?.parse::<u64>().ok())
        .unwrap_or(0);
    Ok(touched.max(h.last_activity_ms))
}
