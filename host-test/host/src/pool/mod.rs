//! Connections that last, for the component's requests and the host's own: hyper-util's
//! pooled client over hyper-rustls (one multiplexed HTTP/2 connection where the server
//! offers `h2`, kept-alive HTTP/1.1 ones otherwise), where wasmtime-wasi-http's default
//! sender opens a connection per request. What remains here is a thin layer for what the
//! client has no setting for: the request's own timeouts ([`connect`], [`body`]), one more
//! try for an idempotent request whose kept connection closed after it was written, counts
//! of the connections opened, and wasmtime-wasi-http's error type.
//! [`Pool::fresh`] opens a connection per request (to measure what the pool saves).

mod body;
mod connect;
mod tls;

pub use tls::TlsClient;

use body::TimedBody;
use connect::{ConnectTimedOut, Connector, Counts, CONNECT_TIMEOUT, DEFAULT_TIMEOUT};
use http::{Request, Response};
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::error::Error as _;
use std::sync::atomic::Ordering;
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody};

/// Idle HTTP/1.1 connections kept per scheme and authority.
pub const IDLE_PER_HOST: usize = 32;

/// How long an idle connection is kept: under the idle timeouts of the usual load
/// balancers (60 s), so a connection is seldom reused just as its server closes it.
pub const MAX_IDLE: Duration = Duration::from_secs(30);

/// How often an HTTP/2 connection is pinged (idle or not), and how long an answer may take
/// before it is given up as dead: pings find a connection that a NAT or load balancer
/// dropped without a word, so it is replaced instead of taking every request's timeout.
const H2_PING_EVERY: Duration = Duration::from_secs(20);
const H2_PING_TIMEOUT: Duration = Duration::from_secs(10);

/// The process's pool for Genesys Cloud (web PKI roots only). Connections hold no
/// credentials; tenants share them.
pub static POOL: LazyLock<Arc<Pool>> = LazyLock::new(|| Arc::new(Pool::new(TlsClient::web_pki())));

/// Connections by scheme and authority.
pub struct Pool {
    client: Client<Connector, WasiBody>,
    tls: TlsClient,
    counts: Arc<Counts>,
}

impl Pool {
    /// A pool whose TLS connections are verified by `tls`.
    pub fn new(tls: TlsClient) -> Self {
        Self::build(tls, IDLE_PER_HOST, MAX_IDLE)
    }

    /// No pooling: a new connection (TCP, TLS, handshake) for every request, closed after
    /// its response. For comparisons only.
    pub fn fresh(tls: TlsClient) -> Self {
        Self::build(tls, 0, MAX_IDLE)
    }

    fn build(tls: TlsClient, idle_per_host: usize, max_idle: Duration) -> Self {
        let counts = Arc::new(Counts::default());
        let client = Client::builder(TokioExecutor::new())
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(max_idle)
            .pool_max_idle_per_host(idle_per_host)
            .http2_keep_alive_interval(H2_PING_EVERY)
            .http2_keep_alive_timeout(H2_PING_TIMEOUT)
            .http2_keep_alive_while_idle(true)
            // A request that meets a kept connection its server just closed, before any of
            // it was written, goes on a new one. A written one never goes twice.
            .retry_canceled_requests(true)
            .build(Connector::new(&tls, counts.clone()));
        Pool {
            client,
            tls,
            counts,
        }
    }

    /// Its TLS client.
    pub fn tls(&self) -> &TlsClient {
        &self.tls
    }

    /// Connections opened so far.
    pub fn opened(&self) -> u64 {
        self.counts.opened.load(Ordering::Relaxed)
    }

    /// Of them, HTTP/2 ones.
    pub fn opened_h2(&self) -> u64 {
        self.counts.opened_h2.load(Ordering::Relaxed)
    }

    /// Idempotent requests sent again, on another connection, after a kept one closed under
    /// them.
    pub fn resent(&self) -> u64 {
        self.counts.resent.load(Ordering::Relaxed)
    }

