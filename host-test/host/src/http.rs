//! The one HTTP serving helper of the host: bind on loopback (or the given address) and
//! serve an axum router on its own task.

use std::net::SocketAddr;

/// Bind `listen` and serve `router` in the background; returns the bound address.
pub async fn serve(listen: SocketAddr, router: axum::Router) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "server stopped");
        }
    });
    Ok(addr)
}

/// Request headers as (name, value) pairs; values that are not text are dropped.
pub fn header_pairs(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect()
}
