//! Keep-alive connections for the component's requests: idle HTTP/1.1 connections kept per
//! scheme and authority, so a handover's messages to Genesys reuse one TCP (and TLS)
//! connection instead of a handshake per request, which is what wasmtime-wasi-http's
//! default sender does. Timeouts follow the request's options as the default's do.

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::BodyExt;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::task::{ready, Context, Poll};
use std::time::Duration;
use tokio::net::TcpStream;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody};

/// Idle connections kept per scheme and authority.
pub const IDLE_PER_HOST: usize = 32;

/// The host's TLS client, built once: ring, the web PKI roots, safe protocol versions.
/// The pool's connections and the notification sockets both use it.
pub static TLS: LazyLock<tokio_rustls::TlsConnector> = LazyLock::new(|| {
    use tokio_rustls::rustls;
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.into(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
});

/// The process's pool (connections hold no credentials; tenants share them).
pub static POOL: LazyLock<Pool> = LazyLock::new(Pool::default);

/// Idle connections by `scheme://host:port`.
#[derive(Default)]
pub struct Pool {
    idle: Mutex<HashMap<String, Vec<SendRequest<WasiBody>>>>,
    opened: AtomicU64,
}

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

impl Pool {
    /// Connections opened so far.
    pub fn opened(&self) -> u64 {
        self.opened.load(Ordering::Relaxed)
    }

    fn take(&self, key: &str) -> Option<SendRequest<WasiBody>> {
        let mut idle = self.idle.lock().unwrap();
        let list = idle.get_mut(key)?;
        // Closed ones go; busy ones (a response body still being read) stay for later.
        list.retain(|s| !s.is_closed());
        let i = list.iter().position(|s| s.is_ready())?;
        Some(list.swap_remove(i))
    }

    fn keep(&self, key: String, sender: SendRequest<WasiBody>) {
        let mut idle = self.idle.lock().unwrap();
        let list = idle.entry(key).or_default();
        if list.len() < IDLE_PER_HOST {
            list.push(sender);
        }
    }

    async fn connect(
        &self,
        host: &str,
        authority: &str,
        tls: bool,
        timeout: Duration,
    ) -> Result<SendRequest<WasiBody>, Error> {
        let tcp = match tokio::time::timeout(timeout, TcpStream::connect(authority)).await {
            Ok(s) => s.map_err(Error::Connect)?,
            Err(_) => return Err(Error::ConnectionTimeout),
        };
        let _ = tcp.set_nodelay(true);
        self.opened.fetch_add(1, Ordering::Relaxed);
        if !tls {
            return handshake(TokioIo::new(tcp), timeout).await;
        }
        let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.to_string())
            .map_err(Error::InvalidDnsNameError)?;
        let stream = TLS.connect(name, tcp).await.map_err(Error::Tls)?;
        handshake(TokioIo::new(stream), timeout).await
    }

    /// Send `req` on an idle connection to its host, or a new one.
    pub async fn send(
        &self,
        mut req: Request<WasiBody>,
        options: Option<RequestOptions>,
    ) -> Result<Response<WasiBody>, Error> {
        let uri = req.uri().clone();
        let host = uri.host().ok_or(Error::HttpRequestUriInvalid)?.to_string();
        let tls = uri.scheme_str() == Some("https");
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let authority = format!("{host}:{port}");
        let key = format!("{}://{authority}", if tls { "https" } else { "http" });
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
        // On the wire the request names only its path (the authority is in `Host`).
        *req.uri_mut() = http::Uri::builder()
            .path_and_query(uri.path_and_query().map_or("/", |p| p.as_str()))
            .build()
            .map_err(|_| Error::HttpRequestUriInvalid)?;
        let mut sender = match self.take(&key) {
            Some(s) => s,
            None => {
                self.connect(
                    host.trim_matches(['[', ']']),
                    &authority,
                    tls,
                    connect_timeout,
                )
                .await?
            }
        };
        let res = tokio::time::timeout(first_byte, sender.send_request(req))
            .await
            .map_err(|_| Error::ConnectionReadTimeout)?
            .map_err(Error::from)?;
        // Ready again once this response's body is read; `take` checks.
        self.keep(key, sender);
        let mut timer = tokio::time::interval(between_bytes);
        timer.reset();
        Ok(res.map(|incoming| TimedBody { incoming, timer }.boxed_unsync()))
    }
}

async fn handshake<T>(io: T, timeout: Duration) -> Result<SendRequest<WasiBody>, Error>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, conn) = tokio::time::timeout(timeout, hyper::client::conn::http1::handshake(io))
        .await
        .map_err(|_| Error::ConnectionTimeout)??;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// A response body whose frames must come within the between-bytes timeout.
struct TimedBody {
    incoming: hyper::body::Incoming,
    timer: tokio::time::Interval,
}

impl http_body::Body for TimedBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Error>>> {
        match Pin::new(&mut self.incoming).poll_frame(cx) {
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Error::from(e)))),
            Poll::Ready(Some(Ok(frame))) => {
                self.timer.reset();
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => {
                ready!(self.timer.poll_tick(cx));
                Poll::Ready(Some(Err(Error::ConnectionReadTimeout)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.incoming.size_hint()
    }
}
