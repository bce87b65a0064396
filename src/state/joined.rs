//! An agent joins once per epoch (the handover's start, then each transfer): whoever first
//! increments `h/<hid>/joined/<epoch>` announces it, a `user.start` event or an agent's first
//! message alike, and records who in `joined-by`, so every copy of that message repeats it.

use super::keys::Scope;
use super::{get_many, get_text, increment, set};
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

/// The current agent epoch and who announced its agent: one `get-many` while no transfer
/// happened yet (epoch 0, the usual case), when the host stores counters as decimal text
/// (as the reference host does); otherwise the epoch through `increment`, then who.
pub fn current(kv: &dyn Kv, scope: Scope) -> Result<(u64, Option<String>), Error> {
    let mut read = get_many(kv, &[scope.agent_epoch(), scope.joined_by(0)])?;
    let announcer = read.pop().flatten();
    match super::counter(kv, &scope.agent_epoch(), read.pop().flatten())? {
        0 => Ok((0, announcer.and_then(super::text))),
        epoch => Ok((epoch, by(kv, scope, epoch)?)),
    }
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

/// The keys of every epoch up to `epoch`, the epoch counter last.
pub(super) fn keys(out: &mut Vec<String>, scope: Scope, epoch: u64) {
    for e in 0..=epoch {
        out.push(scope.joined(e));
        out.push(scope.joined_by(e));
    }
    out.push(scope.agent_epoch());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fakes::{BinaryCounters, MemKv};

    #[test]
    fn before_any_transfer_the_epoch_and_its_announcer_are_one_read() {
        let kv = MemKv::default();
        let scope = Scope("h1");
        assert_eq!(current(&kv, scope).unwrap(), (0, None));
        // The epoch as a read through `increment` leaves a stored 0 behind.
        assert_eq!(epoch(&kv, scope).unwrap(), 0);
        set_by(&kv, scope, 0, "message:m-1").unwrap();
        kv.take_calls();
        assert_eq!(
            current(&kv, scope).unwrap(),
            (0, Some("message:m-1".into()))
        );
        assert_eq!(
            kv.take_calls(),
            ["get-many h/h1/agent-epoch h/h1/joined-by/0"]
        );
    }

    #[test]
    fn after_a_transfer_the_announcer_of_the_new_epoch_counts() {
        let kv = MemKv::default();
        let scope = Scope("h1");
        set_by(&kv, scope, 0, "message:m-1").unwrap();
        assert_eq!(next_epoch(&kv, scope).unwrap(), 1);
        assert_eq!(current(&kv, scope).unwrap(), (1, None));
        set_by(&kv, scope, 1, BY_EVENT).unwrap();
        assert_eq!(current(&kv, scope).unwrap(), (1, Some(BY_EVENT.into())));
    }

    #[test]
    fn counters_stored_otherwise_are_read_through_increment() {
        let kv = BinaryCounters(MemKv::default());
        let scope = Scope("h1");
        set_by(&kv, scope, 0, "message:m-1").unwrap();
        // A stored 0 in binary is not decimal text: read again, still epoch 0.
        assert_eq!(epoch(&kv, scope).unwrap(), 0);
        assert_eq!(
            current(&kv, scope).unwrap(),
            (0, Some("message:m-1".into()))
        );
        for _ in 0..(u64::from(b'0') + 1) {
            next_epoch(&kv, scope).unwrap();
        }
        // 49 is stored as the byte b'1' then zeros: never taken for the text "1".
        set_by(&kv, scope, 49, BY_EVENT).unwrap();
        assert_eq!(current(&kv, scope).unwrap(), (49, Some(BY_EVENT.into())));
    }
}
