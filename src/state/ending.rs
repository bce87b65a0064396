//! A handover ends once: the first call to increment `h/<hid>/ending` ends it, later ones
//! back off. `ending-at` dates that first call, so one that crashed half-way does not keep
//! the handover half-ended for ever: after [`LEASE_MS`] another call may clean up.

use super::keys::Scope;
use super::{delete, get_u64, increment, set_u64};
use crate::model::Error;
use crate::ports::Kv;

/// How long an ending call may take before another one cleans up in its place (far above
/// the host's hook deadline).
pub const LEASE_MS: u64 = super::claim::LEASE_MS;

/// What a call that wants to end the handover got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// This call ends the handover.
    Mine,
    /// Another call is ending it (or has).
    Busy,
    /// Another call began ending it long ago and must have died: clean up, quietly.
    Stale,
}

/// Try to become the call that ends the handover.
pub fn begin(kv: &dyn Kv, scope: Scope, now_ms: u64) -> Result<Ending, Error> {
    if increment(kv, &scope.ending(), 1)? == 1 {
        set_u64(kv, &scope.ending_at(), now_ms)?;
        return Ok(Ending::Mine);
    }
    match get_u64(kv, &scope.ending_at())? {
        // The first call may be between its increment and its timestamp (or have died
        // there): date it now, on its behalf.
        None => set_u64(kv, &scope.ending_at(), now_ms).map(|_| Ending::Busy),
        Some(at) if now_ms.saturating_sub(at) < LEASE_MS => Ok(Ending::Busy),
        Some(_) => Ok(Ending::Stale),
    }
}

/// The ending call could not end the handover (Genesys refused to close it): let a retry.
pub fn abandon(kv: &dyn Kv, scope: Scope) -> Result<(), Error> {
    remove(kv, scope)
}

/// Remove the ending keys (the counter last).
pub(super) fn remove(kv: &dyn Kv, scope: Scope) -> Result<(), Error> {
    delete(kv, &scope.ending_at())?;
    delete(kv, &scope.ending())
}

/// The ending keys, the counter last.
pub(super) fn keys(out: &mut Vec<String>, scope: Scope) {
    out.push(scope.ending_at());
    out.push(scope.ending());
}
