//! The host's TLS settings: rustls with ring, the web PKI roots and safe protocol versions,
//! built once and shared by the HTTP client and the notification sockets. An extra trusted
//! root is added only where a caller asks for it by name (a loopback simulator's test
//! certificate in tests, the benchmark and `--genesys-ca`); verification is never relaxed.

use std::sync::{Arc, LazyLock};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::CertificateDer;

/// TLS client settings, cheap to clone: one configuration offering `h2` and `http/1.1` in
/// ALPN for requests, one offering nothing for WebSockets (which need HTTP/1.1).
#[derive(Clone)]
pub struct TlsClient {
    http: Arc<rustls::ClientConfig>,
    websocket: tokio_rustls::TlsConnector,
    extra_roots: usize,
}

static WEB_PKI: LazyLock<TlsClient> =
    LazyLock::new(|| TlsClient::build(Vec::new()).expect("the web PKI roots load"));

impl TlsClient {
    /// The web PKI roots only (built once per process): what production uses.
    pub fn web_pki() -> Self {
        WEB_PKI.clone()
    }

    /// The web PKI roots plus the certificates in `pem` (a test CA, say).
    pub fn trusting(pem: &str) -> anyhow::Result<Self> {
        let extra = CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| anyhow::anyhow!("reading the extra trusted root: {e}"))?;
        anyhow::ensure!(
            !extra.is_empty(),
            "no certificate in the extra trusted root's PEM"
        );
        Self::build(extra)
    }

    fn build(extra: Vec<CertificateDer<'static>>) -> anyhow::Result<Self> {
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.into(),
        };
        let extra_roots = extra.len();
        for cert in extra {
            roots.add(cert)?;
        }
        let roots = Arc::new(roots);
        let config = |alpn: &[&[u8]]| -> anyhow::Result<_> {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let mut c = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()?
                .with_root_certificates(roots.clone())
                .with_no_client_auth();
            c.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
            Ok(Arc::new(c))
        };
        Ok(TlsClient {
            http: config(&[b"h2", b"http/1.1"])?,
            websocket: tokio_rustls::TlsConnector::from(config(&[])?),
            extra_roots,
        })
    }

    /// For HTTP requests: ALPN offers `h2`, then `http/1.1`.
    pub fn http(&self) -> &Arc<rustls::ClientConfig> {
        &self.http
    }

    /// For WebSockets: no ALPN (the upgrade is HTTP/1.1).
    pub fn websocket(&self) -> &tokio_rustls::TlsConnector {
        &self.websocket
    }

    /// Roots trusted on top of the web PKI's (0 in production).
    pub fn extra_roots(&self) -> usize {
        self.extra_roots
    }
}