    /// Send `req` on a kept connection to its host, or a new one, within the request's
    /// timeouts: the connect timeout for TCP and TLS, the first-byte timeout from now to the
    /// response's head, the between-bytes timeout between the body's frames.
    pub(crate) async fn send(
        &self,
        req: Request<WasiBody>,
        options: Option<RequestOptions>,
    ) -> Result<Response<WasiBody>, Error> {
        let connect = options
            .and_then(|o| o.connect_timeout)
            .unwrap_or(DEFAULT_TIMEOUT);
        let first_byte = options
            .and_then(|o| o.first_byte_timeout)
            .unwrap_or(DEFAULT_TIMEOUT);
        let between_bytes = options
            .and_then(|o| o.between_bytes_timeout)
            .unwrap_or(DEFAULT_TIMEOUT)
            .max(Duration::from_nanos(1));
        let host = req.uri().host().unwrap_or("").to_string();
        let exchange = async {
            // hyper-util sends a request again only if none of it was written. A kept
            // connection may also close just after a request was written to it (measured:
            // the close-under-request test fails within a few requests without this), so
            // an idempotent request's body is kept, and it goes once more, on another
            // connection. Any other request's failure goes to the component, whose retry
            // counts it (a 409 "already received" then means done).
            let (req, copy) = if idempotent(req.method()) {
                let (req, copy) = body::buffered(req).await?;
                (req, Some(copy))
            } else {
                (req, None)
            };
            match (self.client.request(req).await, copy) {
                (Err(e), Some(copy)) if closed_under(&e) => {
                    tracing::debug!(host = %host, "a kept connection was closed; sending on a new one");
                    self.counts.resent.fetch_add(1, Ordering::Relaxed);
                    self.client.request(copy).await
                }
                (result, _) => result,
            }
            .map_err(|e| wasi_error(&host, e))
        };
        let res = tokio::time::timeout(first_byte, CONNECT_TIMEOUT.scope(connect, exchange))
            .await
            .map_err(|_| Error::ConnectionReadTimeout)??;
        let mut timer = tokio::time::interval(between_bytes);
        timer.reset();
        Ok(res.map(|incoming| TimedBody { incoming, timer }.boxed_unsync()))
    }
}

/// Whether a method may be repeated without changing the outcome (RFC 9110, 9.2.2).
fn idempotent(m: &http::Method) -> bool {
    use http::Method;
    [
        Method::GET,
        Method::HEAD,
        Method::PUT,
        Method::DELETE,
        Method::OPTIONS,
    ]
    .contains(m)
}

/// Whether a request failed because its connection (not a new one's connect) closed before
/// any answer: reset, or closed without a response.
fn closed_under(e: &hyper_util::client::legacy::Error) -> bool {
    use std::io::ErrorKind::*;
    let Some(h) = e.source().and_then(|s| s.downcast_ref::<hyper::Error>()) else {
        return false;
    };
    let io = h
        .source()
        .and_then(|s| s.downcast_ref::<std::io::Error>())
        .map(|io| io.kind());
    !e.is_connect()
        && (h.is_canceled()
            || h.is_closed()
            || h.is_incomplete_message()
            || matches!(
                io,
                Some(ConnectionReset | BrokenPipe | ConnectionAborted | UnexpectedEof)
            ))
}

/// The client's error as wasmtime-wasi-http's: a connect timeout, a TLS failure (the
/// rustls error kept, so a certificate's can be told apart), a failed connect, or else a
/// protocol error (what a hyper error becomes for the component).
fn wasi_error(host: &str, e: hyper_util::client::legacy::Error) -> Error {
    use tokio_rustls::rustls;
    let mut cause: Option<&(dyn std::error::Error + 'static)> = e.source();
    let mut io = None;
    while let Some(c) = cause {
        if c.is::<ConnectTimedOut>() {
            return Error::ConnectionTimeout;
        }
        if let Some(tls) = c.downcast_ref::<rustls::Error>() {
            tracing::warn!(host = %host, error = %tls, "TLS handshake failed: nothing was sent");
            let io = std::io::Error::new(std::io::ErrorKind::InvalidData, tls.clone());
            return Error::Tls(io);
        }
        if let Some(h) = c.downcast_ref::<hyper::Error>() {
            if h.is_timeout() {
                return Error::HttpResponseTimeout;
            }
        }
        // An I/O error's `source` skips the error it wraps.
        cause = match c.downcast_ref::<std::io::Error>() {
            Some(e) => {
                io.get_or_insert(e);
                e.get_ref()
                    .map(|inner| inner as &(dyn std::error::Error + 'static))
            }
            None => c.source(),
        };
    }
    match io {
        Some(io) if e.is_connect() => {
            Error::Connect(std::io::Error::new(io.kind(), io.to_string()))
        }
        _ => {
            tracing::warn!(host = %host, error = ?e, "request failed");
            Error::HttpProtocolError
        }
    }
}

#[cfg(test)]
mod tests;
