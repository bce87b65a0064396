//! `queue-status`: a queue's estimated wait and agents, for the bot to tell the user before
//! or during a handover. Needs no handover; the figures are cached per queue for
//! [`QUEUE_STATUS_CACHE_MS`] in the tenant's store, so a bot may ask on every turn.

use crate::genesys::Client;
use crate::model::{Error, QueueFigures};
use crate::ports::Env;
use crate::settings::{keys, ProviderSettings};
use crate::state::cache;

/// How long a queue's figures are served from the cache.
pub const QUEUE_STATUS_CACHE_MS: u64 = 5_000;

/// Longest queue id taken (Genesys's are 36-character UUIDs).
const MAX_QUEUE_ID_CHARS: usize = 64;

/// The queue asked about: the argument, else the `queue-id` setting. An id that could not
/// be a Genesys id (it goes into a path) is `invalid-input`.
fn queue_id(arg: Option<&str>, provider: &ProviderSettings) -> Result<String, Error> {
    let id = match arg.map(str::trim).filter(|q| !q.is_empty()) {
        Some(q) => q.to_string(),
        None => provider.queue_id.clone().ok_or_else(|| {
            Error::Config(format!(
                "no queue id given and setting '{}' is missing",
                keys::QUEUE_ID
            ))
        })?,
    };
    let valid =
        id.len() <= MAX_QUEUE_ID_CHARS && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !valid {
        return Err(Error::InvalidInput(
            "queue id must be a Genesys id (letters, digits and '-', at most 64)".into(),
        ));
    }
    Ok(id)
}

/// `queue-status`: the figures of `queue` (or of the `queue-id` setting), fresh from
/// Genesys unless fetched less than [`QUEUE_STATUS_CACHE_MS`] ago.
pub fn queue_status(env: &Env, queue: Option<&str>) -> Result<QueueFigures, Error> {
    let provider = ProviderSettings::load(env.config)?;
    let id = queue_id(queue, &provider)?;
    let now = env.clock.now_ms();
    if let Some(q) = cache::queue_status(env.kv, &id, now, QUEUE_STATUS_CACHE_MS)? {
        return Ok(q);
    }
    let q = Client::new(env, &provider).queue_status(&id)?;
    // Best effort: the figures are the answer, whether or not they could be cached.
    let _ = cache::set_queue_status(env.kv, &id, env.clock.now_ms(), &q);
    Ok(q)
}
