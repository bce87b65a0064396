//! The accept loop: one hyper connection per client (HTTP/1.1, or HTTP/2 when TLS
//! negotiated `h2`), each connection and request counted, each request given its fault, then
//! handed to the axum router. Our own loop rather than `axum::serve` because
//! a dropped-connection fault must close the TCP connection without any answer.

use crate::faults::Fault;
use crate::routes::path_kind;
use crate::tls::TlsServer;
use crate::Simulator;
use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceExt as _;

/// Serve `app` on `listener` until the runtime stops; over TLS when `tls` is given.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    sim: Simulator,
    app: Router,
    tls: Option<Arc<TlsServer>>,
) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => {
                sim.lock().connections += 1;
                stream
            }
            Err(_) => {
                // Out of file descriptors, say: wait a moment instead of spinning.
                tokio::time::sleep(Duration::from_millis(1)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (sim, app, tls) = (sim.clone(), app.clone(), tls.clone());
        tokio::spawn(async move {
            match tls {
                None => {
                    sim.count_protocol("http/1.1 (plain)");
                    http1(TokioIo::new(stream), sim, app).await;
                }
                Some(tls) => {
                    let accepted =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.acceptor.accept(stream)).await;
                    let stream = match accepted {
                        Ok(Ok(s)) => s,
                        // A client that refused our certificate, or never finished.
                        _ => {
                            sim.lock().tls_failures += 1;
                            return;
                        }
                    };
                    let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
                    if h2 {
                        sim.count_protocol("h2");
                        let svc = hyper::service::service_fn(move |req| {
                            handle(sim.clone(), app.clone(), req)
                        });
                        let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                            .serve_connection(TokioIo::new(stream), svc)
                            .await;
                    } else {
                        sim.count_protocol("http/1.1");
                        http1(TokioIo::new(stream), sim, app).await;
                    }
                }
            }
        });
    }
}

/// How long a client may take over the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

async fn http1<I>(io: I, sim: Simulator, app: Router)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    // A service error (a drop fault) makes hyper close the connection unanswered.
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(
            io,
            hyper::service::service_fn(move |req| handle(sim.clone(), app.clone(), req)),
        )
        .with_upgrades()
        .await;
}

/// One request: count it, pick its fault, answer it (or not).
async fn handle(
    sim: Simulator,
    app: Router,
    mut req: Request<Incoming>,
) -> Result<Response, std::io::Error> {
    // HTTP/2 names the host in `:authority`; the routes read `Host`.
    if !req.headers().contains_key(http::header::HOST) {
        if let Some(a) = req.uri().authority().and_then(|a| a.as_str().parse().ok()) {
            req.headers_mut().insert(http::header::HOST, a);
        }
    }
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    {
        let mut st = sim.lock();
        if path.contains("/inbound/open/") {
            st.inbound_attempts += 1;
        }
        *st.requests.entry(path_kind(&path)).or_default() += 1;
        *st.versions
            .entry(format!("{:?}", req.version()))
            .or_default() += 1;
    }
    let dropped = || std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "fault: dropped");
    match sim.pick_fault() {
        None => Ok(route(app, req).await),
        Some(f @ (Fault::ServerError | Fault::TooManyRequests)) => {
            Ok(sim.fault_answer(f, &method, &path))
        }
        Some(Fault::DropBefore) => Err(dropped()),
        Some(Fault::DropAfter) => {
            let _ = route(app, req).await;
            Err(dropped())
        }
        Some(Fault::Slow) => {
            let ms = sim.lock().faults.slow_ms;
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(route(app, req).await)
        }
    }
}

async fn route(app: Router, req: Request<Incoming>) -> Response {
    match app.oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::{bearer, message, raw, start};
    use crate::{post, request, Faults};

    fn only(weights: [u32; 5]) -> Faults {
        Faults {
            rate: 1.0,
            weights,
            retry_after_secs: 3,
            slow_ms: 20,
        }
    }

    #[tokio::test]
    async fn dropped_connections_get_no_answer() {
        let (sim, id) = start().await;
        let auth = bearer(&sim).await;
        let url = format!(
            "{}/api/v2/conversations/messages/{id}/inbound/open/message",
            sim.base_url()
        );
        sim.set_faults(only([0, 0, 1, 0, 0]), 7);
        assert!(post(&url, &auth, &message("u1", "lost", "m-1"))
            .await
            .is_err());
        assert!(sim.received("message").is_empty());
        sim.set_faults(only([0, 0, 0, 1, 0]), 7);
        assert!(post(&url, &auth, &message("u1", "kept", "m-2"))
            .await
            .is_err());
        assert_eq!(sim.texts_of("u1"), vec!["kept"]);
        // Not even a status line comes back.
        let text = raw(&sim, "GET /nope HTTP/1.1\r\nhost: 127.0.0.1", "").await;
        assert_eq!(text, "");
        sim.set_faults(Faults::default(), 1);
        // The retry of the processed message is a duplicate.
        assert_eq!(
            post(&url, &auth, &message("u1", "kept", "m-2"))
                .await
                .unwrap(),
            409
        );
        assert_eq!(sim.faults_injected(), 3);
        let st = sim.state.lock().unwrap();
        assert_eq!(st.inbound_attempts, 3);
        assert_eq!(st.requests.get("message"), Some(&3));
    }

    #[tokio::test]
    async fn error_faults_answer_without_processing() {
        let (sim, _) = start().await;
        let url = format!("{}/api/v2/users/x", sim.base_url());
        sim.set_faults(only([1, 0, 0, 0, 0]), 3);
        let (status, body) = request("GET", &url, &[], b"").await.unwrap();
        assert_eq!(status, 500);
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["code"], "internal.server.error");
        sim.set_faults(only([0, 1, 0, 0, 0]), 3);
        let text = raw(&sim, "GET /api/v2/users/x HTTP/1.1\r\nhost: 127.0.0.1", "").await;
        assert!(text.starts_with("HTTP/1.1 429"), "{text}");
        assert!(text.contains("retry-after: 3"), "{text}");
        sim.set_faults(only([0, 0, 0, 0, 1]), 3);
        let t = std::time::Instant::now();
        assert_eq!(request("GET", &url, &[], b"").await.unwrap().0, 401);
        assert!(t.elapsed().as_millis() >= 20);
        let log = sim.state.lock().unwrap().log.clone();
        assert_eq!(
            log,
            [
                "GET /api/v2/users/x 500 (fault)",
                "GET /api/v2/users/x 429 (fault)",
                "GET /api/v2/users/x 401"
            ]
        );
    }
}
