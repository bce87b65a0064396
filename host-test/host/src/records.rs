//! The host's own records, kept in the shared store beside (never inside) the component's
//! data: which tenant an integration belongs to, which handovers are open and which have
//! messages waiting in their outbox. They come from hook outcomes, so every replica sees them.

use crate::bindings::types::{Action, HandoverStatus, Outcome, Warning};
use crate::kv::{Store, StoreError};
use crate::round_trips::RoundTrips;
use std::collections::HashSet;
use std::sync::Mutex;

fn integration_key(integration_id: &str) -> String {
    format!("host/integration/{integration_id}")
}

fn open_set(tenant: &str) -> String {
    format!("host/{tenant}/open")
}

fn pending_set(tenant: &str) -> String {
    format!("host/{tenant}/pending")
}

/// Genesys conversation ids of the tenant's open handovers (what end detection watches).
fn conversations_set(tenant: &str) -> String {
    format!("host/{tenant}/conversations")
}

/// The Genesys conversation of a user's open handover.
fn conversation_of(tenant: &str, user: &str) -> String {
    format!("host/{tenant}/conversation-of/{user}")
}

/// Whether an outcome ends its handover (an `ended` status among its actions).
pub(crate) fn ends(outcome: &Outcome) -> bool {
    outcome
        .actions
        .iter()
        .any(|a| matches!(a, Action::Status(HandoverStatus::Ended(_))))
}

/// The host's records over a store.
pub struct Records {
    kv: Store,
    /// What this replica already wrote (integration and open-handover entries), so a
    /// webhook's hot path does not write them again on every call.
    written: Mutex<HashSet<String>>,
}

impl Records {
    /// Records kept in `kv`.
    pub fn new(kv: Store) -> Self {
        Self {
            kv,
            written: Mutex::new(HashSet::new()),
        }
    }

    /// The store, for one request of a hook call's routing: counted on `trips`.
    fn counted(&self, trips: &RoundTrips) -> &Store {
        trips.one();
        &self.kv
    }

    /// Whether this replica has not written `entry` yet.
    fn unwritten(&self, entry: &str) -> bool {
        !self.written.lock().unwrap().contains(entry)
    }

    fn wrote(&self, entry: String) {
        self.written.lock().unwrap().insert(entry);
    }

    /// Forget every entry that starts with `prefix`.
    fn forget(&self, prefix: &str) {
        self.written
            .lock()
            .unwrap()
            .retain(|e| !e.starts_with(prefix));
    }

    /// Learn from a hook outcome: the integration's tenant, whether the handover is open,
    /// whether something waits in its outbox. Its store requests are counted on `trips`.
    pub async fn learn(
        &self,
        tenant: &str,
        outcome: &Outcome,
        trips: &RoundTrips,
    ) -> Result<(), StoreError> {
        if let Some(g) = &outcome.genesys {
            let key = integration_key(&g.integration_id);
            let entry = format!("{key}={tenant}");
            if self.unwritten(&entry) {
                self.counted(trips).set(&key, tenant.as_bytes()).await?;
                self.wrote(entry);
            }
        }
        let Some(user) = &outcome.user_id else {
            return Ok(());
        };
        if ends(outcome) {
            return self.closed(tenant, user, trips).await;
        }
        // Per conversation: the user's next handover is a new entry, whatever another
        // replica removed in between.
        if let Some(g) = &outcome.genesys {
            let open = format!("{}\n{user}\n{}", open_set(tenant), g.conversation_id);
            if self.unwritten(&open) {
                // The mapping first: a crash in between leaves nothing `closed` cannot find.
                let conv = &g.conversation_id;
                self.counted(trips)
                    .set(&conversation_of(tenant, user), conv.as_bytes())
                    .await?;
                let conversations = conversations_set(tenant);
                self.counted(trips).set_add(&conversations, conv).await?;
                self.counted(trips).set_add(&open_set(tenant), user).await?;
                self.wrote(open);
            }
        }
        if outcome.warnings.contains(&Warning::DeliveryPending) {
            self.counted(trips)
                .set_add(&pending_set(tenant), user)
                .await?;
        }
        Ok(())
    }

    /// A flush answered without `delivery-pending`: nothing of this user waits any more.
    pub async fn flushed(&self, tenant: &str, user: &str) -> Result<(), StoreError> {
        self.kv.set_remove(&pending_set(tenant), user).await
    }

    /// A user's handover is not open (any more). Its store requests are counted on `trips`.
    pub async fn closed(
        &self,
        tenant: &str,
        user: &str,
        trips: &RoundTrips,
    ) -> Result<(), StoreError> {
        self.forget(&format!("{}\n{user}\n", open_set(tenant)));
        let key = conversation_of(tenant, user);
        if let Some(conv) = self.counted(trips).get(&key).await? {
            let conv = String::from_utf8_lossy(&conv).to_string();
            self.counted(trips)
                .set_remove(&conversations_set(tenant), &conv)
                .await?;
            self.counted(trips).delete(&key).await?;
        }
        self.counted(trips)
            .set_remove(&open_set(tenant), user)
            .await?;
        self.counted(trips)
            .set_remove(&pending_set(tenant), user)
            .await
    }

    /// The tenant an integration id belongs to, as learnt from outcomes.
    pub async fn tenant_of(&self, integration_id: &str) -> Result<Option<String>, StoreError> {
        if integration_id.is_empty() || integration_id.len() > 128 {
            return Ok(None);
        }
        let v = self.kv.get(&integration_key(integration_id)).await?;
        Ok(v.and_then(|b| String::from_utf8(b).ok()))
    }

    /// Users of `tenant` with an open handover.
    pub async fn open(&self, tenant: &str) -> Result<Vec<String>, StoreError> {
        self.kv.set_members(&open_set(tenant)).await
    }

    /// Genesys conversation ids of `tenant`'s open handovers.
    pub async fn conversations(&self, tenant: &str) -> Result<Vec<String>, StoreError> {
        self.kv.set_members(&conversations_set(tenant)).await
    }

    /// Users of `tenant` with messages waiting in their outbox.
    pub async fn pending(&self, tenant: &str) -> Result<Vec<String>, StoreError> {
        self.kv.set_members(&pending_set(tenant)).await
    }
}
