//! The component's outbound HTTP policy as a type of its own: credentials may only ever go
//! to a Genesys Cloud region's `login.` and `api.` hosts. Tests and tools redirect those
//! hosts to a loopback simulator, or answer them in process; every other host is refused.

use crate::pool::{Pool, TlsClient, POOL};
use std::future::Future;
use std::sync::Arc;
use wasmtime_wasi_http::{WasiBody, WasiHttpHooks};

/// Genesys Cloud region base domains: the same allowlist the component checks.
pub use genesys_om_handover::region::REGIONS;

/// Whether `host` is `login.<region>` or `api.<region>` of a known Genesys Cloud region.
pub fn is_genesys_host(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    ["login.", "api."]
        .iter()
        .any(|p| host.strip_prefix(p).is_some_and(|d| REGIONS.contains(&d)))
}

/// Whether `uri` names a loopback host (127.0.0.1, ::1 or localhost).
pub fn is_loopback(uri: &http::Uri) -> bool {
    matches!(
        uri.host(),
        Some("127.0.0.1" | "localhost" | "[::1]" | "::1")
    )
}

/// Answers Genesys requests without a network (benchmarks).
pub trait Responder: Send + Sync {
    /// Status and body for a request.
    fn respond(&self, method: &str, url: &str, body: &[u8]) -> (u16, Vec<u8>);
}

/// Where the component's requests may go.
#[derive(Clone)]
pub enum Egress {
    /// Every request is refused.
    Deny,
    /// Genesys Cloud region hosts over HTTPS, as in production; every other host is refused.
    Genesys,
    /// Genesys hosts go to this loopback base URL (a simulator) through `pool`, which may
    /// trust the simulator's test certificate; every other host is refused.
    Redirect {
        /// `http://` or `https://` on loopback.
        base: http::Uri,
        /// Connections to it.
        pool: Arc<Pool>,
    },
    /// Genesys hosts are answered in process; every other host is refused.
    InProcess(Arc<dyn Responder>),
}

impl Egress {
    /// Redirect Genesys hosts to `base`, a loopback `http://` or `https://` URL; over
    /// `https` the web PKI roots alone decide (so a simulator's test certificate is refused).
    pub fn redirect(base: &str) -> anyhow::Result<Self> {
        Self::redirect_with(base, Arc::new(Pool::new(TlsClient::web_pki())))
    }

    /// Redirect Genesys hosts to `base`, trusting the certificates in `ca_pem` (a loopback
    /// simulator's test CA) on top of the web PKI roots.
    pub fn redirect_trusting(base: &str, ca_pem: &str) -> anyhow::Result<Self> {
        Self::redirect_with(base, Arc::new(Pool::new(TlsClient::trusting(ca_pem)?)))
    }

    /// Redirect Genesys hosts to `base` through `pool` (a [`Pool::fresh`] one, say).
    pub fn redirect_with(base: &str, pool: Arc<Pool>) -> anyhow::Result<Self> {
        let uri: http::Uri = base
            .parse()
            .map_err(|e| anyhow::anyhow!("bad Genesys base URL {base:?}: {e}"))?;
        anyhow::ensure!(
            is_loopback(&uri),
            "the Genesys base URL must be a loopback address (127.0.0.1, ::1 or localhost)"
        );
        anyhow::ensure!(
            matches!(uri.scheme_str(), Some("http" | "https")),
            "the Genesys base URL must be http:// or https://"
        );
        Ok(Egress::Redirect { base: uri, pool })
    }

    /// The connections its requests go through (none when nothing leaves the process).
    pub fn pool(&self) -> Option<&Arc<Pool>> {
        match self {
            Egress::Genesys => Some(&POOL),
            Egress::Redirect { pool, .. } => Some(pool),
            Egress::Deny | Egress::InProcess(_) => None,
        }
    }

    /// The TLS client for its notification sockets.
    pub fn tls(&self) -> TlsClient {
        self.pool()
            .map_or_else(TlsClient::web_pki, |p| p.tls().clone())
    }
}

/// Whether a TLS error is the peer's certificate failing verification.
fn is_certificate_error(e: &std::io::Error) -> bool {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<tokio_rustls::rustls::Error>())
        .is_some_and(|r| {
            matches!(
                r,
                tokio_rustls::rustls::Error::InvalidCertificate(_)
                    | tokio_rustls::rustls::Error::InvalidCertRevocationList(_)
            )
        })
}

/// What `send_request` hands back for the response body's I/O errors.
pub(crate) type IoFuture = Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>;
/// What a sent request comes to: the response and its I/O future, or why not.
pub(crate) type SendResult =
    Result<(http::Response<WasiBody>, IoFuture), wasmtime_wasi_http::Error>;

async fn answer_in_process(
    responder: Arc<dyn Responder>,
    request: http::Request<WasiBody>,
) -> SendResult {
    use http_body_util::BodyExt;
    let (parts, body) = request.into_parts();
    let body = body.collect().await?.to_bytes();
    let (status, out) = responder.respond(parts.method.as_str(), &parts.uri.to_string(), &body);
    let body = http_body_util::Full::new(bytes::Bytes::from(out))
        .map_err(|never| match never {})
        .boxed_unsync();
    let response = http::Response::builder()
        .status(status)
        .body(body)
        .map_err(|_| wasmtime_wasi_http::Error::HttpResponseIncomplete)?;
    Ok((response, Box::new(async { Ok(()) }) as IoFuture))
}

