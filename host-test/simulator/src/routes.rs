//! The HTTP surface: the axum route table of Genesys's endpoints, the gate in front of them
//! (the `Host` decides whether `/oauth/token` or `/api/v2/...` is reachable; every `/api/v2`
//! call needs a live bearer token), and the request log. Anything else is Genesys's 404.

use crate::oauth::{is_api_host, is_login_host};
use crate::reply::{json_body, not_found, Reply};
use crate::Simulator;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, Path, RawQuery, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, patch, post};
use axum::Router;
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use serde_json::{json, Value};
use std::convert::Infallible;

/// Client credentials token, on the login host.
const TOKEN: &str = "/oauth/token";
/// The paged open-messaging integrations list.
const INTEGRATIONS: &str = "/api/v2/conversations/messaging/integrations/open";
/// Inbound `message`, `event` or `receipt` (`kind`) for an integration.
const INBOUND: &str = "/api/v2/conversations/messages/{integrationId}/inbound/open/{kind}";
/// Inbound structured response (a quick reply or button chosen) for an integration.
const STRUCTURED: &str =
    "/api/v2/conversations/messages/{integrationId}/inbound/open/structured/response";
/// A routing queue's estimated wait time.
const ESTIMATED_WAIT: &str = "/api/v2/routing/queues/{queueId}/estimatedwaittime";
/// The analytics queue observations query.
const QUEUE_OBSERVATIONS: &str = "/api/v2/analytics/queues/observations/query";
/// One conversation.
const CONVERSATION: &str = "/api/v2/conversations/messages/{conversationId}";
/// One participant of a conversation.
const PARTICIPANT: &str =
    "/api/v2/conversations/messages/{conversationId}/participants/{participantId}";
/// A Genesys user.
const USER: &str = "/api/v2/users/{userId}";
/// The caller's organization.
const ORGANIZATION: &str = "/api/v2/organizations/me";
/// Notification channels.
const CHANNELS: &str = "/api/v2/notifications/channels";
/// A channel's topic subscriptions.
const SUBSCRIPTIONS: &str = "/api/v2/notifications/channels/{channelId}/subscriptions";
/// The WebSocket behind a channel's `connectUri` (on the `streaming.` host).
const STREAM: &str = "/channels/{channelId}";
/// Not Genesys: every accepted inbound request, for clients outside this process.
const SIM_RECEIVED: &str = "/_sim/received";

/// The router: routes, Genesys's 404 for unknown paths and methods (HEAD included), the gate,
/// and the log of every answered request.
pub(crate) fn router(sim: Simulator) -> Router {
    Router::new()
        .route(SIM_RECEIVED, get(sim_received).head(nowhere))
        .route(TOKEN, any(token))
        .route(INTEGRATIONS, get(integrations).head(nowhere))
        .route(INBOUND, post(inbound))
        .route(STRUCTURED, post(structured))
        .route(ESTIMATED_WAIT, get(estimated_wait).head(nowhere))
        .route(QUEUE_OBSERVATIONS, post(queue_observations))
        .route(CONVERSATION, get(conversation).head(nowhere))
        .route(PARTICIPANT, patch(participant))
        .route(USER, get(user).head(nowhere))
        .route(CHANNELS, post(create_channel))
        .route(ORGANIZATION, get(organization).head(nowhere))
        .route(
            SUBSCRIPTIONS,
            get(subscriptions)
                .post(subscriptions)
                .put(subscriptions)
                .delete(subscriptions),
        )
        .route(STREAM, get(crate::socket::stream))
        .fallback(nowhere)
        .method_not_allowed_fallback(nowhere)
        .layer(middleware::from_fn_with_state(sim.clone(), gate))
        .layer(middleware::from_fn_with_state(sim.clone(), record))
        .with_state(sim)
}

