//! Webhook deduplication: a Genesys message id produces actions once per handover, however
//! many copies arrive and wherever. One counter per message id decides the first copy; an
//! index of the ids lets `end` remove those counters without listing keys.

use super::keys::Scope;
use super::{delete, increment, set};
use crate::model::Error;
use crate::ports::Kv;

/// Longest message id that is deduplicated (Genesys's are 32 hex digits); a webhook with a
/// longer one is handled without deduplication, like one without an id.
pub const MAX_MESSAGE_ID_BYTES: usize = 200;

/// Whether `message_id` can be remembered: non-empty, no control characters, not too long.
pub fn claimable(message_id: &str) -> bool {
    !message_id.is_empty()
        && message_id.len() <= MAX_MESSAGE_ID_BYTES
        && !message_id.chars().any(char::is_control)
}

/// Count one copy of `message_id`; true for the first copy. The id is indexed before it is
/// counted, so a crash in between leaves nothing `end` cannot find.
pub fn first_copy(kv: &dyn Kv, scope: Scope, message_id: &str) -> Result<bool, Error> {
    let i = increment(kv, &scope.seen_count(), 1)?;
    set(kv, &scope.seen_index(i), message_id.as_bytes())?;
    Ok(increment(kv, &scope.seen(message_id), 1)? == 1)
}

/// Forget `message_id` (its handling failed after it was counted): a retry is handled.
pub fn forget(kv: &dyn Kv, scope: Scope, message_id: &str) -> Result<(), Error> {
    delete(kv, &scope.seen(message_id))
}

/// The index's keys, up to `count` (the value of [`Scope::seen_count`]).
pub(super) fn index_keys(out: &mut Vec<String>, scope: Scope, count: u64) {
    for i in 1..=count {
        out.push(scope.seen_index(i));
    }
}

/// Every key, given the values of [`index_keys`]: each id's counter, the index, the count
/// last.
pub(super) fn keys(out: &mut Vec<String>, scope: Scope, index: &[Option<Vec<u8>>]) {
    let mut i = 0;
    for id in index {
        i += 1;
        if let Some(id) = id.as_deref().and_then(|v| std::str::from_utf8(v).ok()) {
            out.push(scope.seen(id));
        }
        out.push(scope.seen_index(i));
    }
    out.push(scope.seen_count());
}
