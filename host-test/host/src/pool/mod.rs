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
use std::time::Duration;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody};

/// Idle HTTP/1.1 connections kept per scheme and authority.
pub const IDLE_PER_HOST: usize = 32;

/// The process's pool for Genesys Cloud (web PKI roots only). Connections hold no
/// credentials; tenants share them.
pub static POOL: LazyLock<Arc<Pool>> = LazyLock::new(|| Arc::new(Pool::new(TlsClient::web_pki())));

/// Connections by `scheme://host:port`.
pub struct Pool {
    tls: TlsClient,
    reuse: bool,
    idle: Mutex<HashMap<String, Vec<http1::SendRequest<WasiBody>>>>,
    multiplexed: Mutex<HashMap<String, http2::SendRequest<WasiBody>>>,
    opened: AtomicU64,
    opened_h2: AtomicU64,
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
        // Closed ones go; busy ones (a response body still being read) stay for later.
        list.retain(|s| !s.is_closed());
        let i = list.iter().position(|s| s.is_ready())?;
        Some(Sender::H1(list.swap_remove(i)))
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
                    list.push(s);
                }
            }
        }
    }

    /// Send `req` on a live connection to its host, or a new one.
    pub async fn send(
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
        let mut sender = match self.take(&key) {
            Some(s) => s,
            None => {
                let host = host.trim_matches(['[', ']']);
                let s = conn::open(&self.tls, host, &authority, https, connect_timeout).await?;
                self.opened.fetch_add(1, Ordering::Relaxed);
                if let Sender::H2(h2) = &s {
                    self.opened_h2.fetch_add(1, Ordering::Relaxed);
                    self.keep(key.clone(), Sender::H2(h2.clone()));
                }
                s
            }
        };
        *req.uri_mut() = wire_uri(&req, &uri, &authority, sender.is_h2())?;
        let res = tokio::time::timeout(first_byte, sender.send(req))
            .await
            .map_err(|_| Error::ConnectionReadTimeout)?
            .map_err(Error::from)?;
        // HTTP/1.1: ready again once this response's body is read (`take` checks).
        if !sender.is_h2() {
            self.keep(key, sender);
        }
        let mut timer = tokio::time::interval(between_bytes);
        timer.reset();
        Ok(res.map(|incoming| TimedBody { incoming, timer }.boxed_unsync()))
    }
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
