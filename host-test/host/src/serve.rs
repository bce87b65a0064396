//! `serve`: the multi-tenant reference host, wired. The shared state is [`Server`]; this
//! module only mounts its routes, runs the listener and starts the timers, the tenant
//! watcher and the notification feeds, which all take that state and never this module;
//! and it drains the replica when it is told to go ([`drain`]).

use crate::server::Server;
use anyhow::Result;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// A started server: where it listens, and the task that ends when its last connection
/// closed after a drain.
pub struct Running {
    /// The bound address.
    pub addr: SocketAddr,
    connections: JoinHandle<()>,
}

/// Start serving (routes and timers); returns the bound address.
pub async fn start(server: Arc<Server>) -> Result<SocketAddr> {
    Ok(start_drainable(server).await?.addr)
}

/// Start serving (routes and timers), keeping what [`drain`] needs.
pub async fn start_drainable(server: Arc<Server>) -> Result<Running> {
    let router = crate::routes::router(server.clone());
    let (addr, connections) = crate::http::serve_until(
        server.opts.listen,
        router,
        server.opts.conn,
        server.drain.clone(),
    )
    .await?;
    crate::tenants::watch(server.tenants.clone(), server.metrics.clone());
    crate::notifications::spawn(server.clone());
    crate::sweeper::spawn(server);
    Ok(Running { addr, connections })
}

/// Drain the replica (`SIGTERM`): `/readyz` answers 503 at once; long-polls are handed
/// back empty (the bot polls another replica) and new work is refused with 503 +
/// `Retry-After`; the timers' and notification feeds' leases are given up so another
/// replica takes them at once; the requests in flight finish, for at most `timeout`; then
/// every connection closes. True if the requests in flight finished in time. Outboxes are
/// in the shared store: another replica's sweeper flushes them.
pub async fn drain(server: &Server, running: Running, timeout: Duration) -> bool {
    let began = tokio::time::Instant::now();
    server.drain.start();
    give_leases_up(server).await;
    let finished = tokio::time::timeout(timeout, server.drain.idle())
        .await
        .is_ok();
    server.drain.close();
    let left = timeout
        .saturating_sub(began.elapsed())
        .max(Duration::from_millis(100));
    let _ = tokio::time::timeout(left, running.connections).await;
    // A round that was under way when the drain began may have renewed one.
    give_leases_up(server).await;
    if let Err(e) = server.kv.sync().await {
        tracing::error!(error = %e, "drain: the store could not sync");
    }
    finished
}

async fn give_leases_up(server: &Server) {
    for tenant in server.tenants.names() {
        for lease in [
            crate::sweeper::lease_key(&tenant),
            crate::notifications::lease_key(&tenant),
        ] {
            if let Err(e) = server.kv.release_lease(&lease, &server.replica).await {
                tracing::warn!(tenant, error = %e, "drain: a lease could not be given up");
            }
        }
    }
}
