//! Tenant-level caches that outlive handovers: the access token, the integration id of the
//! deployment name, agents' display details and queues' figures. A cache value that does
//! not parse counts as absent; every write is a plain `set`, so concurrent calls at worst
//! fetch twice.

use super::{delete, get_json_lenient, get_text, keys, set, set_json, Agent};
use crate::model::{AgentInfo, Error, QueueFigures};
use crate::ports::Kv;
use serde::{Deserialize, Serialize};

/// The cached access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Token {
    /// The bearer token.
    pub access_token: String,
    /// When Genesys says it expires (ms since the epoch).
    pub expires_at_ms: u64,
    /// The token is only reused for the same client...
    pub client_id: String,
    /// ... and the same region.
    pub region: String,
}

/// The cached access token, if any.
pub fn token(kv: &dyn Kv) -> Result<Option<Token>, Error> {
    get_json_lenient(kv, keys::TOKEN)
}

/// Cache an access token.
pub fn set_token(kv: &dyn Kv, token: &Token) -> Result<(), Error> {
    set_json(kv, keys::TOKEN, token)
}

/// The cached integration id of `deployment_name`.
pub fn integration(kv: &dyn Kv, deployment_name: &str) -> Result<Option<String>, Error> {
    get_text(kv, &keys::integration(deployment_name))
}

/// Cache the integration id of `deployment_name`.
pub fn set_integration(kv: &dyn Kv, deployment_name: &str, id: &str) -> Result<(), Error> {
    set(kv, &keys::integration(deployment_name), id.as_bytes())
}

/// Drop the cached integration id of `deployment_name`.
pub fn forget_integration(kv: &dyn Kv, deployment_name: &str) -> Result<(), Error> {
    delete(kv, &keys::integration(deployment_name))
}

/// The cached display details of a Genesys user.
pub fn agent(kv: &dyn Kv, genesys_user_id: &str) -> Result<Option<AgentInfo>, Error> {
    Ok(
        get_json_lenient::<Agent>(kv, &keys::agent_cache(genesys_user_id))?
            .map(|a| AgentInfo::from(&a)),
    )
}

/// Cache the display details of a Genesys user.
pub fn set_agent(kv: &dyn Kv, genesys_user_id: &str, agent: &AgentInfo) -> Result<(), Error> {
    set_json(kv, &keys::agent_cache(genesys_user_id), &Agent::from(agent))
}

/// A queue's figures as cached, with when they were fetched.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct CachedQueue {
    at_ms: u64,
    estimated_wait_seconds: Option<u32>,
    agents_on_queue: u32,
    agents_available: u32,
    interacting: u32,
}

/// The cached figures of a queue, when fetched at most `max_age_ms` before `now_ms` (and
/// not in the future: a clock that went back does not keep them forever).
pub fn queue_status(
    kv: &dyn Kv,
    queue_id: &str,
    now_ms: u64,
    max_age_ms: u64,
) -> Result<Option<QueueFigures>, Error> {
    let cached: Option<CachedQueue> = get_json_lenient(kv, &keys::queue_status(queue_id))?;
    Ok(cached
        .filter(|c| c.at_ms <= now_ms && now_ms - c.at_ms < max_age_ms)
        .map(|c| QueueFigures {
            estimated_wait_seconds: c.estimated_wait_seconds,
            agents_on_queue: c.agents_on_queue,
            agents_available: c.agents_available,
            interacting: c.interacting,
        }))
}

/// Cache the figures of a queue, fetched at `now_ms`.
pub fn set_queue_status(
    kv: &dyn Kv,
    queue_id: &str,
    now_ms: u64,
    q: &QueueFigures,
) -> Result<(), Error> {
    let cached = CachedQueue {
        at_ms: now_ms,
        estimated_wait_seconds: q.estimated_wait_seconds,
        agents_on_queue: q.agents_on_queue,
        agents_available: q.agents_available,
        interacting: q.interacting,
    };
    set_json(kv, &keys::queue_status(queue_id), &cached)
}
