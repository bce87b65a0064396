//! The one HTTP serving helper of the host: an accept loop with the limits a public
//! endpoint needs (header timeout that also closes idle keep-alive connections, a cap on
//! open connections, back-off when `accept` fails), serving an axum router on its own task,
//! and closing gracefully when its [`Drain`] closes: no new connection, each open one
//! finishes the request it has and closes. (While draining it still accepts: the routes
//! answer.)

use crate::drain::{Drain, Stage};
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
    let never = Arc::new(Drain::default());
    Ok(serve_until(listen, router, limits, never).await?.0)
}

/// Bind `listen` and serve `router` in the background with `limits` until `drain` closes;
/// returns the bound address and a task that ends once every connection has closed.
pub async fn serve_until(
    listen: SocketAddr,
    router: axum::Router,
    limits: ConnLimits,
    drain: Arc<Drain>,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    Ok((
        addr,
        tokio::spawn(accept_loop(listener, router, limits, drain)),
    ))
}

async fn accept_loop(
    listener: TcpListener,
    router: axum::Router,
    limits: ConnLimits,
    drain: Arc<Drain>,
) {
    let max = limits
        .max_connections
        .clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
    let open = Arc::new(Semaphore::new(max));
    let mut backoff = Duration::ZERO;
    loop {
        let permit = tokio::select! {
            p = open.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return,
            },
            _ = drain.reached(Stage::Closed) => break,
        };
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = drain.reached(Stage::Closed) => break,
        };
        let stream = match accepted {
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
        let drain = drain.clone();
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
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .serve_connection(TokioIo::new(stream), svc);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = drain.reached(Stage::Closed) => {
                    // Finish the request in hand (its answer says `connection: close`), no more.
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
            drop(permit);
        });
    }
    // Closed: no new connections (the listener closes here); wait for the open ones.
    drop(listener);
    let _ = open.acquire_many(max as u32).await;
}

/// Request headers as (name, value) pairs; values that are not text are dropped.
pub fn header_pairs(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect()
}
