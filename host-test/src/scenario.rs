//! `host-test run SCENARIO.json`: drive the hooks from a JSON file and print each hook's
//! result as one JSON line. The format is documented in the README.

use crate::bindings::types::{
    Attachment, EndSignal, HandoverSettings, Speaker, TranscriptEntry, UserEvent, UserProfile,
    Webhook,
};
use crate::runtime::{Plugin, Tenant};
use crate::show;
use crate::simulator::sign;
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Tenant name (scopes KV); default `demo`.
    #[serde(default = "default_tenant")]
    pub tenant: String,
    /// Provider settings (`wasi:config`), string values.
    pub config: HashMap<String, String>,
    pub steps: Vec<Step>,
}

fn default_tenant() -> String {
    "demo".into()
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    Start {
        user: Box<User>,
        #[serde(default)]
        transcript: Vec<Line>,
        #[serde(default)]
        settings: Box<Settings>,
    },
    UserMessage {
        user_id: String,
        #[serde(flatten)]
        event: Event,
    },
    /// An agent text webhook built and signed with the tenant's `webhook-secret`.
    AgentSays {
        user_id: String,
        text: String,
        #[serde(default)]
        integration_id: String,
    },
    /// A raw webhook: headers and body exactly as given.
    AgentWebhook {
        #[serde(default)]
        headers: Vec<(String, String)>,
        body: String,
    },
    /// A Genesys event JSON (EventBridge envelope or Data Action body).
    GenesysEvent(serde_json::Value),
    UserLeft(String),
    BotClosed(String),
    InactivityCheck(String),
    ReportDelivery {
        user_id: String,
        message_id: String,
        delivered: bool,
        #[serde(default)]
        reason: Option<String>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub user_id: String,
    pub session_id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub nickname: Option<String>,
    pub email: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    /// `user`, `bot` or `agent`.
    pub speaker: String,
    #[serde(default)]
    pub text: String,
    pub data: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub language: Option<String>,
    pub skills: Option<String>,
    pub priority: Option<String>,
    #[serde(default = "yes")]
    pub enable_user_connects_message: bool,
    #[serde(default = "yes")]
    pub enable_user_disconnects_message: bool,
    #[serde(default)]
    pub display_agent_details: bool,
    /// A JSON object, or a JSON string holding one (passed through as JSON text).
    pub custom_attributes: Option<serde_json::Value>,
    pub disconnect_message: Option<String>,
}

fn yes() -> bool {
    true
}

impl Default for Settings {
    fn default() -> Self {
        serde_json::from_value(json!({})).expect("all fields have defaults")
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Event {
    Text(String),
    Attachment {
        url: String,
        mime_type: String,
        file_name: Option<String>,
    },
    Typing(()),
    Reconnected(()),
    Disconnected(()),
}

pub fn profile(u: &User) -> UserProfile {
    UserProfile {
        user_id: u.user_id.clone(),
        session_id: u.session_id.clone(),
        first_name: u.first_name.clone(),
        last_name: u.last_name.clone(),
        nickname: u.nickname.clone(),
        email: u.email.clone(),
    }
}

pub fn transcript(lines: &[Line]) -> anyhow::Result<Vec<TranscriptEntry>> {
    lines
        .iter()
        .map(|l| {
            let speaker = match l.speaker.as_str() {
                "user" => Speaker::User,
                "bot" => Speaker::Bot,
                "agent" => Speaker::Agent,
                other => anyhow::bail!("unknown speaker {other:?} (user, bot or agent)"),
            };
            Ok(TranscriptEntry {
                speaker,
                text: l.text.clone(),
                data: l.data.as_ref().map(|d| d.to_string()),
            })
        })
        .collect()
}

pub fn settings(s: &Settings) -> HandoverSettings {
    HandoverSettings {
        language: s.language.clone(),
        skills: s.skills.clone(),
        priority: s.priority.clone(),
        enable_user_connects_message: s.enable_user_connects_message,
        enable_user_disconnects_message: s.enable_user_disconnects_message,
        display_agent_details: s.display_agent_details,
        custom_attributes: s.custom_attributes.as_ref().map(|v| v.to_string()),
        disconnect_message: s.disconnect_message.clone(),
    }
}

pub fn event(e: &Event) -> UserEvent {
    match e {
        Event::Text(t) => UserEvent::Text(t.clone()),
        Event::Attachment {
            url,
            mime_type,
            file_name,
        } => UserEvent::Attachment(Attachment {
            url: url.clone(),
            mime_type: mime_type.clone(),
            file_name: file_name.clone(),
        }),
        Event::Typing(()) => UserEvent::Typing,
        Event::Reconnected(()) => UserEvent::Reconnected,
        Event::Disconnected(()) => UserEvent::Disconnected,
    }
}

/// A Genesys-shaped agent text webhook signed with `secret`.
pub fn agent_text_webhook(
    user_id: &str,
    integration_id: &str,
    text: &str,
    n: usize,
    secret: Option<&str>,
) -> Webhook {
    let id = format!("{:032x}", 0x5ce0_0000_u128 + n as u128);
    let body = json!({
        "id": id,
        "channel": { "id": integration_id, "platform": "Open", "type": "Private",
                     "to": { "id": user_id, "idType": "Opaque" },
                     "from": { "id": integration_id, "idType": "Opaque", "nickname": "scenario" },
                     "time": "2026-11-25T09:14:05.001Z", "messageId": id },
        "type": "Text", "text": text, "originatingEntity": "Human", "direction": "Outbound"
    })
    .to_string()
    .into_bytes();
    let mut headers = vec![("Content-Type".to_string(), "application/json".to_string())];
    if let Some(s) = secret {
        headers.push(("X-Hub-Signature-256".to_string(), sign(s, &body)));
    }
    Webhook { headers, body }
}

/// Run every step; returns the JSON lines.
pub async fn run(plugin: &Plugin, scenario: &Scenario) -> anyhow::Result<Vec<String>> {
    let tenant = Tenant::new(&scenario.tenant, scenario.config.clone());
    let secret = scenario.config.get("webhook-secret").map(String::as_str);
    let mut out = Vec::new();
    for (i, step) in scenario.steps.iter().enumerate() {
        let n = i + 1;
        let (hook, result) = match step {
            Step::Start {
                user,
                transcript: lines,
                settings: s,
            } => (
                "start",
                plugin
                    .start(&tenant, &profile(user), &transcript(lines)?, &settings(s))
                    .await?,
            ),
            Step::UserMessage { user_id, event: e } => (
                "user-message",
                plugin.user_message(&tenant, user_id, &event(e)).await?,
            ),
            Step::AgentSays {
                user_id,
                text,
                integration_id,
            } => {
                let w = agent_text_webhook(user_id, integration_id, text, n, secret);
                ("agent-message", plugin.agent_message(&tenant, &w).await?)
            }
            Step::AgentWebhook { headers, body } => {
                let w = Webhook {
                    headers: headers.clone(),
                    body: body.clone().into_bytes(),
                };
                ("agent-message", plugin.agent_message(&tenant, &w).await?)
            }
            Step::GenesysEvent(v) => (
                "end",
                plugin
                    .end(
                        &tenant,
                        &EndSignal::GenesysEvent(v.to_string().into_bytes()),
                    )
                    .await?,
            ),
            Step::UserLeft(u) => (
                "end",
                plugin.end(&tenant, &EndSignal::UserLeft(u.clone())).await?,
            ),
            Step::BotClosed(u) => (
                "end",
                plugin
                    .end(&tenant, &EndSignal::BotClosed(u.clone()))
                    .await?,
            ),
            Step::InactivityCheck(u) => (
                "end",
                plugin
                    .end(&tenant, &EndSignal::InactivityCheck(u.clone()))
                    .await?,
            ),
            Step::ReportDelivery {
                user_id,
                message_id,
                delivered,
                reason,
            } => (
                "report-delivery",
                plugin
                    .report_delivery(&tenant, user_id, message_id, *delivered, reason.as_deref())
                    .await?,
            ),
        };
        out.push(show::json_line(n, hook, &result));
    }
    Ok(out)
}
