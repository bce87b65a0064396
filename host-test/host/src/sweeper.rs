//! Timed work of `serve`: flush outboxes that have something waiting and give open
//! handovers their inactivity check. One replica at a time does a tenant's round: it holds
//! the tenant's lease in the shared store, so N replicas do not do N times the work. Also
//! drops the bot side's streams nobody collected within their TTL (memory and file stores;
//! Redis expires them itself).

use crate::bindings::types::{Action, EndSignal, HandoverStatus, Warning};
use crate::server::{Call, Server};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Start the timers of `server` (each one off when its interval is zero).
pub fn spawn(server: Arc<Server>) {
    if server.kv.kind() != "redis" {
        let purger = server.clone();
        let every =
            (server.opts.bus.ttl / 4).clamp(Duration::from_millis(10), Duration::from_secs(60));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                match purger.bus.purge_expired().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(streams = n, "dropped uncollected action streams"),
                    Err(e) => {
                        purger.metrics.store_error();
                        tracing::warn!(error = %e, "could not drop expired action streams");
                    }
                }
            }
        });
    }
    let every = server.opts.flush_every;
    if every.is_zero() && server.opts.inactivity_every.is_zero() {
        return;
    }
    let tick = if every.is_zero() {
        server.opts.inactivity_every
    } else {
        every
    };
    tokio::spawn(async move {
        let mut last_inactivity = Instant::now();
        loop {
            tokio::time::sleep(tick).await;
            let check = !server.opts.inactivity_every.is_zero()
                && last_inactivity.elapsed() >= server.opts.inactivity_every;
            if check {
                last_inactivity = Instant::now();
            }
            if server.drain.is_draining() {
                // Leases are given up by the drain; taking them again would keep them here.
                return;
            }
            for tenant in server.tenants.names() {
                if server.opts.allows(&tenant) {
                    let flush = !server.opts.flush_every.is_zero();
                    round(&server, &tenant, tick, flush, check).await;
                }
            }
        }
    });
}

/// The key of `tenant`'s sweep lease.
pub fn lease_key(tenant: &str) -> String {
    format!("sweep/{tenant}")
}

/// One round for one tenant, if this replica holds the tenant's lease: flush the outboxes
/// with something waiting (`flush`), check open handovers for inactivity (`inactivity`).
pub async fn round(server: &Server, tenant: &str, tick: Duration, flush: bool, inactivity: bool) {
    let lease = lease_key(tenant);
    match server.kv.try_lease(&lease, &server.replica, tick * 3).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            server.metrics.store_error();
            tracing::warn!(tenant, error = %e, "sweep lease unavailable");
            return;
        }
    }
    let Ok(loaded) = server.tenant(tenant).await else {
        return;
    };
    let pending = if flush {
        server.records.pending(tenant).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    for user in pending {
        if let Ok(Ok(o)) = server.run(&loaded, Call::Flush(user.clone())).await {
            if !o.warnings.contains(&Warning::DeliveryPending) {
                let _ = server.records.flushed(tenant, &user).await;
            }
        }
    }
    if !inactivity {
        return;
    }
    if let Ok(users) = server.records.open(tenant).await {
        for user in users {
            let r = server
                .run(&loaded, Call::End(EndSignal::InactivityCheck(user.clone())))
                .await;
            let ended = matches!(&r, Ok(Ok(o)) if o.actions.iter().any(|a| matches!(a, Action::Status(HandoverStatus::Ended(_)))));
            if !ended {
                let _ = server.run(&loaded, Call::Flush(user)).await;
            }
        }
    }
}
