//! Store round trips per hook call, as `/metrics` shows them
//! (`handover_store_round_trips_total{tenant,hook}`): every store request for the guest's
//! `wasi:keyvalue` operations (its writes are held back and ride with its next read; see
//! [`crate::write_behind`]), the host's own store requests for that call (routing its outcome: the
//! session's queue, the host's records) and the file store's fsync before the answer.
//!
//! The callers count, not the store: one [`Store`](crate::kv::Store) method is one request
//! to the backend (a Redis command or script, one redb transaction), so it counts once,
//! whatever it does inside. A batched method (a `get-many`, a pipeline) is then one round
//! trip too. Each call has its own tally, carried in its `wasi:keyvalue` context and passed
//! to the host's routing, so calls running at the same time never count each other's.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The round trips of one hook call; clones share the count.
#[derive(Clone, Debug, Default)]
pub struct RoundTrips(Arc<AtomicU64>);

impl RoundTrips {
    /// A new tally at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// One request to the store (one [`Store`](crate::kv::Store) method call).
    pub fn one(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// The requests counted so far.
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Count one request on `trips`, if the call is counted.
pub(crate) fn one(trips: Option<&RoundTrips>) {
    if let Some(t) = trips {
        t.one();
    }
}

#[cfg(test)]
mod tests {
    use super::RoundTrips;

    #[test]
    fn clones_share_one_count_and_tallies_are_apart() {
        let (a, b) = (RoundTrips::new(), RoundTrips::new());
        let a2 = a.clone();
        a.one();
        a2.one();
        super::one(Some(&b));
        super::one(None);
        assert_eq!((a.count(), b.count()), (2, 1));
    }
}
