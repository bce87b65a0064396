//! TLS on loopback, for tests only: a throwaway certificate authority and a server
//! certificate for `127.0.0.1`, `::1` and `localhost` are made when a TLS simulator starts
//! (never stored, never valid anywhere else). A client trusts the simulator by adding
//! [`crate::Simulator::ca_pem`] to its roots; one that does not refuses the simulator, as it
//! should. ALPN offers `h2` and `http/1.1`, or `http/1.1` alone.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use std::sync::Arc;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// What a TLS simulator offers in ALPN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tls {
    /// `h2` first, then `http/1.1`: a client that speaks HTTP/2 gets it.
    Http2AndHttp1,
    /// `http/1.1` only.
    Http1Only,
}

/// The simulator's TLS side: the acceptor and the test CA that signed its certificate.
pub(crate) struct TlsServer {
    pub(crate) acceptor: tokio_rustls::TlsAcceptor,
    pub(crate) ca_pem: String,
}

impl TlsServer {
    /// A fresh test CA and a loopback server certificate signed by it.
    pub(crate) fn new(offer: Tls) -> anyhow::Result<Self> {
        let mut ca = CertificateParams::new(Vec::<String>::new())?;
        ca.distinguished_name = name("genesys-sim test CA (test only, loopback)");
        ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate()?)?;

        let mut leaf = CertificateParams::new(vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
            "::1".to_string(),
        ])?;
        leaf.distinguished_name = name("genesys-sim loopback (test only)");
        leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate()?;
        let cert = leaf.signed_by(&key, &ca)?;

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(vec![cert.der().clone(), ca.der().clone()], key)?;
        config.alpn_protocols = match offer {
            Tls::Http2AndHttp1 => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
            Tls::Http1Only => vec![b"http/1.1".to_vec()],
        };
        Ok(TlsServer {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            ca_pem: ca.pem(),
        })
    }
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn
}

#[cfg(test)]
mod tests {
    use super::Tls;
    use crate::testkit::{CLIENT_ID, CLIENT_SECRET};
    use crate::Simulator;
    use bytes::Bytes;
    use http_body_util::{BodyExt, Empty};
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use std::sync::Arc;
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};

    /// A TLS connection to `sim` offering h2 and http/1.1, trusting `pem`'s roots.
    async fn connect(
        sim: &Simulator,
        pem: &str,
    ) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let tcp = tokio::net::TcpStream::connect(sim.addr).await?;
        let name = ServerName::try_from("127.0.0.1").unwrap();
        tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
    }

    #[tokio::test]
    async fn http2_when_offered_and_counted() {
        let sim = Simulator::start_tls(CLIENT_ID, CLIENT_SECRET, Tls::Http2AndHttp1)
            .await
            .unwrap();
        assert!(sim.base_url().starts_with("https://127.0.0.1:"));
        let stream = connect(&sim, sim.ca_pem().unwrap()).await.unwrap();
        assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        let (mut send, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                .await
                .unwrap();
        tokio::spawn(conn);
        for _ in 0..3 {
            // `:authority` alone names the host (no `Host` header).
            let req = http::Request::get("https://127.0.0.1/_sim/received")
                .body(Empty::<Bytes>::new())
                .unwrap();
            let res = send.send_request(req).await.unwrap();
            assert_eq!(res.status(), 200);
            res.into_body().collect().await.unwrap();
        }
        let st = sim.state.lock().unwrap();
        assert_eq!(st.connections, 1);
        assert_eq!(st.protocols.get("h2"), Some(&1));
        assert_eq!(st.versions.get("HTTP/2.0"), Some(&3));
        // `:authority` became the `Host` the routes read.
        assert_eq!(st.hosts, ["127.0.0.1"; 3]);
    }

    #[tokio::test]
    async fn http1_only_when_so_offered_and_an_untrusting_client_refuses() {
        let sim = Simulator::start_tls(CLIENT_ID, CLIENT_SECRET, Tls::Http1Only)
            .await
            .unwrap();
        let stream = connect(&sim, sim.ca_pem().unwrap()).await.unwrap();
        assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
        drop(stream);
        // Another simulator's CA does not vouch for this one.
        let other = Simulator::start_tls(CLIENT_ID, CLIENT_SECRET, Tls::Http1Only)
            .await
            .unwrap();
        let err = connect(&sim, other.ca_pem().unwrap()).await.unwrap_err();
        assert!(
            err.to_string().contains("invalid peer certificate"),
            "{err}"
        );
        for _ in 0..100 {
            if sim.state.lock().unwrap().tls_failures == 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let st = sim.state.lock().unwrap();
        assert_eq!(st.tls_failures, 1);
        assert!(st.versions.is_empty());
    }
}
