//! `serve`: the multi-tenant reference host, wired. The shared state is [`Server`]; this
//! module only mounts its routes, runs the listener and starts the timers, the tenant
//! watcher and the notification feeds, which all take that state and never this module.

use crate::server::Server;
use anyhow::Result;
use std::net::SocketAddr;
use std::sync::Arc;

/// Start serving (routes and timers); returns the bound address.
pub async fn start(server: Arc<Server>) -> Result<SocketAddr> {
    let router = crate::routes::router(server.clone());
    let addr = crate::http::serve_with(server.opts.listen, router, server.opts.conn).await?;
    crate::tenants::watch(server.tenants.clone(), server.metrics.clone());
    crate::notifications::spawn(server.clone());
    crate::sweeper::spawn(server);
    Ok(addr)
}
