//! An agent joins once per epoch (the handover's start, then each transfer): whoever first
//! increments `h/<hid>/joined/<epoch>` announces it, a `user.start` event or an agent's first
//! message alike, and records who in `joined-by`, so every copy of that message repeats it.

use super::keys::Scope;
use super::{get_text, increment, set};
use crate::model::Error;
use crate::ports::{Clock, Kv};

/// How `joined-by` names a `user.start` event.
pub const BY_EVENT: &str = "event";
/// How often a copy of a message polls for the decision of its first copy.
const POLLS: u32 = 1000;
/// Pause between polls.
const POLL_MS: u64 = 20;

/// How `joined-by` names an agent message (id-less ones by the prefix alone).
pub fn by_message(message_id: Option<&str>) -> String {
    format!("message:{}", message_id.unwrap_or(""))
}

/// The current agent epoch: 0 until the first transfer. A counter, so read through
/// `increment` (its stored encoding is the host's).
pub fn epoch(kv: &dyn Kv, scope: Scope) -> Result<u64, Error> {
    increment(kv, &scope.agent_epoch(), 0)
}

/// A transfer or requeue: the next agent is announced again.
pub fn next_epoch(kv: &dyn Kv, scope: Scope) -> Result<u64, Error> {
    increment(kv, &scope.agent_epoch(), 1)
}

/// Who announced the agent of `epoch`, if anyone has finished doing so.
pub fn by(kv: &dyn Kv, scope: Scope, epoch: u64) -> Result<Option<String>, Error> {
    get_text(kv, &scope.joined_by(epoch))
}

/// Try to be the one that announces the agent of `epoch`: true for exactly one caller.
pub fn claim(kv: &dyn Kv, scope: Scope, epoch: u64) -> Result<bool, Error> {
    Ok(increment(kv, &scope.joined(epoch), 1)? == 1)
}

/// Record who announced (after the agent is stored, so whoever reads this finds it).
pub fn set_by(kv: &dyn Kv, scope: Scope, epoch: u64, who: &str) -> Result<(), Error> {
    set(kv, &scope.joined_by(epoch), who.as_bytes())
}

/// Wait for the announcer of `epoch` to be recorded (a later copy of a message waits for
/// its first copy to decide); none after about 20 s: that call died before recording.
pub fn wait_by(
    kv: &dyn Kv,
    clock: &dyn Clock,
    scope: Scope,
    epoch: u64,
) -> Result<Option<String>, Error> {
    for _ in 0..POLLS {
        if let Some(who) = by(kv, scope, epoch)? {
            return Ok(Some(who));
        }
        clock.sleep_ms(POLL_MS);
    }
    by(kv, scope, epoch)
}

/// The keys of every epoch, the epoch counter last.
pub(super) fn keys(out: &mut Vec<String>, kv: &dyn Kv, scope: Scope) -> Result<(), Error> {
    for e in 0..=epoch(kv, scope)? {
        out.push(scope.joined(e));
        out.push(scope.joined_by(e));
    }
    out.push(scope.agent_epoch());
    Ok(())
}