/// What a request path addresses, for [`crate::SimState::requests`].
pub(crate) fn path_kind(path: &str) -> &'static str {
    let parts: Vec<&str> = path.split('/').skip(1).collect();
    match parts.as_slice() {
        ["oauth", "token"] => "token",
        ["_sim", "received"] => "sim",
        ["channels", _] => "stream",
        ["api", "v2", rest @ ..] => match rest {
            ["conversations", "messaging", "integrations", "open"] => "integrations",
            ["conversations", "messages", _, "inbound", "open", kind] => match *kind {
                "message" => "message",
                "event" => "event",
                "receipt" => "receipt",
                _ => "other",
            },
            ["conversations", "messages", _, "inbound", "open", "structured", "response"] => {
                "structured-response"
            }
            ["routing", "queues", _, "estimatedwaittime"] => "estimated-wait",
            ["analytics", "queues", "observations", "query"] => "queue-observations",
            ["conversations", "messages", _] => "conversation",
            ["conversations", "messages", _, "participants", _] => "participant",
            ["users", _] => "user",
            ["notifications", "channels"] => "channel",
            ["organizations", "me"] => "organization",
            ["notifications", "channels", _, "subscriptions"] => "subscriptions",
            _ => "other",
        },
        _ => "other",
    }
}

/// A header as text, `""` when absent or not ASCII.
fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
}

/// The whole request body; a body that fails to arrive counts as empty (so a JSON endpoint
/// answers Genesys's "malformed syntax"). No size limit.
async fn read_all(body: Body) -> Bytes {
    axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default()
}

/// The request body as an extractor, read with [`read_all`].
struct RawBody(Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = Infallible;

    async fn from_request(req: Request, _: &S) -> Result<Self, Infallible> {
        Ok(RawBody(read_all(req.into_body()).await))
    }
}

/// Host routing and the bearer check, before any route runs.
async fn gate(State(sim): State<Simulator>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let host = header(req.headers(), "host");
    if path == TOKEN {
        if !is_login_host(host) {
            return Reply(not_found()).into_response();
        }
    } else if path.starts_with("/api/v2/") {
        if !is_api_host(host) {
            return Reply(not_found()).into_response();
        }
        if let Err(e) = sim.check_bearer(header(req.headers(), "authorization")) {
            return Reply(e).into_response();
        }
    }
    next.run(req).await
}

/// Log `METHOD path status` and the `Host` of every answered request. The body is read
/// in full first, whatever the answer: an early 401 or 404 never leaves a client writing
/// into a connection that is being closed.
async fn record(State(sim): State<Simulator>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let host = header(req.headers(), "host").to_string();
    let (parts, body) = req.into_parts();
    let body = Body::from(read_all(body).await);
    let resp = next.run(Request::from_parts(parts, body)).await;
    let mut st = sim.lock();
    st.log
        .push(format!("{method} {path} {}", resp.status().as_u16()));
    st.hosts.push(host);
    resp
}

async fn organization(State(sim): State<Simulator>) -> Reply {
    Reply(sim.organization())
}

async fn create_channel(State(sim): State<Simulator>, headers: HeaderMap) -> Reply {
    Reply(sim.create_channel(header(&headers, "host")))
}

async fn subscriptions(
    State(sim): State<Simulator>,
    method: Method,
    path: Result<Path<String>, PathRejection>,
    RawBody(body): RawBody,
) -> Reply {
    match path {
        Ok(Path(channel)) => Reply(sim.subscriptions(method.as_str(), &channel, &body)),
        Err(_) => Reply(not_found()),
    }
}

async fn nowhere() -> Reply {
    Reply(not_found())
}

async fn sim_received(State(sim): State<Simulator>) -> Reply {
    let st = sim.lock();
    let v: Vec<Value> = st
        .received
        .iter()
        .map(|r| json!({"kind": r.kind, "integration": r.integration_id, "body": r.body}))
        .collect();
    Reply((StatusCode::OK, Value::Array(v)))
}

