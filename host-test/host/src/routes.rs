//! `serve`'s HTTP surface (axum): Genesys webhooks and events, the bot side's API with its
//! long-poll, health and metrics. Handlers only translate HTTP to a [`Call`] and back.

use crate::api::{EndRequest, MessageRequest, StartRequest};
use crate::bindings::types::{EndSignal, Error as HookError, Outcome, UserEvent, Webhook};
use crate::body::{Body, JsonBody};
use crate::serve::{Busy, Call, Server};
use crate::tenant::DEFAULT_MAX_WEBHOOK_BYTES;
use crate::tenants::Loaded;
use crate::webhook::status_for;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// Genesys gives a webhook 10 s; answer well before.
pub const WEBHOOK_DEADLINE: Duration = Duration::from_secs(8);

type S = State<Arc<Server>>;

fn reply(status: StatusCode, v: Value) -> Response {
    (status, Json(v)).into_response()
}

/// 503 with `Retry-After`: the tenant has its maximum of calls running.
fn busy() -> Response {
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
fn unauthorized() -> Response {
    reply(StatusCode::UNAUTHORIZED, json!({"error": "unauthorized"}))
}

/// The bot side's answer for a hook result. A trap's details stay in the log.
fn answer(r: anyhow::Result<Result<Outcome, HookError>>) -> Response {
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
        .route("/handover/genesysCloudOM", post(webhook_by_integration))
        .route("/handover/genesysCloudOM/{tenant}", post(webhook))
        .route("/handover/genesysCloudOM/{tenant}/events", post(events))
        .route("/api/{tenant}/version", get(version))
        .route("/api/{tenant}/start", post(start))
        .route("/api/{tenant}/message", post(message))
        .route("/api/{tenant}/end", post(end))
        .route("/api/{tenant}/sessions/{session}/actions", get(actions))
        .fallback(|| async { reply(StatusCode::NOT_FOUND, json!({"error": "not found"})) })
        .with_state(server)
}

async fn metrics(State(s): S) -> Response {
    let ctype = "text/plain; version=0.0.4";
    ([(header::CONTENT_TYPE, ctype)], s.metrics.text()).into_response()
}

async fn webhook_by_integration(State(s): S, headers: HeaderMap, body: Body) -> Response {
    let integration = serde_json::from_slice::<Value>(&body.0).ok().and_then(|v| {
        v.pointer("/channel/id")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let tenant = match integration {
        Some(i) => s.records.tenant_of(&i).await,
        None => Ok(None),
    };
    match tenant {
        Ok(Some(t)) => deliver_webhook(&s, &t, headers, body.0).await,
        Ok(None) => unauthorized(),
        Err(_) => reply(StatusCode::SERVICE_UNAVAILABLE, json!({})),
    }
}

async fn webhook(
    State(s): S,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    deliver_webhook(&s, &tenant, headers, body.0).await
}

/// A body over the tenant's `max-webhook-bytes` (the default one for an unknown tenant) is
/// refused before the signature is computed over it.
fn over_webhook_limit(loaded: Option<&Loaded>, body: &[u8]) -> bool {
    let max = loaded.map_or(DEFAULT_MAX_WEBHOOK_BYTES, |l| l.file.max_webhook_bytes);
    body.len() > max
}

fn too_large() -> Response {
    reply(
        StatusCode::PAYLOAD_TOO_LARGE,
        json!({"error": "body too large"}),
    )
}

async fn deliver_webhook(s: &Server, tenant: &str, headers: HeaderMap, body: Bytes) -> Response {
    let loaded = s.tenant(tenant).await.ok();
    if over_webhook_limit(loaded.as_deref(), &body) {
        return too_large();
    }
    let Some(loaded) = loaded else {
        return unauthorized();
    };
    let w = Webhook {
        headers: crate::http::header_pairs(&headers),
        body: body.to_vec(),
    };
    match tokio::time::timeout(WEBHOOK_DEADLINE, s.run(&loaded, Call::AgentMessage(w))).await {
        // Not done in time, busy or trapped: let Genesys retry (the message id makes the
        // retry safe).
        Err(_) => reply(StatusCode::SERVICE_UNAVAILABLE, json!({})),
        Ok(Err(e)) if e.is::<Busy>() => busy(),
        Ok(Err(_trap)) => reply(StatusCode::SERVICE_UNAVAILABLE, json!({})),
        Ok(Ok(result)) => match status_for(&result) {
            StatusCode::UNAUTHORIZED => unauthorized(),
            status => reply(status, json!({})),
        },
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
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

async fn events(State(s): S, Path(name): Path<String>, headers: HeaderMap, body: Body) -> Response {
    let loaded = s.tenant(&name).await.ok();
    if over_webhook_limit(loaded.as_deref(), &body.0) {
        return too_large();
    }
    let Some(loaded) = loaded else {
        return unauthorized();
    };
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let expected = loaded.file.events_api_key.as_bytes();
    if expected.is_empty() || !constant_time_eq(key.as_bytes(), expected) {
        return unauthorized();
    }
    let signal = EndSignal::GenesysEvent(body.0.to_vec());
    answer(s.run(&loaded, Call::End(signal)).await)
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
    let call = Call::Start((&r.user).into(), lines, (&r.settings).into());
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
