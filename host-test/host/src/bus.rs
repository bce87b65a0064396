//! The bot side's inbox: actions a hook produced, per session, waiting for the session's
//! long-poll. Kept in the shared store's queues, so an action produced on one replica
//! reaches a long-poll on any replica, in order and once: the actions of one delivery key
//! (every copy of one Genesys message) are queued once, atomically with marking the key.

use crate::bindings::types::Outcome;
use crate::kv::{Store, StoreError};
use crate::round_trips::RoundTrips;
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// How often a long-poll looks at the store for actions another replica produced.
pub const POLL_EVERY: Duration = Duration::from_millis(20);

/// Per-session action queues.
pub struct Bus {
    kv: Store,
    /// Wakes long-polls of this replica at once when this replica produced something.
    local: Notify,
}

fn queue(tenant: &str, session: &str) -> String {
    format!("bus/{tenant}/{session}")
}

/// The delivery keys whose actions are on (or were taken from) the session's queue.
fn delivered(tenant: &str, session: &str) -> String {
    format!("bus-delivered/{tenant}/{session}")
}

impl Bus {
    /// Queues kept in `kv`.
    pub fn new(kv: Store) -> Self {
        Self {
            kv,
            local: Notify::new(),
        }
    }

    /// Put an outcome's actions on its session's queue, in order; those of a delivery key
    /// only if no copy put them there before. True if something was queued. Its store
    /// request is counted on `trips`.
    pub async fn deliver(
        &self,
        tenant: &str,
        outcome: &Outcome,
        trips: &RoundTrips,
    ) -> Result<bool, StoreError> {
        let Some(session) = &outcome.session_id else {
            return Ok(false);
        };
        if outcome.actions.is_empty() {
            return Ok(false);
        }
        let items: Vec<Vec<u8>> = outcome
            .actions
            .iter()
            .map(|a| serde_json::to_vec(a).unwrap_or_default())
            .collect();
        let q = queue(tenant, session);
        trips.one();
        let queued = match &outcome.delivery_key {
            Some(key) => {
                let done = delivered(tenant, session);
                self.kv.push_once(&q, &done, key, &items).await?
            }
            None => {
                self.kv.push(&q, &items).await?;
                true
            }
        };
        if queued {
            self.local.notify_waiters();
        }
        Ok(queued)
    }

    /// The session's handover ended: forget its delivery keys (they name its conversation,
    /// so a later handover's never match them anyway). Counted on `trips`.
    pub async fn ended(
        &self,
        tenant: &str,
        session: &str,
        trips: &RoundTrips,
    ) -> Result<(), StoreError> {
        trips.one();
        self.kv.set_clear(&delivered(tenant, session)).await
    }

    /// Wait up to `wait` for actions of a session; returns and removes them.
    pub async fn take(
        &self,
        tenant: &str,
        session: &str,
        wait: Duration,
    ) -> Result<Vec<Value>, StoreError> {
        let deadline = Instant::now() + wait;
        let q = queue(tenant, session);
        loop {
            let notified = self.local.notified();
            let items = self.kv.pop(&q, 1000).await?;
            if !items.is_empty() {
                return Ok(items
                    .iter()
                    .filter_map(|b| serde_json::from_slice(b).ok())
                    .collect());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(Vec::new());
            }
            let _ = tokio::time::timeout(left.min(POLL_EVERY), notified).await;
        }
    }
}
