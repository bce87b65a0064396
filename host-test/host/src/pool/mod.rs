//! Connections that last, for the component's requests and the host's own: per scheme and
//! authority, one multiplexed HTTP/2 connection where the server offers `h2` in ALPN, idle
//! HTTP/1.1 keep-alive connections otherwise. So a handover's messages to Genesys reuse one
//! TCP and TLS connection instead of a handshake per request, which is what
//! wasmtime-wasi-http's default sender does. TLS is rustls with the web PKI roots
//! ([`TlsClient`]); timeouts follow the request's options as the default sender's do.
//! [`Pool::fresh`] opens a connection per request (to measure what the pool saves).

mod body;
mod conn;
mod tls;

pub use tls::TlsClient;

use body::TimedBody;
use conn::Sender;
use http::{Request, Response};
use http_body_util::BodyExt;
use hyper::client::conn::{http1, http2};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody};

/// Idle HTTP/1.1 connections kept per scheme and authority.
pub const IDLE_PER_HOST: usize = 32;

/// How long an idle HTTP/1.1 connection is kept: under the idle timeouts of the usual load
/// balancers (60 s), so a connection is seldom reused just as its server closes it.
pub const MAX_IDLE: Duration = Duration::from_secs(30);

/// The process's pool for Genesys Cloud (web PKI roots only). Connections hold no
/// credentials; tenants share them.
pub static POOL: LazyLock<Arc<Pool>> = LazyLock::new(|| Arc::new(Pool::new(TlsClient::web_pki())));

/// An idle HTTP/1.1 connection and since when it is idle.
type Idle = (http1::SendRequest<WasiBody>, Instant);

/// Connections by `scheme://host:port`.
pub struct Pool {
    tls: TlsClient,
    reuse: bool,
    idle: Mutex<HashMap<String, Vec<Idle>>>,
    multiplexed: Mutex<HashMap<String, http2::SendRequest<WasiBody>>>,
    opened: AtomicU64,
    opened_h2: AtomicU64,
    resent: AtomicU64,
}

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

impl Pool {
    /// A pool whose TLS connections are verified by `tls`.
    pub fn new(tls: TlsClient) -> Self {
        Pool {
            tls,
            reuse: true,
            idle: Mutex::default(),
            multiplexed: Mutex::default(),
            opened: AtomicU64::new(0),
            opened_h2: AtomicU64::new(0),
            resent: AtomicU64::new(0),
        }
    }

    /// No pooling: a new connection (TCP, TLS, handshake) for every request, closed after
    /// its response. For comparisons only.
    pub fn fresh(tls: TlsClient) -> Self {
        Pool {
            reuse: false,
            ..Pool::new(tls)
        }
    }

    /// Its TLS client.
    pub fn tls(&self) -> &TlsClient {
        &self.tls
    }

    /// Connections opened so far.
    pub fn opened(&self) -> u64 {
        self.opened.load(Ordering::Relaxed)
    }

    /// Of them, HTTP/2 ones.
    pub fn opened_h2(&self) -> u64 {
        self.opened_h2.load(Ordering::Relaxed)
    }

    /// Requests sent again on a new connection after a kept one closed under them.
    pub fn resent(&self) -> u64 {
        self.resent.load(Ordering::Relaxed)
    }

    /// A live connection to `key`: the HTTP/2 one, or an idle HTTP/1.1 one.
    fn take(&self, key: &str) -> Option<Sender> {
        if !self.reuse {
            return None;
        }
        {
            let mut shared = self.multiplexed.lock().unwrap();
            match shared.get(key) {
                Some(s) if !s.is_closed() => return Some(Sender::H2(s.clone())),
                Some(_) => {
                    shared.remove(key);
                }
                None => {}
            }
        }
        let mut idle = self.idle.lock().unwrap();
        let list = idle.get_mut(key)?;
        // Closed and long-idle ones go; busy ones (a response body still being read) stay
        // for later.
        list.retain(|(s, since)| !s.is_closed() && since.elapsed() < MAX_IDLE);
        let i = list.iter().position(|(s, _)| s.is_ready())?;
        Some(Sender::H1(list.swap_remove(i).0))
    }

    /// Drop the shared HTTP/2 connection to `key` once it is closed (a request met it closed).
    fn forget(&self, key: &str) {
        let mut shared = self.multiplexed.lock().unwrap();
        if shared.get(key).is_some_and(|s| s.is_closed()) {
            shared.remove(key);
        }
    }

    /// Keep a connection for the next request to `key`.
    fn keep(&self, key: String, sender: Sender) {
        if !self.reuse {
            return;
        }
        match sender {
            // One per host: a later one (two opened at once) replaces it, and the other
            // closes once its requests are done.
            Sender::H2(s) => {
                self.multiplexed.lock().unwrap().insert(key, s);
            }
            Sender::H1(s) => {
                let mut idle = self.idle.lock().unwrap();
                let list = idle.entry(key).or_default();
                if list.len() < IDLE_PER_HOST {
                    list.push((s, Instant::now()));
                }
            }
        }
    }

