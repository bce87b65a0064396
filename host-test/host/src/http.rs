//! The one HTTP serving helper of the host: an accept loop with the limits a public
//! endpoint needs (header timeout that also closes idle keep-alive connections, a cap on
//! open connections, back-off when `accept` fails), serving an axum router on its own task.

use hyper_util::rt::{TokioIo, TokioTimer};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

/// Connection limits of a server.
#[derive(Clone, Copy, Debug)]
pub struct ConnLimits {
    /// A request's headers must arrive within this; a keep-alive connection idle this
    /// long is closed too.
    pub header_timeout: Duration,
    /// A request's body must arrive within this (checked by the body extractor).
    pub body_timeout: Duration,
    /// Connections open at once; past it, new ones wait in the listen backlog.
    pub max_connections: usize,
}

impl Default for ConnLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(20),
            max_connections: 1024,
        }
    }
}

/// Bind `listen` and serve `router` in the background with default limits; returns the
/// bound address.
pub async fn serve(listen: SocketAddr, router: axum::Router) -> anyhow::Result<SocketAddr> {
    serve_with(listen, router, ConnLimits::default()).await
}

/// Bind `listen` and serve `router` in the background with `limits`.
pub async fn serve_with(
    listen: SocketAddr,
    router: axum::Router,
    limits: ConnLimits,
) -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(accept_loop(listener, router, limits));
    Ok(addr)
}

async fn accept_loop(listener: TcpListener, router: axum::Router, limits: ConnLimits) {
    let open = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut backoff = Duration::ZERO;
    loop {
        let Ok(permit) = open.clone().acquire_owned().await else {
            return;
        };
        let stream = match listener.accept().await {
            Ok((stream, _)) => {
                backoff = Duration::ZERO;
                stream
            }
            Err(e) => {
                // Out of file descriptors, say: wait, longer each time, instead of spinning.
                backoff = (backoff * 2).clamp(Duration::from_millis(5), Duration::from_secs(1));
                if backoff == Duration::from_secs(1) {
                    tracing::warn!(error = %e, "accept failed; backing off");
                }
                tokio::time::sleep(backoff).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        tokio::spawn(async move {
            let svc =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let router = router.clone();
                    async move {
                        let req = req.map(axum::body::Body::new);
                        match router.oneshot(req).await {
                            Ok(r) => Ok::<_, std::convert::Infallible>(r),
                            Err(never) => match never {},
                        }
                    }
                });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .serve_connection(TokioIo::new(stream), svc)
                .await;
            drop(permit);
        });
    }
}

/// Request headers as (name, value) pairs; values that are not text are dropped.
pub fn header_pairs(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect()
}
