//! `serve`'s HTTP surface (axum): Genesys webhooks and events, the bot side's API with its
//! long-poll, health and metrics. Handlers only translate HTTP to a [`Call`] and back.

use crate::api::{DeliveryRequest, EndRequest, MessageRequest, StartRequest};
use crate::bindings::types::{Error as HookError, Outcome, UserEvent};
mod genesys;

use crate::body::JsonBody;
use crate::server::{Busy, Call, Server};
use crate::tenants::Loaded;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// Genesys gives a webhook 10 s; answer well before.
pub const WEBHOOK_DEADLINE: Duration = Duration::from_secs(8);

type S = State<Arc<Server>>;

pub(crate) fn reply(status: StatusCode, v: Value) -> Response {
    (status, Json(v)).into_response()
}

/// 503 with `Retry-After`: the tenant has its maximum of calls running and its queue was
/// full, or the call waited in it for too long.
pub(crate) fn busy() -> Response {
    let mut r = reply(
        StatusCode::SERVICE_UNAVAILABLE,
        json!({"error": "busy, retry later"}),
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    r
}

/// The one answer for an unknown or disabled tenant, a missing key and a wrong key (or
/// signature), on every endpoint: nobody can tell which one it was.
pub(crate) fn unauthorized() -> Response {
    reply(StatusCode::UNAUTHORIZED, json!({"error": "unauthorized"}))
}

/// The bot side's answer for a hook result. A trap's details stay in the log.
pub(crate) fn answer(r: anyhow::Result<Result<Outcome, HookError>>) -> Response {
    match r {
        Ok(Ok(o)) => reply(StatusCode::OK, json!({"ok": o})),
        Ok(Err(e)) => {
            let status = match &e {
                HookError::InvalidInput(_) => StatusCode::BAD_REQUEST,
                HookError::UnknownConversation(_) => StatusCode::NOT_FOUND,
                HookError::Config(_) | HookError::Auth(_) => StatusCode::FAILED_DEPENDENCY,
                HookError::Storage(_) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_GATEWAY,
            };
            reply(status, json!({"error": e}))
        }
        Err(e) if e.is::<Busy>() => busy(),
        Err(_trap) => reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"error": "the component failed; see the host's log"}),
        ),
    }
}

/// The router of `serve`.
pub fn router(server: Arc<Server>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { Json(json!({"ok": true})) }))
        .route("/metrics", get(metrics))
        .route("/handover/genesysCloudOM", post(genesys::by_integration))
        .route(
            "/handover/genesysCloudOM/{tenant}",
            post(genesys::by_tenant),
        )
        .route(
            "/handover/genesysCloudOM/{tenant}/events",
            post(genesys::events),
        )
        .route("/api/{tenant}/version", get(version))
        .route("/api/{tenant}/start", post(start))
        .route("/api/{tenant}/message", post(message))
        .route("/api/{tenant}/end", post(end))
        .route("/api/{tenant}/delivery", post(delivery))
        .route("/api/{tenant}/queue-status", get(queue_status))
        .route("/api/{tenant}/sessions/{session}/actions", get(actions))
        .fallback(|| async { reply(StatusCode::NOT_FOUND, json!({"error": "not found"})) })
        .with_state(server)
}

async fn metrics(State(s): S) -> Response {
    let ctype = "text/plain; version=0.0.4";
    ([(header::CONTENT_TYPE, ctype)], s.metrics.text()).into_response()
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A handler's early answer: the request is refused before any hook runs.
struct Refused(Box<Response>);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        *self.0
    }
}

fn refused(e: impl std::fmt::Display) -> Refused {
    Refused(Box::new(reply(
        StatusCode::BAD_REQUEST,
        json!({"error": e.to_string()}),
    )))
}

/// The tenant of a bot-side call: it exists, is enabled, and the request carries its
/// `bot-api-key` (when it has one) as `Authorization: Bearer <key>`; one answer otherwise.
async fn bot_tenant(s: &Server, name: &str, headers: &HeaderMap) -> Result<Arc<Loaded>, Refused> {
    let loaded = s
        .tenant(name)
        .await
        .map_err(|_| Refused(Box::new(unauthorized())))?;
    if let Some(key) = &loaded.file.bot_api_key {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if key.is_empty() || !constant_time_eq(given.as_bytes(), key.as_bytes()) {
            return Err(Refused(Box::new(unauthorized())));
        }
    }
    Ok(loaded)
}

