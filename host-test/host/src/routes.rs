//! `serve`'s HTTP surface (axum): Genesys webhooks and events, the bot side's API with its
//! long-poll, health and metrics. Handlers only translate HTTP to a [`Call`] and back.

use crate::api::{EndRequest, MessageRequest, StartRequest};
use crate::bindings::types::{EndSignal, Error as HookError, Outcome, UserEvent, Webhook};
use crate::serve::{Call, Server};
use crate::tenants::Loaded;
use crate::webhook::{status_for, MAX_BODY};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
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

/// The bot side's answer for a hook result.
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
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(server)
}

async fn metrics(State(s): S) -> Response {
    let ctype = "text/plain; version=0.0.4";
    ([(header::CONTENT_TYPE, ctype)], s.metrics.text()).into_response()
}

async fn webhook_by_integration(State(s): S, headers: HeaderMap, body: Bytes) -> Response {
    let integration = serde_json::from_slice::<Value>(&body).ok().and_then(|v| {
        v.pointer("/channel/id")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let tenant = match integration {
        Some(i) => s.records.tenant_of(&i).await,
        None => Ok(None),
    };
    match tenant {
        Ok(Some(t)) => deliver_webhook(&s, &t, headers, body).await,
        Ok(None) => reply(
            StatusCode::NOT_FOUND,
            json!({"error": "no tenant for this integration"}),
        ),
        Err(_) => reply(StatusCode::SERVICE_UNAVAILABLE, json!({})),
    }
}

async fn webhook(
    State(s): S,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    deliver_webhook(&s, &tenant, headers, body).await
}

async fn deliver_webhook(s: &Server, tenant: &str, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(loaded) = s.tenant(tenant).await else {
        return reply(StatusCode::NOT_FOUND, json!({"error": "unknown tenant"}));
    };
    let w = Webhook {
        headers: crate::http::header_pairs(&headers),
        body: body.to_vec(),
    };
    let status =
        match tokio::time::timeout(WEBHOOK_DEADLINE, s.run(&loaded, Call::AgentMessage(w))).await {
            // Not done in time: let Genesys retry (the message id makes the retry safe).
            Err(_) => StatusCode::SERVICE_UNAVAILABLE,
            Ok(Err(_trap)) => StatusCode::INTERNAL_SERVER_ERROR,
            Ok(Ok(result)) => status_for(&result),
        };
    reply(status, json!({}))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A handler's early answer: the request is refused before any hook runs.
struct Refused(StatusCode, Value);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        reply(self.0, self.1)
    }
}

fn refused(e: impl std::fmt::Display) -> Refused {
    Refused(StatusCode::BAD_REQUEST, json!({"error": e.to_string()}))
}

/// The tenant, if the provider is enabled for it and it exists; 400 otherwise.
async fn tenant(s: &Server, name: &str) -> Result<Arc<Loaded>, Refused> {
    s.tenant(name).await.map_err(refused)
}

/// The request body as `T`; 400 with serde's message otherwise.
fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Refused> {
    serde_json::from_slice(body).map_err(refused)
}

async fn events(
    State(s): S,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Refused> {
    let loaded = tenant(&s, &name).await?;
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let expected = loaded.file.events_api_key.as_bytes();
    if expected.is_empty() || !constant_time_eq(key.as_bytes(), expected) {
        return Err(Refused(
            StatusCode::UNAUTHORIZED,
            json!({"error": "bad api key"}),
        ));
    }
    let signal = EndSignal::GenesysEvent(body.to_vec());
    Ok(answer(s.run(&loaded, Call::End(signal)).await))
}

async fn version(State(s): S, Path(name): Path<String>) -> Result<Response, Refused> {
    let loaded = tenant(&s, &name).await?;
    let v = loaded
        .plugin
        .version(&loaded.tenant)
        .await
        .map_err(refused)?;
    Ok(reply(StatusCode::OK, json!({"version": v})))
}

async fn start(State(s): S, Path(name): Path<String>, body: Bytes) -> Result<Response, Refused> {
    let r: StartRequest = parse(&body)?;
    let lines = crate::api::transcript(&r.transcript).map_err(refused)?;
    let loaded = tenant(&s, &name).await?;
    let call = Call::Start((&r.user).into(), lines, (&r.settings).into());
    Ok(answer(s.run(&loaded, call).await))
}

async fn message(State(s): S, Path(name): Path<String>, body: Bytes) -> Result<Response, Refused> {
    let m: MessageRequest = parse(&body)?;
    let loaded = tenant(&s, &name).await?;
    let event = UserEvent::from(&m.event);
    Ok(answer(
        s.run(&loaded, Call::UserMessage(m.user_id, event)).await,
    ))
}

async fn end(State(s): S, Path(name): Path<String>, body: Bytes) -> Result<Response, Refused> {
    let e: EndRequest = parse(&body)?;
    let loaded = tenant(&s, &name).await?;
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
) -> Result<Response, Refused> {
    let tenant = tenant(&s, &name).await?.tenant.name.clone();
    let wait = Duration::from_millis(q.wait.min(30_000));
    match s.bus.take(&tenant, &session, wait).await {
        Ok(actions) => Ok(reply(StatusCode::OK, json!({"actions": actions}))),
        Err(e) => {
            s.metrics.store_error();
            tracing::error!(tenant, error = %e, "long-poll failed");
            let busy = json!({"error": "storage unavailable"});
            Err(Refused(StatusCode::SERVICE_UNAVAILABLE, busy))
        }
    }
}
