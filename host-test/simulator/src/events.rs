//! Conversation events as Genesys's Amazon EventBridge integration delivers them: the
//! analytics detail topics (`customer.end`, `user.end`, `user.start`, `acw`) in an
//! EventBridge envelope, for tests of how the handover ends.

use crate::time::{now_iso, now_millis};
use crate::Simulator;
use serde_json::{json, Value};

/// The simulated organization's id: `GET /api/v2/organizations/me` answers it, and
/// EventBridge `source`s name it.
pub const ORGANIZATION_ID: &str = "32aa07aa-db1b-4987-abd0-9483601ec29d";

impl Simulator {
    /// `GET /api/v2/organizations/me`: the organization of the caller (the fields a
    /// client reads; Genesys sends more).
    pub(crate) fn organization(&self) -> crate::reply::Answer {
        (
            http::StatusCode::OK,
            json!({
                "id": ORGANIZATION_ID,
                "name": "Simulated Organization",
                "thirdPartyOrgName": "simulated",
                "state": "active",
                "selfUri": format!("/api/v2/organizations/{ORGANIZATION_ID}"),
            }),
        )
    }

    /// An Amazon EventBridge envelope for a conversation event, as Genesys's EventBridge
    /// integration delivers it (`topic` is e.g. `customer.end`, `user.end`, `acw`, `user.start`).
    pub fn eventbridge(
        &self,
        conversation_id: &str,
        topic: &str,
        disconnect_type: Option<&str>,
        agent_user_id: Option<&str>,
    ) -> Value {
        let user = self
            .conversation(conversation_id)
            .map(|c| c.user_id)
            .unwrap_or_default();
        let mut body = json!({
            "eventTime": now_millis(),
            "conversationId": conversation_id,
            "participantId": self.next_id(),
            "sessionId": self.next_id(),
            "mediaType": "MESSAGE",
            "messageType": "OPEN",
            "provider": "PureCloud Messaging",
            "direction": "INBOUND",
            "addressFrom": user,
        });
        if let Some(d) = disconnect_type {
            body["disconnectType"] = json!(d);
        }
        if let Some(u) = agent_user_id {
            body["userId"] = json!(u);
        }
        if topic == "user.end" && disconnect_type.is_some_and(|d| d != "TRANSFER") {
            body["interactingDurationMs"] = json!(60_000);
        }
        json!({
            "version": "0",
            "id": self.next_id(),
            "detail-type": format!("v2.detail.events.conversation.{{id}}.{topic}"),
            "source": format!("aws.partner/genesys.com/cloud/{ORGANIZATION_ID}/handover"),
            "account": "123456789012",
            "time": now_iso(),
            "region": "us-east-1",
            "resources": [],
            "detail": {
                "topicName": format!("v2.detail.events.conversation.{conversation_id}.{topic}"),
                "version": "2",
                "eventBody": body,
                "metadata": { "CorrelationId": self.next_id() },
                "timestamp": now_iso()
            }
        })
    }
}
