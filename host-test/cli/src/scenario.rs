//! `host-test run SCENARIO.json`: drive the hooks from a JSON file and print each hook's
//! result as one JSON line. The format is documented in the README.

use crate::show;
use genesys_om_handover::testing::fixtures;
use genesys_om_host::api::{DeliveryRequest, Event, Line, Settings};
use genesys_om_host::bindings::types::{EndSignal, UserProfile, Webhook};
use genesys_om_host::{Plugin, Tenant};
use serde::Deserialize;
use std::collections::HashMap;

/// A scenario file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Tenant name (scopes KV); default `demo`.
    #[serde(default = "default_tenant")]
    pub tenant: String,
    /// Provider settings (`wasi:config`), string values.
    pub config: HashMap<String, String>,
    /// The hook calls, in order.
    pub steps: Vec<Step>,
}

fn default_tenant() -> String {
    "demo".into()
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
/// One step: a hook call and its arguments.
pub enum Step {
    /// `start`.
    Start {
        /// The user (the WIT `user-profile`, no other field).
        #[serde(deserialize_with = "genesys_om_host::api::strict")]
        user: Box<UserProfile>,
        /// The conversation so far.
        #[serde(default)]
        transcript: Vec<Line>,
        /// Node settings.
        #[serde(default)]
        settings: Box<Settings>,
    },
    /// `user-message`.
    UserMessage {
        /// The user.
        user_id: String,
        /// What they did.
        #[serde(flatten)]
        event: Event,
    },
    /// An agent text webhook built and signed with the tenant's `webhook-secret`.
    AgentSays {
        /// The user it is for.
        user_id: String,
        /// The agent's text.
        text: String,
        /// The integration it comes from.
        #[serde(default)]
        integration_id: String,
    },
    /// A raw webhook: headers and body exactly as given.
    AgentWebhook {
        /// Request headers.
        #[serde(default)]
        headers: Vec<(String, String)>,
        /// Request body.
        body: String,
    },
    /// A Genesys event JSON (EventBridge envelope or Data Action body).
    GenesysEvent(serde_json::Value),
    /// The user left (a user id).
    UserLeft(String),
    /// The bot closed (a user id).
    BotClosed(String),
    /// An inactivity tick (a user id).
    InactivityCheck(String),
    /// `report-delivery`: the body of `serve`'s `POST /api/<tenant>/delivery`.
    ReportDelivery(DeliveryRequest),
}

/// A Genesys-shaped agent text webhook (the shared fixture), signed with `secret` if any.
pub fn agent_text_webhook(
    user_id: &str,
    integration_id: &str,
    text: &str,
    n: usize,
    secret: Option<&str>,
) -> Webhook {
    let id = format!("{:032x}", 0x5ce0_0000_u128 + n as u128);
    let body = fixtures::text_webhook_body_from(integration_id, user_id, &id, text);
    match secret {
        Some(s) => {
            let w = fixtures::signed(body, s);
            Webhook {
                headers: w.headers,
                body: w.body,
            }
        }
        None => Webhook {
            headers: vec![("Content-Type".to_string(), "application/json".to_string())],
            body,
        },
    }
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
                    .start(
                        &tenant,
                        user,
                        &genesys_om_host::api::transcript(lines)?,
                        &s.as_ref().into(),
                    )
                    .await?,
            ),
            Step::UserMessage { user_id, event: e } => (
                "user-message",
                plugin
                    .user_message(&tenant, user_id, &e.into(), None)
                    .await?,
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
            Step::ReportDelivery(d) => (
                "report-delivery",
                plugin
                    .report_delivery(
                        &tenant,
                        &d.user_id,
                        &d.message_id,
                        d.delivered,
                        d.reason.as_deref(),
                    )
                    .await?,
            ),
        };
        out.push(show::json_line(n, hook, &result));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_delivery_step_is_the_body_of_the_delivery_route() {
        let s: Step = serde_json::from_str(
            r#"{"report_delivery": {"user_id": "u1", "message_id": "m1", "delivered": false,
                "reason": "tab closed"}}"#,
        )
        .unwrap();
        let Step::ReportDelivery(d) = s else {
            panic!("not a report_delivery step")
        };
        assert_eq!((d.user_id.as_str(), d.delivered), ("u1", false));
        assert_eq!(d.reason.as_deref(), Some("tab closed"));
        let extra = r#"{"report_delivery": {"user_id": "u1", "message_id": "m1",
            "delivered": true, "read": true}}"#;
        assert!(serde_json::from_str::<Step>(extra).is_err());
    }
}
