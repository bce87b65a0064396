//! What the benchmark feeds the hooks, the same for the component and the native build:
//! a 20-line transcript, nested custom attributes, 1 KiB signed webhooks from the shared
//! fixtures, and Genesys answered in process so no network enters the figures.

use genesys_om_handover::testing::fixtures;
use genesys_om_handover::testing::FakeGenesys;
use genesys_om_host::bindings::types::{Speaker, UserProfile};
use genesys_om_host::egress::Responder;
use genesys_om_host::Egress;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

pub(crate) const CUSTOM_ATTRIBUTES: &str = r#"{"customer":{"tier":"gold","address":{"city":"Berlin","zip":"10115"}},"tags":["a","b","c"],"items":[{"sku":"A1","qty":2},{"sku":"B2","qty":1}],"vip":true,"score":4.5}"#;

pub(crate) fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

pub(crate) fn transcript() -> Vec<(Speaker, String)> {
    (0..20)
        .map(|i| {
            let who = if i % 2 == 0 {
                Speaker::User
            } else {
                Speaker::Bot
            };
            (
                who,
                format!("Line {i} of the conversation before the handover, with a few words."),
            )
        })
        .collect()
}

/// A signed Genesys text webhook of about 1 KiB for `user` (the shared fixture, padded).
pub(crate) fn webhook(user: &str, n: usize) -> (Vec<(String, String)>, Vec<u8>) {
    let id = format!("{n:032x}");
    let bare = fixtures::text_webhook_body(user, &id, "").len();
    let text = "x".repeat(1024usize.saturating_sub(bare));
    let w = fixtures::text_webhook(user, &id, &text);
    (w.headers, w.body)
}

pub(crate) fn end_event(user: &str) -> Vec<u8> {
    json!({"userId": user, "topic": "v2.detail.events.conversation.id.customer.end", "disconnectType": "CLIENT"})
        .to_string()
        .into_bytes()
}

pub(crate) fn profile(user_id: &str) -> UserProfile {
    UserProfile {
        user_id: user_id.into(),
        session_id: format!("session-{user_id}"),
        first_name: None,
        last_name: None,
        nickname: None,
        email: None,
    }
}

/// Genesys answered in process by the domain crate's fake: no network in the figures.
struct FakeResponder;

impl Responder for FakeResponder {
    fn respond(&self, method: &str, url: &str, body: &[u8]) -> (u16, Vec<u8>) {
        use genesys_om_handover::ports::Http as _;
        let method = match method {
            "GET" => "GET",
            "PATCH" => "PATCH",
            "PUT" => "PUT",
            "DELETE" => "DELETE",
            _ => "POST",
        };
        let req = genesys_om_handover::HttpRequest {
            method,
            url: url.to_string(),
            headers: Vec::new(),
            body: body.to_vec(),
            timeout_ms: 0,
        };
        match FakeGenesys::default().send(&req) {
            Ok(r) => (r.status, r.body),
            Err(_) => (503, Vec::new()),
        }
    }
}

pub(crate) fn in_process() -> Egress {
    Egress::InProcess(Arc::new(FakeResponder))
}