/// The request body as `T`; 400 with serde's message otherwise.
fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Refused> {
    serde_json::from_slice(body).map_err(refused)
}

async fn version(
    State(s): S,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Refused> {
    let loaded = bot_tenant(&s, &name, &headers).await?;
    match loaded.plugin.version(&loaded.tenant).await {
        Ok(v) => Ok(reply(StatusCode::OK, json!({"version": v}))),
        Err(trap) => {
            tracing::error!(tenant = name, error = %trap, "version trapped");
            Ok(answer(Err(trap)))
        }
    }
}

async fn start(
    State(s): S,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, Refused> {
    let loaded = bot_tenant(&s, &name, &headers).await?;
    let r: StartRequest = parse(&body.0)?;
    let lines = crate::api::transcript(&r.transcript).map_err(refused)?;
    let call = Call::Start(r.user, lines, (&r.settings).into());
    Ok(answer(s.run(&loaded, call).await))
}

async fn message(
    State(s): S,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, Refused> {
    let loaded = bot_tenant(&s, &name, &headers).await?;
    let m: MessageRequest = parse(&body.0)?;
    let event = UserEvent::from(&m.event);
    Ok(answer(
        s.run(&loaded, Call::UserMessage(m.user_id, event)).await,
    ))
}

async fn end(
    State(s): S,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, Refused> {
    let loaded = bot_tenant(&s, &name, &headers).await?;
    let e: EndRequest = parse(&body.0)?;
    Ok(answer(s.run(&loaded, Call::End(e.into())).await))
}

/// `POST /api/<tenant>/delivery`: the `report-delivery` hook; `{"ok": outcome}` once the
/// receipt went to Genesys, or the hook's error as elsewhere (404 for a user without a
/// handover).
async fn delivery(
    State(s): S,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, Refused> {
    let loaded = bot_tenant(&s, &name, &headers).await?;
    let d: DeliveryRequest = parse(&body.0)?;
    let call = Call::ReportDelivery(d.user_id, d.message_id, d.delivered, d.reason);
    Ok(answer(s.run(&loaded, call).await))
}

#[derive(Deserialize)]
struct QueueQuery {
    /// The queue; absent: the tenant's `queue-id`.
    queue_id: Option<String>,
}

/// `GET /api/<tenant>/queue-status[?queue_id=…]`: `{"ok": {estimated_wait_seconds,
/// agents_on_queue, agents_available, interacting}}`, or the hook's error as elsewhere.
async fn queue_status(
    State(s): S,
    Path(name): Path<String>,
    Query(q): Query<QueueQuery>,
    headers: HeaderMap,
) -> Result<Response, Refused> {
    let loaded = bot_tenant(&s, &name, &headers).await?;
    let slot = crate::runtime::FiguresSlot::default();
    let r = s
        .run(&loaded, Call::QueueStatus(q.queue_id, slot.clone()))
        .await;
    let figures = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
    Ok(match (r, figures) {
        (Ok(Ok(_)), Some(f)) => reply(StatusCode::OK, json!({"ok": f})),
        (r, _) => answer(r),
    })
}

#[derive(Deserialize)]
struct Wait {
    #[serde(default)]
    wait: u64,
}

async fn actions(
    State(s): S,
    Path((name, session)): Path<(String, String)>,
    Query(q): Query<Wait>,
    headers: HeaderMap,
) -> Result<Response, Refused> {
    let tenant = bot_tenant(&s, &name, &headers).await?.tenant.name.clone();
    let wait = Duration::from_millis(q.wait.min(30_000));
    match s.bus.take(&tenant, &session, wait).await {
        Ok(actions) => Ok(reply(StatusCode::OK, json!({"actions": actions}))),
        Err(e) => {
            s.metrics.store_error();
            tracing::error!(tenant, error = %e, "long-poll failed");
            let busy = json!({"error": "storage unavailable"});
            Err(Refused(Box::new(reply(
                StatusCode::SERVICE_UNAVAILABLE,
                busy,
            ))))
        }
    }
}
