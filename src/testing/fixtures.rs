//! The one set of test data shared by unit tests, benchmarks, fuzzing, the demo and the
//! scenarios: tenant secrets and settings that work with the fakes, sample users and node
//! settings, Genesys-shaped signed webhooks, and a seeded PRNG that replays from its seed.

use crate::genesys::signature;
use crate::model::{HandoverSettings, Speaker, TranscriptEntry, UserProfile, Webhook};
use serde_json::json;
use std::collections::HashMap;

/// The tenant's webhook secret.
pub const WEBHOOK_SECRET: &str = "bench-webhook-secret-1";
/// The tenant's region.
pub const HOST: &str = "mypurecloud.de";
/// The tenant's Open Messaging integration name.
pub const DEPLOYMENT_NAME: &str = "CognigyHandover";
/// The id [`crate::testing::FakeGenesys`] gives that integration.
pub const INTEGRATION_ID: &str = "integration-1";
/// The tenant's queue.
pub const QUEUE_ID: &str = "queue-1";
/// The tenant's OAuth client id.
pub const CLIENT_ID: &str = "fixture-client";
/// The tenant's OAuth client secret.
pub const CLIENT_SECRET: &str = "fixture-client-secret-value";

/// [`crate::testing::FakeGenesys`] refuses (400) inbound texts starting with this.
pub const REFUSED_PREFIX: &str = "[refuse]";

/// Provider settings that work with the fakes.
pub fn tenant_config() -> Vec<(&'static str, &'static str)> {
    vec![
        ("host", HOST),
        ("deployment-name", DEPLOYMENT_NAME),
        ("queue-id", QUEUE_ID),
        ("webhook-secret", WEBHOOK_SECRET),
        ("client-id", CLIENT_ID),
        ("client-secret", CLIENT_SECRET),
    ]
}

/// [`tenant_config`] as a map.
pub fn tenant_config_map() -> HashMap<String, String> {
    tenant_config()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A user with a session `session-<user_id>`.
pub fn user(user_id: &str) -> UserProfile {
    UserProfile {
        user_id: user_id.to_string(),
        session_id: format!("session-{user_id}"),
        first_name: Some("Jane".into()),
        last_name: Some("Doe".into()),
        nickname: None,
        email: None,
    }
}

/// Node settings with routing attributes, nested custom attributes and agent details on.
pub fn node_settings() -> HandoverSettings {
    HandoverSettings {
        language: Some("english".into()),
        skills: Some("billing".into()),
        priority: Some("2".into()),
        display_agent_details: true,
        custom_attributes: Some(r#"{"customer":{"tier":"gold"},"tags":["a","b"]}"#.into()),
        ..HandoverSettings::default()
    }
}

/// A short bot conversation.
pub fn transcript() -> Vec<TranscriptEntry> {
    let line = |speaker, text: &str| TranscriptEntry {
        speaker,
        text: text.to_string(),
        data: None,
        time: None,
    };
    vec![
        line(Speaker::User, "I need help with my bill"),
        line(Speaker::Bot, "Let me connect you to an agent"),
    ]
}

/// The body of a Genesys outbound text webhook from an agent to `user_id`.
pub fn text_webhook_body(user_id: &str, message_id: &str, text: &str) -> Vec<u8> {
    text_webhook_body_from(INTEGRATION_ID, user_id, message_id, text)
}

/// Now on the wall clock, as Genesys writes `channel.time`: a fixture webhook is sent
/// after the handover it is for opened, and names no conversation (as in Genesys's older
/// documentation), so its time is what ties it to that handover.
pub fn now_iso8601() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    crate::time::iso8601(ms)
}

/// As [`text_webhook_body`], from the integration `integration_id`.
pub fn text_webhook_body_from(
    integration_id: &str,
    user_id: &str,
    message_id: &str,
    text: &str,
) -> Vec<u8> {
    json!({
        "id": message_id,
        "channel": {
            "id": integration_id, "platform": "Open", "type": "Private",
            "to": { "id": user_id, "idType": "Opaque" },
            "from": { "nickname": DEPLOYMENT_NAME, "id": integration_id, "idType": "Opaque" },
            "time": now_iso8601(), "messageId": message_id
        },
        "type": "Text", "text": text, "originatingEntity": "Human", "direction": "Outbound"
    })
    .to_string()
    .into_bytes()
}

/// The body of a Genesys outbound webhook from an agent to `user_id` with `text` (may be
/// empty) and one attachment at `url` of IANA type `mime` (an image for `image/*`).
pub fn attachment_webhook_body(
    user_id: &str,
    message_id: &str,
    text: &str,
    url: &str,
    mime: &str,
) -> Vec<u8> {
    let mut v: serde_json::Value =
        serde_json::from_slice(&text_webhook_body(user_id, message_id, text)).unwrap_or_default();
    let media_type = match mime.starts_with("image/") {
        true => "Image",
        false => "File",
    };
    let name = url.rsplit('/').next().unwrap_or("file");
    v["content"] = json!([{
        "contentType": "Attachment",
        "attachment": { "mediaType": media_type, "url": url, "mime": mime, "filename": name }
    }]);
    v.to_string().into_bytes()
}

/// An agent's attachment webhook to `user_id` ([`attachment_webhook_body`]), signed with
/// [`WEBHOOK_SECRET`].
pub fn attachment_webhook(
    user_id: &str,
    message_id: &str,
    text: &str,
    url: &str,
    mime: &str,
) -> Webhook {
    let body = attachment_webhook_body(user_id, message_id, text, url, mime);
    signed(body, WEBHOOK_SECRET)
}

/// `body` with the `X-Hub-Signature-256` header Genesys would send under `secret`.
pub fn signed(body: Vec<u8>, secret: &str) -> Webhook {
    Webhook {
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("X-Hub-Signature-256".into(), signature::sign(secret, &body)),
        ],
        body,
    }
}

/// An agent's text webhook to `user_id`, signed with [`WEBHOOK_SECRET`].
pub fn text_webhook(user_id: &str, message_id: &str, text: &str) -> Webhook {
    signed(text_webhook_body(user_id, message_id, text), WEBHOOK_SECRET)
}

/// The tenant of `host-test demo` and the defaults of `host-test simulator`: the story's
/// values, which the demo prints.
pub mod demo {
    /// The demo tenant's OAuth client id.
    pub const CLIENT_ID: &str = "demo-client-id";
    /// The demo tenant's OAuth client secret (a made-up value).
    pub const CLIENT_SECRET: &str = "demo-client-secret-do-not-use";
    /// The demo integration's webhook signature secret.
    pub const WEBHOOK_SECRET: &str = "demo-webhook-secret-0123456789";
    /// The demo integration's name.
    pub const DEPLOYMENT: &str = super::DEPLOYMENT_NAME;
    /// The demo queue.
    pub const QUEUE_ID: &str = "d59d0280-6664-4896-ad42-1a2715b7178e";

    /// The demo tenant's provider settings: the region written as a user would paste it.
    pub fn tenant_config() -> Vec<(&'static str, &'static str)> {
        vec![
            ("host", "https://apps.mypurecloud.de/"),
            ("deployment-name", DEPLOYMENT),
            ("queue-id", QUEUE_ID),
            ("webhook-secret", WEBHOOK_SECRET),
            ("client-id", CLIENT_ID),
            ("client-secret", CLIENT_SECRET),
            ("send-profile", "true"),
            ("send-user-profile", "true"),
        ]
    }
}

/// xorshift64*: a small seeded PRNG, so a failing random input replays from its seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (0 is replaced, xorshift needs a non-zero state).
    pub fn new(seed: u64) -> Self {
        Rng(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}
