//! The host's own records, kept in the shared store beside (never inside) the component's
//! data: which tenant an integration belongs to, which handovers are open and which have
//! messages waiting in their outbox. They come from hook outcomes, so every replica sees them.

use crate::bindings::types::{Action, HandoverStatus, Outcome, Warning};
use crate::kv::{Store, StoreError};

fn integration_key(integration_id: &str) -> String {
    format!("host/integration/{integration_id}")
}

fn open_set(tenant: &str) -> String {
    format!("host/{tenant}/open")
}

fn pending_set(tenant: &str) -> String {
    format!("host/{tenant}/pending")
}

/// The host's records over a store.
#[derive(Clone)]
pub struct Records {
    kv: Store,
}

impl Records {
    /// Records kept in `kv`.
    pub fn new(kv: Store) -> Self {
        Self { kv }
    }

    /// Learn from a hook outcome: the integration's tenant, whether the handover is open,
    /// whether something waits in its outbox.
    pub async fn learn(&self, tenant: &str, outcome: &Outcome) -> Result<(), StoreError> {
        if let Some(g) = &outcome.genesys {
            let key = integration_key(&g.integration_id);
            if self.kv.get(&key).await?.as_deref() != Some(tenant.as_bytes()) {
                self.kv.set(&key, tenant.as_bytes()).await?;
            }
        }
        let Some(user) = &outcome.user_id else {
            return Ok(());
        };
        let ended = outcome
            .actions
            .iter()
            .any(|a| matches!(a, Action::Status(HandoverStatus::Ended(_))));
        if ended {
            self.kv.set_remove(&open_set(tenant), user).await?;
            return self.kv.set_remove(&pending_set(tenant), user).await;
        }
        if outcome.genesys.is_some() {
            self.kv.set_add(&open_set(tenant), user).await?;
        }
        if outcome.warnings.contains(&Warning::DeliveryPending) {
            self.kv.set_add(&pending_set(tenant), user).await?;
        }
        Ok(())
    }

    /// A flush answered without `delivery-pending`: nothing of this user waits any more.
    pub async fn flushed(&self, tenant: &str, user: &str) -> Result<(), StoreError> {
        self.kv.set_remove(&pending_set(tenant), user).await
    }

    /// A user's handover is not open (any more).
    pub async fn closed(&self, tenant: &str, user: &str) -> Result<(), StoreError> {
        self.kv.set_remove(&open_set(tenant), user).await?;
        self.kv.set_remove(&pending_set(tenant), user).await
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

    /// Users of `tenant` with messages waiting in their outbox.
    pub async fn pending(&self, tenant: &str) -> Result<Vec<String>, StoreError> {
        self.kv.set_members(&pending_set(tenant)).await
    }
}
