//! The host's own records, kept in the shared store beside (never inside) the component's
//! data: which tenant an integration belongs to, which handovers are open and which have
//! messages waiting in their outbox. They come from hook outcomes, so every replica sees them.

use crate::bindings::types::{Action, HandoverStatus, Outcome, Warning};
use crate::kv::{Store, StoreError, Then, Write};
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

    /// What the host learns from an outcome: the integration's tenant, the open handover
    /// (or its end), a pending outbox; written with `also` (the caller's clean-ups) in one
    /// batch, after at most one read. Its store requests are counted on `trips`.
    pub async fn learn(
        &self,
        tenant: &str,
        outcome: &Outcome,
        trips: &RoundTrips,
        also: Vec<Write>,
    ) -> Result<(), StoreError> {
        let mut writes = also;
        let mut remember = Vec::new();
        if let Some(g) = &outcome.genesys {
            let key = integration_key(&g.integration_id);
            let entry = format!("{key}={tenant}");
            if self.unwritten(&entry) {
                writes.push(Write::Set(key, tenant.as_bytes().to_vec()));
                remember.push(entry);
            }
        }
        if let Some(user) = &outcome.user_id {
            if ends(outcome) {
                let conv = outcome.genesys.as_ref().map(|g| g.conversation_id.as_str());
                writes.extend(self.closed_writes(tenant, user, conv, trips).await?);
            } else {
                if let Some(g) = &outcome.genesys {
                    // Per conversation: the user's next handover is a new entry, whatever
                    // another replica removed in between.
                    let open = format!("{}\n{user}\n{}", open_set(tenant), g.conversation_id);
                    if self.unwritten(&open) {
                        // The mapping first: a store that applies a batch in part (a
                        // cluster, slot by slot) leaves nothing `closed` cannot find.
                        let conv = &g.conversation_id;
                        writes.push(Write::Set(
                            conversation_of(tenant, user),
                            conv.as_bytes().to_vec(),
                        ));
                        writes.push(Write::SetAdd(conversations_set(tenant), conv.clone()));
                        writes.push(Write::SetAdd(open_set(tenant), user.clone()));
                        remember.push(open);
                    }
                }
                if outcome.warnings.contains(&Warning::DeliveryPending) {
                    writes.push(Write::SetAdd(pending_set(tenant), user.clone()));
                }
            }
        }
        if !writes.is_empty() {
            self.counted(trips)
                .write_then(&writes, Then::Nothing)
                .await?;
        }
        remember.into_iter().for_each(|e| self.wrote(e));
        Ok(())
    }

    /// A flush answered without `delivery-pending`: nothing of this user waits any more.
    pub async fn flushed(&self, tenant: &str, user: &str) -> Result<(), StoreError> {
        self.kv.set_remove(&pending_set(tenant), user).await
    }

    /// A user's handover is not open (any more): one read, then one batch. Its store
    /// requests are counted on `trips`.
    pub async fn closed(
        &self,
        tenant: &str,
        user: &str,
        trips: &RoundTrips,
    ) -> Result<(), StoreError> {
        let writes = self.closed_writes(tenant, user, None, trips).await?;
        self.counted(trips)
            .write_then(&writes, Then::Nothing)
            .await
            .map(drop)
    }

    /// The writes that forget a user's open handover. Its Genesys conversation, when the
    /// outcome names it (`conv`), is forgotten without a read, and only where it is still
    /// the user's; otherwise the stored one is read first.
    async fn closed_writes(
        &self,
        tenant: &str,
        user: &str,
        conv: Option<&str>,
        trips: &RoundTrips,
    ) -> Result<Vec<Write>, StoreError> {
        self.forget(&format!("{}\n{user}\n", open_set(tenant)));
        let key = conversation_of(tenant, user);
        let mut writes = Vec::new();
        match conv.filter(|c| !c.is_empty()) {
            Some(conv) => {
                writes.push(Write::SetRemove(
                    conversations_set(tenant),
                    conv.to_string(),
                ));
                writes.push(Write::DeleteIfEqual(key, conv.as_bytes().to_vec()));
            }
            None => {
                if let Some(conv) = self.counted(trips).get(&key).await? {
                    let conv = String::from_utf8_lossy(&conv).to_string();
                    writes.push(Write::SetRemove(conversations_set(tenant), conv));
                    writes.push(Write::Delete(key));
                }
            }
        }
        writes.push(Write::SetRemove(open_set(tenant), user.to_string()));
        writes.push(Write::SetRemove(pending_set(tenant), user.to_string()));
        Ok(writes)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::types::{EndReason, GenesysRef};

    fn outcome(user: &str, conv: &str, ended: bool) -> Outcome {
        let actions = match ended {
            true => vec![Action::Status(HandoverStatus::Ended(EndReason::AgentEnded))],
            false => Vec::new(),
        };
        Outcome {
            session_id: Some(format!("s-{user}")),
            user_id: Some(user.into()),
            genesys: Some(GenesysRef {
                integration_id: "i1".into(),
                conversation_id: conv.into(),
            }),
            actions,
            delivery_key: None,
            warnings: Vec::new(),
        }
    }

    async fn learn(records: &Records, trips: &RoundTrips, user: &str, conv: &str, ended: bool) {
        let o = outcome(user, conv, ended);
        records.learn("t", &o, trips, vec![]).await.unwrap();
    }

    /// An end that names its conversation forgets it in one batch, without a read; where
    /// the user's stored conversation is another one, that one is kept.
    #[tokio::test]
    async fn an_end_forgets_its_own_conversation_in_one_request() {
        let kv = Store::memory();
        let records = Records::new(kv.clone());
        let trips = RoundTrips::new();
        learn(&records, &trips, "u", "c1", false).await;
        learn(&records, &trips, "v", "c2", false).await;
        assert_eq!(records.open("t").await.unwrap().len(), 2);

        let trips = RoundTrips::new();
        learn(&records, &trips, "u", "c1", true).await;
        assert_eq!(trips.count(), 1, "the end's clean-up is one request");
        assert_eq!(records.conversations("t").await.unwrap(), ["c2"]);
        assert_eq!(records.open("t").await.unwrap(), ["v"]);
        assert!(!kv.exists(&conversation_of("t", "u")).await.unwrap());

        // v's stored conversation is c3 by now (a later handover): an end naming c2
        // removes c2 and leaves c3's mapping alone.
        learn(&records, &trips, "v", "c3", false).await;
        learn(&records, &trips, "v", "c2", true).await;
        assert_eq!(records.conversations("t").await.unwrap(), ["c3"]);
        let kept = kv.get(&conversation_of("t", "v")).await.unwrap();
        assert_eq!(kept.as_deref(), Some(&b"c3"[..]));

        // Without a conversation, the stored one is read and forgotten.
        let trips = RoundTrips::new();
        records.closed("t", "v", &trips).await.unwrap();
        assert_eq!(trips.count(), 2);
        assert!(records.conversations("t").await.unwrap().is_empty());
        assert!(!kv.exists(&conversation_of("t", "v")).await.unwrap());
        assert!(records.open("t").await.unwrap().is_empty());
    }
}
