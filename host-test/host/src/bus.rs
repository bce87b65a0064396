//! The bot side's inbox: actions a hook produced, per session, waiting for the session's
//! long-poll. Kept in the shared store's queues, so an action produced on one replica
//! reaches a long-poll on any replica, in order and once.

use crate::bindings::types::Outcome;
use crate::kv::{Store, StoreError};
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

impl Bus {
    /// Queues kept in `kv`.
    pub fn new(kv: Store) -> Self {
        Self {
            kv,
            local: Notify::new(),
        }
    }

    /// Put an outcome's actions on its session's queue, in order.
    pub async fn deliver(&self, tenant: &str, outcome: &Outcome) -> Result<(), StoreError> {
        let Some(session) = &outcome.session_id else {
            return Ok(());
        };
        if outcome.actions.is_empty() {
            return Ok(());
        }
        let items: Vec<Vec<u8>> = outcome
            .actions
            .iter()
            .map(|a| serde_json::to_vec(a).unwrap_or_default())
            .collect();
        self.kv.push(&queue(tenant, session), &items).await?;
        self.local.notify_waiters();
        Ok(())
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
