//! End detection over the Notifications API (the component holds no sockets): for every
//! tenant that asks for it, one replica at a time (it holds the tenant's lease) keeps
//! notification channels subscribed to the topics of each open handover's conversation,
//! reads their sockets, and feeds each event to `end`. Channels are renewed before their
//! 24-hour expiry and replaced, with every topic, when a socket closes or drops.

mod feed;
pub mod socket;

pub use feed::Feed;

use crate::server::{Call, Server};
use crate::tenant::EndDetection;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How often the lease holder compares subscriptions with the open handovers.
pub const SYNC_EVERY: Duration = Duration::from_millis(500);

/// The key of `tenant`'s notifications lease.
pub fn lease_key(tenant: &str) -> String {
    format!("host/{tenant}/notifications-lease")
}

/// Keep every tenant's feed in step with its open handovers, for as long as `server` runs.
pub fn spawn(server: Arc<Server>) {
    let weak = Arc::downgrade(&server);
    drop(server);
    tokio::spawn(async move {
        let mut feeds: HashMap<String, Feed> = HashMap::new();
        loop {
            tokio::time::sleep(SYNC_EVERY).await;
            let Some(server) = weak.upgrade() else { return };
            if server.drain.is_draining() {
                // The feeds' sockets close with them; the drain gives the leases up.
                return;
            }
            let mut wanted = Vec::new();
            for name in server.tenants.names() {
                if !server.opts.allows(&name) {
                    continue;
                }
                let Ok(loaded) = server.tenant(&name).await else {
                    continue;
                };
                if !loaded.file.detects_by(EndDetection::Notifications) {
                    continue;
                }
                let lease = lease_key(&name);
                let held = server
                    .kv
                    .try_lease(&lease, &server.replica, SYNC_EVERY * 6)
                    .await
                    .unwrap_or(false);
                if held {
                    wanted.push((name, loaded));
                }
            }
            // Tenants this replica no longer serves: their sockets close with the feed.
            feeds.retain(|name, _| wanted.iter().any(|(n, _)| n == name));
            for (name, loaded) in wanted {
                let feed = match feeds.get_mut(&name) {
                    Some(f) => f,
                    None => match Feed::new(&loaded, server.opts.egress.clone()) {
                        Ok(f) => {
                            let (tx, rx) = mpsc::channel(1024);
                            tokio::spawn(deliver(Arc::downgrade(&server), name.clone(), rx));
                            feeds.entry(name.clone()).or_insert(f.with_events(tx))
                        }
                        Err(e) => {
                            tracing::error!(tenant = %name, error = %format!("{e:#}"), "notifications: tenant not usable");
                            continue;
                        }
                    },
                };
                let conversations = match server.records.conversations(&name).await {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!(tenant = %name, error = %e, "notifications: records unreadable");
                        continue;
                    }
                };
                let topics = feed::topics(&conversations, &loaded.file.notification_topics);
                if let Err(e) = feed.sync(&topics).await {
                    server.metrics.notification_error(&name);
                    tracing::warn!(tenant = %name, error = %format!("{e:#}"), "notifications: sync failed; next round retries");
                }
            }
        }
    });
}

/// Every event frame of a tenant's sockets goes to its `end` hook, in arrival order.
async fn deliver(server: std::sync::Weak<Server>, tenant: String, mut rx: mpsc::Receiver<Vec<u8>>) {
    while let Some(frame) = rx.recv().await {
        let Some(server) = server.upgrade() else {
            return;
        };
        let Ok(loaded) = server.tenant(&tenant).await else {
            continue;
        };
        let signal = crate::bindings::types::EndSignal::GenesysEvent(frame);
        server.metrics.notification_event(&tenant);
        // A busy tenant gets the event a little later rather than never.
        for attempt in 0..50 {
            match server.run(&loaded, Call::End(signal.clone())).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::warn!(tenant = %tenant, error = ?e, "notifications: end refused the event")
                }
                Err(e) if e.is::<crate::server::Busy>() && attempt < 49 => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
                Err(e) => {
                    tracing::error!(tenant = %tenant, error = %e, "notifications: end failed")
                }
            }
            break;
        }
    }
}
