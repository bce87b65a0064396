//! The start claim: of concurrent `start`s for one user exactly one opens the Genesys
//! conversation, without locks or compare-and-swap; a lease lets a later start take over
//! from one that crashed or failed.

use super::{get_text, increment, keys, set};
use crate::model::Error;
use crate::ports::Kv;

/// How long a start owns its generation: far above the host's hook deadline (30 s), so an
/// owner that is still running is never overtaken.
pub const LEASE_MS: u64 = 120_000;

/// What a start got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This call owns the generation: it opens the conversation.
    Won(u64),
    /// Another start owns the current generation.
    Busy,
}

fn owner(kv: &dyn Kv, user_id: &str) -> Result<Option<(u64, u64)>, Error> {
    Ok(get_text(kv, &keys::claim_owner(user_id))?.and_then(|v| {
        let (g, exp) = v.split_once(':')?;
        Some((g.parse().ok()?, exp.parse().ok()?))
    }))
}

fn set_owner(kv: &dyn Kv, user_id: &str, generation: u64, expires_ms: u64) -> Result<(), Error> {
    set(
        kv,
        &keys::claim_owner(user_id),
        format!("{generation}:{expires_ms}").as_bytes(),
    )
}

/// Try to own the next start generation of `user_id`.
///
/// `claim/<user>` holds `g:expires-ms` (generation `g` is owned until then). A start aims
/// at `g + 1` when that lease expired, at 1 when there is none, and increments
/// `claim-gen/<target>/<user>`: whoever gets 1 owns the target generation.
pub fn claim(kv: &dyn Kv, user_id: &str, now_ms: u64) -> Result<Claim, Error> {
    let current = owner(kv, user_id)?;
    let target = match current {
        Some((_, expires)) if expires > now_ms => return Ok(Claim::Busy),
        Some((g, _)) => g + 1,
        None => 1,
    };
    let n = increment(kv, &keys::claim_generation(user_id, target), 1)?;
    if n == 1 {
        set_owner(kv, user_id, target, now_ms + LEASE_MS)?;
        return Ok(Claim::Won(target));
    }
    if current.is_none() {
        // The winner may have crashed between its increment and its lease: write the
        // lease on its behalf, so it expires and a later start can take the next one.
        set_owner(kv, user_id, target, now_ms + LEASE_MS)?;
    }
    Ok(Claim::Busy)
}

/// A start that failed gives its generation up at once: the next start takes the next one.
pub fn release(kv: &dyn Kv, user_id: &str, generation: u64) -> Result<(), Error> {
    set_owner(kv, user_id, generation, 0)
}

/// The claim keys of every generation up to `generation`, the lease last.
pub(super) fn keys_upto(out: &mut Vec<String>, user_id: &str, generation: u64) {
    for n in 1..=generation {
        out.push(keys::claim_generation(user_id, n));
    }
    out.push(keys::claim_owner(user_id));
}