    /// Send `req` on a live connection to its host, or a new one.
    pub(crate) async fn send(
        &self,
        mut req: Request<WasiBody>,
        options: Option<RequestOptions>,
    ) -> Result<Response<WasiBody>, Error> {
        let uri = req.uri().clone();
        let host = uri.host().ok_or(Error::HttpRequestUriInvalid)?.to_string();
        let https = uri.scheme_str() == Some("https");
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let authority = format!("{host}:{port}");
        let key = format!("{}://{authority}", if https { "https" } else { "http" });
        let connect_timeout = options
            .and_then(|o| o.connect_timeout)
            .unwrap_or(DEFAULT_TIMEOUT);
        let first_byte = options
            .and_then(|o| o.first_byte_timeout)
            .unwrap_or(DEFAULT_TIMEOUT);
        let between_bytes = options
            .and_then(|o| o.between_bytes_timeout)
            .unwrap_or(DEFAULT_TIMEOUT)
            .max(Duration::from_nanos(1));
        let deadline = tokio::time::Instant::now() + first_byte;
        let open = || async {
            let host = host.trim_matches(['[', ']']);
            let s = conn::open(&self.tls, host, &authority, https, connect_timeout).await?;
            self.opened.fetch_add(1, Ordering::Relaxed);
            if let Sender::H2(h2) = &s {
                self.opened_h2.fetch_add(1, Ordering::Relaxed);
                self.keep(key.clone(), Sender::H2(h2.clone()));
            }
            Ok::<_, Error>(s)
        };
        let (mut sender, reused) = match self.take(&key) {
            Some(s) => (s, true),
            None => (open().await?, false),
        };
        // A kept connection may meet the close its server sends after an idle while. An
        // idempotent request's body is kept (Genesys requests are small), so that it can go
        // again even after it was written; any other goes again only if it was never sent.
        let mut copy = None;
        if reused && idempotent(req.method()) {
            let (buffered, kept) = tokio::time::timeout_at(deadline, body::buffered(req))
                .await
                .map_err(|_| Error::ConnectionReadTimeout)??;
            req = buffered;
            copy = Some(kept);
        }
        *req.uri_mut() = wire_uri(&req, &uri, &authority, sender.is_h2())?;
        let sent = tokio::time::timeout_at(deadline, sender.send(req))
            .await
            .map_err(|_| Error::ConnectionReadTimeout)?;
        let again = match sent {
            Ok(res) => Err(res),
            // Never written: safe for any method.
            Err((_, Some(req))) if reused => Ok(req),
            // Written to a connection that closed before any answer: the server may have
            // handled it, so only an idempotent request goes again. A POST's failure goes to
            // the component, whose retry counts it (a 409 "already received" then means done).
            Err((e, None)) if reused && closed_under(&e) && copy.is_some() => {
                Ok(copy.take().expect("kept above").request(uri.clone()))
            }
            Err((e, _)) => return Err(Error::from(e)),
        };
        let res = match again {
            Err(res) => res,
            Ok(mut req) => {
                tracing::debug!(key = %key, "a kept connection was closed; sending on a new one");
                self.resent.fetch_add(1, Ordering::Relaxed);
                self.forget(&key);
                sender = tokio::time::timeout_at(deadline, open())
                    .await
                    .map_err(|_| Error::ConnectionTimeout)??;
                *req.uri_mut() = wire_uri(&req, &uri, &authority, sender.is_h2())?;
                tokio::time::timeout_at(deadline, sender.send(req))
                    .await
                    .map_err(|_| Error::ConnectionReadTimeout)?
                    .map_err(|(e, _)| Error::from(e))?
            }
        };
        // HTTP/1.1: ready again once this response's body is read (`take` checks).
        if !sender.is_h2() {
            self.keep(key, sender);
        }
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

/// Whether a written request failed because its connection closed before any answer (reset,
/// or closed without a response).
fn closed_under(e: &hyper::Error) -> bool {
    use std::io::ErrorKind::*;
    let io = std::error::Error::source(e)
        .and_then(|s| s.downcast_ref::<std::io::Error>())
        .map(|io| io.kind());
    e.is_canceled()
        || e.is_closed()
        || e.is_incomplete_message()
        || matches!(
            io,
            Some(ConnectionReset | BrokenPipe | ConnectionAborted | UnexpectedEof)
        )
}

/// The request target on the wire. HTTP/1.1: only the path (the authority is in `Host`).
/// HTTP/2: scheme, authority and path, the authority being the `Host` the request names
/// (the Genesys host when a test redirects it), so `:authority` and `Host` agree.
fn wire_uri(
    req: &Request<WasiBody>,
    uri: &http::Uri,
    authority: &str,
    h2: bool,
) -> Result<http::Uri, Error> {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let builder = if h2 {
        let origin = req
            .headers()
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or(authority);
        http::Uri::builder().scheme("https").authority(origin)
    } else {
        http::Uri::builder()
    };
    builder
        .path_and_query(path)
        .build()
        .map_err(|_| Error::HttpRequestUriInvalid)
}

#[cfg(test)]
mod tests;
