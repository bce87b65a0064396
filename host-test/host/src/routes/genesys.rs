//! What Genesys posts, on one URL as Cognigy's recipes expect: Open Messaging webhooks
//! (checked by their signature, in the component), EventBridge envelopes and Data Action
//! bodies (checked by the tenant's API key, and an envelope's organization). The shape of
//! the body tells them apart; `/events` stays as an alias for events only.

use super::{answer, busy, constant_time_eq, reply, unauthorized, WEBHOOK_DEADLINE};
use crate::bindings::types::{EndSignal, Webhook};
use crate::body::Body;
use crate::server::{Busy, Call, Server};
use crate::tenant::{EndDetection, DEFAULT_MAX_WEBHOOK_BYTES};
use crate::tenants::Loaded;
use crate::webhook::status_for;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{json, Value};
use std::sync::Arc;

type S = State<Arc<Server>>;

/// What a body posted to the provider URL is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// An Open Messaging outbound webhook.
    Webhook,
    /// An Amazon EventBridge envelope (`source`, `detail`).
    EventBridge,
    /// A Web Services Data Action body (`topic`, `userId`).
    DataAction,
}

/// Tell a body's shape by its top-level fields; anything else is a webhook (the component
/// then checks its signature like any webhook's).
pub fn shape(body: &[u8]) -> Shape {
    let Ok(Value::Object(o)) = serde_json::from_slice::<Value>(body) else {
        return Shape::Webhook;
    };
    if o.get("detail").is_some_and(Value::is_object)
        && o.get("source").is_some_and(Value::is_string)
    {
        Shape::EventBridge
    } else if o.get("topic").is_some_and(Value::is_string) && !o.contains_key("channel") {
        Shape::DataAction
    } else {
        Shape::Webhook
    }
}

/// The organization id in an EventBridge `source`:
/// `aws.partner/genesys.com/cloud/<organization id>/<event source suffix>`.
pub fn source_organization(source: &str) -> Option<&str> {
    let rest = source.strip_prefix("aws.partner/")?;
    let (_, rest) = rest.split_once("/cloud/")?;
    let (org, suffix) = rest.split_once('/')?;
    (!org.is_empty() && !suffix.is_empty()).then_some(org)
}

/// `POST /handover/genesysCloudOM`: a webhook's tenant comes from its integration id, an
/// event's from the API key it carries.
pub async fn by_integration(State(s): S, headers: HeaderMap, body: Body) -> Response {
    let body = body.0;
    if shape(&body) != Shape::Webhook {
        return match tenant_by_key(&s, &headers).await {
            Some(loaded) => event(&s, &loaded, &headers, body).await,
            None => unauthorized(),
        };
    }
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
        Ok(Some(t)) => by_name(&s, &t, headers, body).await,
        Ok(None) => unauthorized(),
        Err(_) => reply(StatusCode::SERVICE_UNAVAILABLE, json!({})),
    }
}

/// `POST /handover/genesysCloudOM/<tenant>`: webhooks and events alike.
pub async fn by_tenant(
    State(s): S,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    by_name(&s, &tenant, headers, body.0).await
}

/// `POST /handover/genesysCloudOM/<tenant>/events`: events only (the older route).
pub async fn events(
    State(s): S,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match checked(&s, &name, &body.0).await {
        Ok(loaded) => event(&s, &loaded, &headers, body.0).await,
        Err(r) => r,
    }
}

/// The tenant, if it exists and is enabled and the body is within its `max-webhook-bytes`
/// (checked before any signature is computed; an unknown tenant's limit is the default).
async fn checked(s: &Server, name: &str, body: &[u8]) -> Result<Arc<Loaded>, Response> {
    let loaded = s.tenant(name).await.ok();
    let max = loaded
        .as_deref()
        .map_or(DEFAULT_MAX_WEBHOOK_BYTES, |l| l.file.max_webhook_bytes);
    if body.len() > max {
        return Err(reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"error": "body too large"}),
        ));
    }
    loaded.ok_or_else(unauthorized)
}

