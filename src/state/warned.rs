//! The inactivity warning comes once per idle period, however many checks run at once and
//! wherever. An idle period is named by its start, the handover's last activity (ms): one
//! counter per period decides who warns, and an index of the periods lets `end` remove
//! those counters without listing keys.

use super::keys::Scope;
use super::{delete, get, get_u64, increment, set_u64};
use crate::model::Error;
use crate::ports::Kv;

/// Try to be the call that warns of the idle period that began at `activity_ms`: true for
/// exactly one caller. A period already claimed is answered from one read; otherwise the
/// period is indexed before it is counted, so a crash in between leaves nothing `end`
/// cannot find.
pub fn claim(kv: &dyn Kv, scope: Scope, activity_ms: u64) -> Result<bool, Error> {
    if get(kv, &scope.warned(activity_ms))?.is_some() {
        return Ok(false);
    }
    let i = increment(kv, &scope.warned_count(), 1)?;
    set_u64(kv, &scope.warned_index(i), activity_ms)?;
    Ok(increment(kv, &scope.warned(activity_ms), 1)? == 1)
}

/// Remove every counter and index entry, the count last (`end` does; so does a check that
/// claimed a period of a handover that ended meanwhile).
pub fn remove_all(kv: &dyn Kv, scope: Scope) -> Result<(), Error> {
    remove_upto(kv, scope, increment(kv, &scope.warned_count(), 0)?)
}

/// [`remove_all`], the count (the value of [`Scope::warned_count`]) already read.
pub(super) fn remove_upto(kv: &dyn Kv, scope: Scope, count: u64) -> Result<(), Error> {
    for i in 1..=count {
        if let Some(at) = get_u64(kv, &scope.warned_index(i))? {
            delete(kv, &scope.warned(at))?;
        }
        delete(kv, &scope.warned_index(i))?;
    }
    delete(kv, &scope.warned_count())
}