async fn send_to(
    mut request: http::Request<WasiBody>,
    options: Option<wasmtime_wasi_http::RequestOptions>,
    base: Option<http::Uri>,
    pool: Arc<Pool>,
) -> SendResult {
    if let Some(base) = base {
        let pq = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let uri = http::Uri::builder()
            .scheme(base.scheme_str().unwrap_or("http"))
            .authority(base.authority().map(|a| a.as_str()).unwrap_or("127.0.0.1"))
            .path_and_query(pq)
            .build()
            .map_err(|_| wasmtime_wasi_http::Error::HttpRequestUriInvalid)?;
        *request.uri_mut() = uri;
    }
    // Kept-alive connections: no handshake per message (the connection's own task drives it).
    let res = pool.send(request, options).await?;
    Ok((res, Box::new(async { Ok(()) }) as IoFuture))
}

impl WasiHttpHooks for Egress {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<wasmtime_wasi_http::RequestOptions>,
        _fut: IoFuture,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        let host = request.uri().host().unwrap_or("").to_string();
        let https = request.uri().scheme_str() == Some("https");
        match self {
            Egress::InProcess(r) if is_genesys_host(&host) => {
                Box::new(answer_in_process(r.clone(), request))
            }
            Egress::Redirect { base, pool } if is_genesys_host(&host) => {
                Box::new(send_to(request, options, Some(base.clone()), pool.clone()))
            }
            Egress::Genesys if is_genesys_host(&host) && https => {
                Box::new(send_to(request, options, None, POOL.clone()))
            }
            _ => {
                tracing::warn!(host = %host, "refused an outgoing request: not a Genesys Cloud region host");
                Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) })
            }
        }
    }

    /// A certificate that failed verification is `tls-certificate-error` to the component
    /// (the pool logs the details); other TLS failures are protocol errors.
    fn p2_error_from_tls(
        &mut self,
        err: &std::io::Error,
    ) -> wasmtime_wasi_http::p2::bindings::http::types::ErrorCode {
        use wasmtime_wasi_http::p2::bindings::http::types::ErrorCode;
        if is_certificate_error(err) {
            ErrorCode::TlsCertificateError
        } else {
            ErrorCode::TlsProtocolError
        }
    }
}

/// Whether `host` is `streaming.<region>`, where Genesys's notification sockets live.
pub fn is_genesys_streaming_host(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    host.strip_prefix("streaming.")
        .is_some_and(|d| REGIONS.contains(&d))
}

impl Egress {
    /// A request the host itself makes to Genesys (its own REST calls), under the same
    /// policy as the component's: only Genesys region hosts, redirected in tests.
    pub async fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> anyhow::Result<(u16, bytes::Bytes)> {
        use http_body_util::BodyExt;
        let uri: http::Uri = url.parse()?;
        let authority = uri.authority().map(|a| a.to_string()).unwrap_or_default();
        // As wasi-http does for the component: `Host` names the original authority.
        let mut req = http::Request::builder()
            .method(method)
            .uri(uri)
            .header(http::header::HOST, authority);
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let body = http_body_util::Full::new(bytes::Bytes::from(body))
            .map_err(|never| match never {})
            .boxed_unsync();
        let req = req.body(body)?;
        let options = wasmtime_wasi_http::RequestOptions {
            connect_timeout: Some(std::time::Duration::from_secs(10)),
            first_byte_timeout: Some(std::time::Duration::from_secs(20)),
            between_bytes_timeout: Some(std::time::Duration::from_secs(20)),
        };
        let mut me = self.clone();
        let pending =
            Box::into_pin(me.send_request(req, Some(options), Box::new(async { Ok(()) })));
        let (resp, io) = pending
            .await
            .map_err(|e| anyhow::anyhow!("{method} {url}: {e}"))?;
        tokio::spawn(Box::into_pin(io));
        let status = resp.status().as_u16();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| anyhow::anyhow!("{method} {url}: {e}"))?
            .to_bytes();
        Ok((status, bytes))
    }

    /// Where to open a notification socket: Genesys's `connectUri` must be
    /// `wss://streaming.<region>/…`; in tests it goes to the loopback base instead.
    pub fn websocket_target(&self, connect_uri: &str) -> anyhow::Result<http::Uri> {
        let uri: http::Uri = connect_uri.parse()?;
        let host = uri.host().unwrap_or("");
        anyhow::ensure!(
            is_genesys_streaming_host(host) && uri.scheme_str() == Some("wss"),
            "refused a notification socket to {host}: not a Genesys Cloud streaming host"
        );
        let pq = uri.path_and_query().map_or("/", |p| p.as_str());
        Ok(match self {
            Egress::Redirect { base, .. } => format!(
                "{}://{}{pq}",
                if base.scheme_str() == Some("https") {
                    "wss"
                } else {
                    "ws"
                },
                base.authority().map_or("127.0.0.1", |a| a.as_str())
            )
            .parse()?,
            Egress::Genesys => uri,
            _ => anyhow::bail!("no notification sockets under this egress policy"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_login_and_api_hosts_of_known_regions_are_genesys() {
        assert!(is_genesys_host("api.mypurecloud.de"));
        assert!(is_genesys_host("LOGIN.mypurecloud.com"));
        assert!(!is_genesys_host("apps.mypurecloud.de"));
        assert!(!is_genesys_host("api.mypurecloud.de.evil.example"));
        assert!(!is_genesys_host("api.example.com"));
    }

    #[test]
    fn a_redirect_must_stay_on_loopback() {
        assert!(Egress::redirect("http://127.0.0.1:8085").is_ok());
        assert!(Egress::redirect("http://[::1]:8085").is_ok());
        assert!(Egress::redirect("http://10.0.0.1:8085").is_err());
        assert!(Egress::redirect("http://example.com").is_err());
        assert!(Egress::redirect("https://127.0.0.1:8443").is_ok());
        assert!(Egress::redirect("ftp://127.0.0.1:8085").is_err());
        assert!(Egress::redirect_trusting("https://127.0.0.1:8443", "not a PEM").is_err());
    }
}
