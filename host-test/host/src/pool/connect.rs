//! Opening a connection for the client: hyper-rustls's connector (TCP, then TLS where the
//! scheme is `https`, ALPN choosing HTTP/2 or HTTP/1.1) wrapped for the two needs hyper-util
//! has no setting for: the request's own connect timeout, and counts of what was opened.

use super::TlsClient;
use http::Uri;
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::{Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpStream;
use tower::Service;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

tokio::task_local! {
    /// The connect timeout of the request being sent. hyper-util calls the connector from
    /// the request's own task (when no kept connection is free), so it is read there.
    pub(super) static CONNECT_TIMEOUT: Duration;
}

/// Where no request set one (as wasmtime-wasi-http's default sender does).
pub(super) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// Connections opened so far, of them HTTP/2 ones, and requests sent again.
#[derive(Default)]
pub(super) struct Counts {
    pub(super) opened: AtomicU64,
    pub(super) opened_h2: AtomicU64,
    pub(super) resent: AtomicU64,
}

/// TCP and TLS within the connect timeout, counted once established.
#[derive(Clone)]
pub(super) struct Connector {
    https: HttpsConnector<HttpConnector>,
    counts: Arc<Counts>,
}

impl Connector {
    pub(super) fn new(tls: &TlsClient, counts: Arc<Counts>) -> Self {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        // The shared configuration, whose ALPN offers `h2` and `http/1.1`.
        let https = HttpsConnector::from((http, tls.http().clone()));
        Connector { https, counts }
    }
}

/// A connection not established within its request's connect timeout.
#[derive(Debug)]
pub(super) struct ConnectTimedOut;

impl std::fmt::Display for ConnectTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connect timed out")
    }
}

impl std::error::Error for ConnectTimedOut {}

impl Service<Uri> for Connector {
    type Response = MaybeHttpsStream<TokioIo<TcpStream>>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.https.poll_ready(cx)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let timeout = CONNECT_TIMEOUT.try_with(|t| *t).unwrap_or(DEFAULT_TIMEOUT);
        let connecting = self.https.call(dst);
        let counts = self.counts.clone();
        Box::pin(async move {
            let io = tokio::time::timeout(timeout, connecting)
                .await
                .map_err(|_| Box::new(ConnectTimedOut) as BoxError)??;
            counts.opened.fetch_add(1, Ordering::Relaxed);
            if io.connected().is_negotiated_h2() {
                counts.opened_h2.fetch_add(1, Ordering::Relaxed);
            }
            Ok(io)
        })
    }
}