async fn token(
    State(sim): State<Simulator>,
    method: Method,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Reply {
    let (auth, ctype) = (
        header(&headers, "authorization"),
        header(&headers, "content-type"),
    );
    Reply(sim.token(method.as_str(), auth, ctype, &body))
}

async fn integrations(State(sim): State<Simulator>, RawQuery(query): RawQuery) -> Reply {
    Reply(sim.list_integrations(query.as_deref().unwrap_or("")))
}

async fn inbound(
    State(sim): State<Simulator>,
    path: Result<Path<(String, String)>, PathRejection>,
    RawQuery(query): RawQuery,
    RawBody(body): RawBody,
) -> Reply {
    let body = match json_body(&body) {
        Ok(v) => v,
        Err(e) => return Reply(e),
    };
    let Ok(Path((integration, kind))) = path else {
        return Reply(not_found());
    };
    if !["message", "event", "receipt"].contains(&kind.as_str()) {
        return Reply(not_found());
    }
    Reply(sim.inbound(&integration, &kind, query.as_deref().unwrap_or(""), body))
}

async fn structured(
    State(sim): State<Simulator>,
    path: Result<Path<String>, PathRejection>,
    RawBody(body): RawBody,
) -> Reply {
    let body = match json_body(&body) {
        Ok(v) => v,
        Err(e) => return Reply(e),
    };
    let Ok(Path(integration)) = path else {
        return Reply(not_found());
    };
    Reply(sim.inbound(&integration, "structured-response", "", body))
}

async fn estimated_wait(
    State(sim): State<Simulator>,
    path: Result<Path<String>, PathRejection>,
) -> Reply {
    match path {
        Ok(Path(id)) => Reply(sim.estimated_wait(&id)),
        Err(_) => Reply(not_found()),
    }
}

async fn queue_observations(State(sim): State<Simulator>, RawBody(body): RawBody) -> Reply {
    match json_body(&body) {
        Ok(v) => Reply(sim.queue_observations(&v)),
        Err(e) => Reply(e),
    }
}

async fn conversation(
    State(sim): State<Simulator>,
    path: Result<Path<String>, PathRejection>,
) -> Reply {
    match path {
        Ok(Path(id)) => Reply(sim.get_conversation(&id)),
        Err(_) => Reply(not_found()),
    }
}

async fn participant(
    State(sim): State<Simulator>,
    path: Result<Path<(String, String)>, PathRejection>,
    RawBody(body): RawBody,
) -> Reply {
    let body = match json_body(&body) {
        Ok(v) => v,
        Err(e) => return Reply(e),
    };
    let Ok(Path((conv, pid))) = path else {
        return Reply(not_found());
    };
    Reply(sim.patch_participant(&conv, &pid, &body))
}

async fn user(State(sim): State<Simulator>, path: Result<Path<String>, PathRejection>) -> Reply {
    match path {
        Ok(Path(id)) => Reply(sim.get_user(&id)),
        Err(_) => Reply(not_found()),
    }
}

#[cfg(test)]
mod tests {
    use super::path_kind;
    use crate::testkit::{basic, bearer, raw, start};
    use crate::{error_body, request};
    use serde_json::Value;

    fn json(body: &[u8]) -> Value {
        serde_json::from_slice(body).unwrap()
    }

    #[tokio::test]
    async fn an_unknown_path_is_genesys_404() {
        let (sim, _) = start().await;
        let (status, body) = request("GET", &format!("{}/nope", sim.base_url()), &[], b"")
            .await
            .unwrap();
        assert_eq!(status, 404);
        assert_eq!(
            json(&body),
            error_body(404, "not.found", "The requested resource was not found.")
        );
        assert_eq!(sim.state.lock().unwrap().log, vec!["GET /nope 404"]);
        let text = raw(&sim, "GET /nope HTTP/1.1\r\nhost: 127.0.0.1", "").await;
        assert!(text.starts_with("HTTP/1.1 404"), "{text}");
        assert!(text.contains("content-type: application/json"), "{text}");
        assert!(text.contains("inin-correlation-id: "), "{text}");
    }

    #[tokio::test]
    async fn api_calls_need_a_live_bearer_token() {
        let (sim, _) = start().await;
        let url = format!("{}/api/v2/users/nobody", sim.base_url());
        let (status, body) = request("GET", &url, &[], b"").await.unwrap();
        assert_eq!(status, 401);
        assert_eq!(json(&body)["code"], "authentication.required");
        // Unknown paths under /api/v2 are checked too: the token comes first.
        let other = format!("{}/api/v2/nothing/here", sim.base_url());
        assert_eq!(request("GET", &other, &[], b"").await.unwrap().0, 401);
        let wrong = vec![("authorization".into(), "Bearer tok-forged".into())];
        let (status, body) = request("GET", &url, &wrong, b"").await.unwrap();
        assert_eq!(
            (status, json(&body)["code"].clone()),
            (401, "bad.credentials".into())
        );
        let auth = bearer(&sim).await;
        assert_eq!(request("GET", &url, &auth, b"").await.unwrap().0, 404);
        assert_eq!(request("GET", &other, &auth, b"").await.unwrap().0, 404);
        // A known route with another method is a 404 as well, HEAD included.
        assert_eq!(request("DELETE", &url, &auth, b"").await.unwrap().0, 404);
        assert_eq!(request("HEAD", &url, &auth, b"").await.unwrap().0, 404);
        sim.expire_tokens();
        assert_eq!(request("GET", &url, &auth, b"").await.unwrap().0, 401);
        let log = sim.state.lock().unwrap().log.clone();
        assert!(
            log.contains(&"DELETE /api/v2/users/nobody 404".to_string()),
            "{log:?}"
        );
        assert!(
            log.contains(&"HEAD /api/v2/users/nobody 404".to_string()),
            "{log:?}"
        );
    }

    #[tokio::test]
    async fn the_host_decides_between_login_and_api() {
        let (sim, _) = start().await;
        let form = "grant_type=client_credentials";
        let token = |host: &str| {
            format!(
                "POST /oauth/token HTTP/1.1\r\nhost: {host}\r\nauthorization: {}\r\n\
                 content-type: application/x-www-form-urlencoded",
                basic()
            )
        };
        let on_api = raw(&sim, &token("api.mypurecloud.de"), form).await;
        assert!(on_api.starts_with("HTTP/1.1 404"), "{on_api}");
        let on_login = raw(&sim, &token("login.mypurecloud.de"), form).await;
        assert!(on_login.starts_with("HTTP/1.1 200"), "{on_login}");
        let tok = on_login.split("\"access_token\":\"").nth(1).unwrap();
        let tok = &tok[..tok.find('"').unwrap()];
        let agent = sim.add_agent("Ada", None);
        let user = |host: &str| {
            format!(
                "GET /api/v2/users/{agent} HTTP/1.1\r\nhost: {host}\r\nauthorization: Bearer {tok}"
            )
        };
        let on_login = raw(&sim, &user("login.mypurecloud.de"), "").await;
        assert!(on_login.starts_with("HTTP/1.1 404"), "{on_login}");
        let on_api = raw(&sim, &user("api.mypurecloud.de"), "").await;
        assert!(on_api.starts_with("HTTP/1.1 200"), "{on_api}");
        assert!(on_api.contains("\"name\":\"Ada\""), "{on_api}");
        let hosts = sim.state.lock().unwrap().hosts.clone();
        assert_eq!(
            hosts,
            [
                "api.mypurecloud.de",
                "login.mypurecloud.de",
                "login.mypurecloud.de",
                "api.mypurecloud.de"
            ]
        );
    }

    #[test]
    fn path_kinds() {
        assert_eq!(path_kind("/oauth/token"), "token");
        assert_eq!(
            path_kind("/api/v2/conversations/messages/i/inbound/open/receipt"),
            "receipt"
        );
        assert_eq!(
            path_kind("/api/v2/conversations/messages/c/participants/p"),
            "participant"
        );
        assert_eq!(path_kind("/api/v2/users/u"), "user");
        assert_eq!(
            path_kind("/api/v2/conversations/messages/i/inbound/open/structured/response"),
            "structured-response"
        );
        assert_eq!(
            path_kind("/api/v2/routing/queues/q/estimatedwaittime"),
            "estimated-wait"
        );
        assert_eq!(
            path_kind("/api/v2/analytics/queues/observations/query"),
            "queue-observations"
        );
        assert_eq!(path_kind("/api/v2/users/u/"), "other");
    }
}