async fn by_name(s: &Server, name: &str, headers: HeaderMap, body: Bytes) -> Response {
    let loaded = match checked(s, name, &body).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    if shape(&body) != Shape::Webhook {
        return event(s, &loaded, &headers, body).await;
    }
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

fn key_matches(loaded: &Loaded, headers: &HeaderMap) -> bool {
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let expected = loaded.file.events_api_key.as_bytes();
    !expected.is_empty() && constant_time_eq(key.as_bytes(), expected)
}

/// The tenant whose events API key the request carries.
async fn tenant_by_key(s: &Server, headers: &HeaderMap) -> Option<Arc<Loaded>> {
    for name in s.tenants.names() {
        if let Ok(loaded) = s.tenant(&name).await {
            if key_matches(&loaded, headers) {
                return Some(loaded);
            }
        }
    }
    None
}

/// An event for a known tenant: its API key, the path enabled, an envelope's organization.
async fn event(s: &Server, loaded: &Arc<Loaded>, headers: &HeaderMap, body: Bytes) -> Response {
    if !key_matches(loaded, headers) {
        return unauthorized();
    }
    let way = match shape(&body) {
        Shape::EventBridge => EndDetection::Eventbridge,
        _ => EndDetection::DataAction,
    };
    if !loaded.file.detects_by(way) {
        return reply(
            StatusCode::FORBIDDEN,
            json!({"error": "this end-detection path is not enabled for the tenant"}),
        );
    }
    if way == EndDetection::Eventbridge && !s.opts.flags.skip_organization_check {
        let source = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v["source"].as_str().map(str::to_string))
            .unwrap_or_default();
        let Some(claimed) = source_organization(&source).map(str::to_string) else {
            return reply(
                StatusCode::BAD_REQUEST,
                json!({"error": "EventBridge source names no organization"}),
            );
        };
        match s.organization_of(loaded).await {
            Ok(org) if org.eq_ignore_ascii_case(&claimed) => {}
            Ok(_) => {
                tracing::warn!(tenant = %loaded.tenant.name, source = %source, "EventBridge event of another organization refused");
                return reply(
                    StatusCode::FORBIDDEN,
                    json!({"error": "the event's organization is not the tenant's"}),
                );
            }
            Err(e) => {
                tracing::warn!(tenant = %loaded.tenant.name, error = %format!("{e:#}"), "organization lookup failed");
                return reply(StatusCode::SERVICE_UNAVAILABLE, json!({}));
            }
        }
    }
    answer(
        s.run(loaded, Call::End(EndSignal::GenesysEvent(body.to_vec())))
            .await,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_are_told_apart_by_their_fields() {
        let eb = br#"{"version":"0","source":"aws.partner/genesys.com/cloud/o/s","detail":{"topicName":"x"}}"#;
        assert_eq!(shape(eb), Shape::EventBridge);
        let da = br#"{"userId":"u","topic":"v2.detail.events.conversation.id.user.end","disconnectType":"CLIENT"}"#;
        assert_eq!(shape(da), Shape::DataAction);
        let wh = br#"{"id":"m","channel":{"id":"i","platform":"Open"},"type":"Text","text":"hi","direction":"Outbound"}"#;
        assert_eq!(shape(wh), Shape::Webhook);
        assert_eq!(shape(b"not json"), Shape::Webhook);
        assert_eq!(shape(b"[1,2]"), Shape::Webhook);
        // A webhook that happens to carry a `topic` field stays a webhook.
        assert_eq!(
            shape(br#"{"topic":"x","channel":{"id":"i"}}"#),
            Shape::Webhook
        );
    }

    #[test]
    fn the_organization_is_read_from_the_source() {
        let org = "32aa07aa-db1b-4987-abd0-9483601ec29d";
        let prod = format!("aws.partner/genesys.com/cloud/{org}/handover");
        assert_eq!(source_organization(&prod), Some(org));
        let test = format!("aws.partner/genesys.com.test/cloud/{org}/bus");
        assert_eq!(source_organization(&test), Some(org));
        assert_eq!(source_organization("aws.partner/genesys.com/cloud/"), None);
        assert_eq!(source_organization("my.app"), None);
        assert_eq!(
            source_organization(&format!("aws.partner/genesys.com/cloud/{org}")),
            None
        );
    }
}
