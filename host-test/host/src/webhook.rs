//! A bare Genesys webhook endpoint for one plugin and tenant (`POST /handover/genesysCloudOM`
//! on loopback), as the demo and small embeddings use it: hands the raw request to
//! `agent-message`, answers Genesys at once, and passes each result on through a channel.

use crate::bindings::types::{Error as HookError, Outcome, Webhook};
use crate::runtime::Plugin;
use crate::tenant::Tenant;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use bytes::Bytes;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Largest webhook body the host reads.
pub const MAX_BODY: usize = 1024 * 1024;
/// The path Genesys posts to.
pub const PATH: &str = "/handover/genesysCloudOM";

/// What a webhook produced: the hook's result, for whoever drives the bot side.
pub type Delivery = Result<Outcome, HookError>;

/// What Genesys is answered for an `agent-message` result: 401 for a bad signature, 400 for
/// a body that is no Genesys message, 503 when the store failed (Genesys retries), and 200
/// for anything accepted or deliberately ignored, so the agent's chat never breaks.
pub fn status_for(result: &Delivery) -> StatusCode {
    match result {
        Err(HookError::BadSignature(_)) => StatusCode::UNAUTHORIZED,
        Err(HookError::InvalidInput(_)) => StatusCode::BAD_REQUEST,
        Err(HookError::Storage(_)) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::OK,
    }
}

type Ctx = (Arc<Plugin>, Tenant, mpsc::UnboundedSender<Delivery>);

async fn handle(
    State((plugin, tenant, tx)): State<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let webhook = Webhook {
        headers: crate::http::header_pairs(&headers),
        body: body.to_vec(),
    };
    match plugin.agent_message(&tenant, &webhook).await {
        Ok(result) => {
            let status = status_for(&result);
            let _ = tx.send(result);
            status
        }
        Err(trap) => {
            tracing::error!(error = %trap, "agent-message trapped");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// Listen on 127.0.0.1 (random port); every hook result is sent to the returned channel.
pub async fn listen(
    plugin: Arc<Plugin>,
    tenant: Tenant,
) -> anyhow::Result<(SocketAddr, mpsc::UnboundedReceiver<Delivery>)> {
    let (tx, rx) = mpsc::unbounded_channel();
    let router = axum::Router::new()
        .route(PATH, post(handle))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state((plugin, tenant, tx));
    let addr = crate::http::serve(([127, 0, 0, 1], 0).into(), router).await?;
    Ok((addr, rx))
}
