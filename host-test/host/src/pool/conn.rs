//! Opening one connection: TCP, TLS when the scheme is `https` (ALPN decides between HTTP/2
//! and HTTP/1.1), then hyper's handshake for that protocol, all within the connect timeout.
//! Each connection is driven by a task of its own.

use super::TlsClient;
use http::{Request, Response};
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2, TrySendError};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::Instant;
use wasmtime_wasi_http::{Error, WasiBody};

/// How often an HTTP/2 connection is pinged, and how long an answer may take before it is
/// given up as dead.
const H2_PING_EVERY: Duration = Duration::from_secs(20);
const H2_PING_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection's sending half.
pub(super) enum Sender {
    /// HTTP/1.1: one request at a time.
    H1(http1::SendRequest<WasiBody>),
    /// HTTP/2: clones share the one multiplexed connection.
    H2(http2::SendRequest<WasiBody>),
}

impl Sender {
    /// Whether it speaks HTTP/2.
    pub(super) fn is_h2(&self) -> bool {
        matches!(self, Sender::H2(_))
    }

    /// Send one request. When the connection turned out closed before the request was
    /// written, the request comes back with the error, so it can go on another connection.
    pub(super) async fn send(
        &mut self,
        req: Request<WasiBody>,
    ) -> Result<Response<Incoming>, (hyper::Error, Option<Request<WasiBody>>)> {
        let unsent = |e: TrySendError<Request<WasiBody>>| {
            let mut e = e;
            let req = e.take_message();
            (e.into_error(), req)
        };
        match self {
            Sender::H1(s) => s.try_send_request(req).await.map_err(unsent),
            Sender::H2(s) => {
                if let Err(e) = s.ready().await {
                    return Err((e, Some(req)));
                }
                s.try_send_request(req).await.map_err(unsent)
            }
        }
    }
}

/// Connect to `authority` (`host:port`); TLS with `tls` for `https`, verified against
/// `host`. The whole of it (TCP, TLS, handshake) must fit in `timeout`.
pub(super) async fn open(
    tls: &TlsClient,
    host: &str,
    authority: &str,
    https: bool,
    timeout: Duration,
) -> Result<Sender, Error> {
    let deadline = Instant::now() + timeout;
    let within = |f| tokio::time::timeout_at(deadline, f);
    let tcp = match within(TcpStream::connect(authority)).await {
        Ok(s) => s.map_err(Error::Connect)?,
        Err(_) => return Err(Error::ConnectionTimeout),
    };
    let _ = tcp.set_nodelay(true);
    if !https {
        return h1(TokioIo::new(tcp), deadline).await;
    }
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(Error::InvalidDnsNameError)?;
    let stream = match tokio::time::timeout_at(deadline, tls.http().connect(name, tcp)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            tracing::warn!(host = %host, error = %e, "TLS handshake failed: nothing was sent");
            return Err(Error::Tls(e));
        }
        Err(_) => return Err(Error::ConnectionTimeout),
    };
    if stream.get_ref().1.alpn_protocol() == Some(b"h2") {
        h2(TokioIo::new(stream), deadline).await
    } else {
        h1(TokioIo::new(stream), deadline).await
    }
}

async fn h1<T>(io: T, deadline: Instant) -> Result<Sender, Error>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, conn) = tokio::time::timeout_at(deadline, http1::handshake(io))
        .await
        .map_err(|_| Error::ConnectionTimeout)??;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(Sender::H1(sender))
}

async fn h2<T>(io: T, deadline: Instant) -> Result<Sender, Error>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, conn) = tokio::time::timeout_at(
        deadline,
        http2::Builder::new(TokioExecutor::new())
            // Pings find a connection that a NAT or load balancer dropped without a word,
            // so it is closed (and replaced) instead of taking every request's timeout.
            .timer(TokioTimer::new())
            .keep_alive_interval(Some(H2_PING_EVERY))
            .keep_alive_timeout(H2_PING_TIMEOUT)
            .keep_alive_while_idle(true)
            .handshake(io),
    )
    .await
    .map_err(|_| Error::ConnectionTimeout)??;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(Sender::H2(sender))
}
