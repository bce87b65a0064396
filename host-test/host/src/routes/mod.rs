//! `serve`'s HTTP surface (axum): Genesys webhooks and events, the bot side's API with its
//! long-poll, health and metrics. Handlers only translate HTTP to a [`Call`] and back.

use crate::api::{DeliveryRequest, EndRequest, MessageRequest, StartRequest};
use crate::bindings::types::{Error as HookError, Outcome, UserEvent};
mod genesys;
mod idempotent;
mod sessions;

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
    match answer_json(r) {
        (_, _, true) => busy(),
        (status, v, false) => reply(status, v),
    }
}

/// The status and JSON of [`answer`], and whether it is the busy answer (which also
/// carries `Retry-After`).
pub(crate) fn answer_json(
    r: anyhow::Result<Result<Outcome, HookError>>,
) -> (StatusCode, Value, bool) {
    match r {
        Ok(Ok(o)) => (StatusCode::OK, json!({"ok": o}), false),
        Ok(Err(e)) => {
            let status = match &e {
                HookError::InvalidInput(_) => StatusCode::BAD_REQUEST,
                HookError::UnknownConversation(_) => StatusCode::NOT_FOUND,
                HookError::Config(_) | HookError::Auth(_) => StatusCode::FAILED_DEPENDENCY,
                HookError::Storage(_) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_GATEWAY,
            };
            (status, json!({"error": e}), false)
        }
        Err(e) if e.is::<Busy>() => (StatusCode::SERVICE_UNAVAILABLE, Value::Null, true),
        Err(_trap) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"error": "the component failed; see the host's log"}),
            false,
        ),
    }
}

/// The router of `serve`.
pub fn router(server: Arc<Server>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { Json(json!({"ok": true})) }))
        .route("/readyz", get(readyz))
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
        .route(
            "/api/{tenant}/sessions/{session}/actions",
            get(sessions::actions),
        )
        .route("/api/{tenant}/sessions/{session}/ack", post(sessions::ack))
        .fallback(|| async { reply(StatusCode::NOT_FOUND, json!({"error": "not found"})) })
        .layer(axum::middleware::from_fn_with_state(
            server.clone(),
            draining,
        ))
        .layer(axum::middleware::map_response(retry_after))
        .with_state(server)
}

/// Every 503 says when to try again: a store that does not answer (a Redis failover), a
/// busy tenant and a draining replica alike, so clients back off and come again.
async fn retry_after(mut r: Response) -> Response {
    let retry = axum::http::header::RETRY_AFTER;
    if r.status() == StatusCode::SERVICE_UNAVAILABLE && !r.headers().contains_key(&retry) {
        let one = axum::http::HeaderValue::from_static("1");
        r.headers_mut().insert(retry, one);
    }
    r
}

/// Every request but the probes is counted while it is answered, so a drain knows when the
/// replica is idle; once draining, new work is refused with 503 + `Retry-After` (the
/// client or Genesys sends it to another replica) and long-polls are answered at once,
/// empty (see [`crate::bus::Bus::take`]).
async fn draining(
    State(s): S,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = req.uri().path();
    if path == "/healthz" || path == "/readyz" || path == "/metrics" {
        return next.run(req).await;
    }
    let long_poll = req.method() == axum::http::Method::GET && path.ends_with("/actions");
    if s.drain.is_draining() && !long_poll {
        let mut r = busy();
        *r.body_mut() = axum::body::Body::from(r#"{"error":"draining, retry on another replica"}"#);
        return r;
    }
    let _counted = s.drain.enter();
    next.run(req).await
}

/// `/readyz`: 200 while the replica takes traffic and its store answers; 503 once it
/// drains (at once) or when the store does not answer within 2 s. (`/healthz` is liveness.)
async fn readyz(State(s): S) -> Response {
    if s.drain.is_draining() {
        return reply(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"ready": false, "reason": "draining"}),
        );
    }
    let probe = tokio::time::timeout(Duration::from_secs(2), s.kv.exists("readyz")).await;
    match probe {
        Ok(Ok(_)) => reply(StatusCode::OK, json!({"ready": true})),
        _ => reply(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"ready": false, "reason": "store unavailable"}),
        ),
    }
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
    let user = r.user.user_id.clone();
    let call = |_| Call::Start(r.user, lines, (&r.settings).into());
    idempotent::run_once(&s, &loaded, &headers, "start", &user, &body.0, call).await
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
    let user = m.user_id.clone();
    let call = |turn| Call::UserMessage(m.user_id, event, turn);
    idempotent::run_once(&s, &loaded, &headers, "message", &user, &body.0, call).await
}

async fn end(
    State(s): S,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, Refused> {
    let loaded = bot_tenant(&s, &name, &headers).await?;
    let e: EndRequest = parse(&body.0)?;
    let user = e.user_id.clone();
    let call = |_| Call::End(e.into());
    idempotent::run_once(&s, &loaded, &headers, "end", &user, &body.0, call).await
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
    let user = d.user_id.clone();
    let call = |_| Call::ReportDelivery(d.user_id, d.message_id, d.delivered, d.reason);
    idempotent::run_once(&s, &loaded, &headers, "delivery", &user, &body.0, call).await
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
