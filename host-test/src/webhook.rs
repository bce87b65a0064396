//! The host's Genesys webhook endpoint (`POST /handover/genesysCloudOM` on loopback): hands
//! the raw request to the component's `agent-message` and answers Genesys quickly.

use crate::bindings::types::{Error as HookError, Outcome, Webhook};
use crate::runtime::{Plugin, Tenant};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Largest webhook body the host reads.
pub const MAX_BODY: usize = 1024 * 1024;
/// The path Genesys posts to.
pub const PATH: &str = "/handover/genesysCloudOM";

/// What a webhook produced: the hook's result, for whoever drives the bot side.
pub type Delivery = Result<Outcome, HookError>;

/// Listen on 127.0.0.1 (random port); every hook result is sent to the returned channel.
pub async fn listen(
    plugin: Arc<Plugin>,
    tenant: Tenant,
) -> anyhow::Result<(SocketAddr, mpsc::UnboundedReceiver<Delivery>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (plugin, tenant, tx) = (plugin.clone(), tenant.clone(), tx.clone());
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                    let (plugin, tenant, tx) = (plugin.clone(), tenant.clone(), tx.clone());
                    async move {
                        Ok::<_, std::convert::Infallible>(handle(&plugin, &tenant, &tx, req).await)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok((addr, rx))
}

/// Request headers as (name, value) pairs; values that are not text are dropped.
pub fn header_pairs(headers: &hyper::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect()
}

/// What Genesys is answered for an `agent-message` result: 401 for a bad signature, 400 for
/// a body that is no Genesys message, and 200 for anything accepted or deliberately
/// ignored (including a handover that is over), so the agent's chat never breaks.
pub fn status_for(result: &Delivery) -> StatusCode {
    match result {
        Err(HookError::BadSignature(_)) => StatusCode::UNAUTHORIZED,
        Err(HookError::InvalidInput(_)) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    }
}

fn reply(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .body(Full::new(Bytes::from(text.to_string())))
        .unwrap()
}

async fn handle(
    plugin: &Plugin,
    tenant: &Tenant,
    tx: &mpsc::UnboundedSender<Delivery>,
    req: Request<hyper::body::Incoming>,
) -> Response<Full<Bytes>> {
    if req.method() != hyper::Method::POST || req.uri().path() != PATH {
        return reply(StatusCode::NOT_FOUND, "not found");
    }
    let headers = header_pairs(req.headers());
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(_) => return reply(StatusCode::PAYLOAD_TOO_LARGE, "body too large"),
    };
    match plugin
        .agent_message(tenant, &Webhook { headers, body })
        .await
    {
        Ok(result) => {
            let status = status_for(&result);
            let _ = tx.send(result);
            reply(status, "")
        }
        Err(trap) => {
            eprintln!("host: agent-message trapped: {trap:#}");
            reply(StatusCode::INTERNAL_SERVER_ERROR, "")
        }
    }
}
