//! The conversation model and its API: one active conversation per (integration, user) with
//! participants; `GET` a conversation, `PATCH` a participant (disconnecting the customer ends
//! it), Genesys users (agents) for `GET /api/v2/users/{id}`, and an agent joining.

use crate::reply::{bad, not_found, Answer};
use crate::state::{Conversation, Participant, SimState};
use crate::Simulator;
use http::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The participant states Genesys accepts in a PATCH.
const STATES: [&str; 12] = [
    "alerting",
    "dialing",
    "contacting",
    "offering",
    "connected",
    "disconnected",
    "terminated",
    "converting",
    "uploading",
    "transmitting",
    "parked",
    "none",
];

impl SimState {
    /// The conversation of `user_id` on an integration that has not ended.
    pub(crate) fn active_conversation(
        &self,
        integration_id: &str,
        user_id: &str,
    ) -> Option<&Conversation> {
        self.conversations
            .values()
            .find(|c| !c.ended && c.integration_id == integration_id && c.user_id == user_id)
    }

    /// Join the user's active conversation or start one (with `new_id`, the customer as
    /// participant `customer_id`, and `attrs` as participant data); returns its id.
    pub(crate) fn join_or_create(
        &mut self,
        integration_id: &str,
        user_id: &str,
        attrs: BTreeMap<String, String>,
        new_id: String,
        customer_id: String,
    ) -> String {
        if let Some(c) = self.active_conversation(integration_id, user_id) {
            return c.id.clone();
        }
        self.conversations.insert(
            new_id.clone(),
            Conversation {
                id: new_id.clone(),
                integration_id: integration_id.to_string(),
                user_id: user_id.to_string(),
                participants: vec![Participant {
                    id: customer_id,
                    purpose: "customer".into(),
                    state: "connected".into(),
                    user_id: None,
                }],
                attributes: attrs,
                ended: false,
            },
        );
        new_id
    }
}

impl Simulator {
    /// Add a Genesys user (an agent) for `GET /api/v2/users/{id}`; returns its id.
    pub fn add_agent(&self, name: &str, avatar: Option<&str>) -> String {
        let id = self.next_id();
        let mut user = json!({ "id": id, "name": name, "state": "active" });
        if let Some(a) = avatar {
            user["images"] = json!([{ "resolution": "x96", "imageUri": a }]);
        }
        self.lock().users.insert(id.clone(), user);
        id
    }

    /// The conversation of a user: the active one, else one that ended.
    pub fn conversation_of(&self, user_id: &str) -> Option<Conversation> {
        let st = self.lock();
        let of_user = || st.conversations.values().filter(|c| c.user_id == user_id);
        of_user()
            .find(|c| !c.ended)
            .or_else(|| of_user().next())
            .cloned()
    }

    /// A conversation by id.
    pub(crate) fn conversation(&self, id: &str) -> Option<Conversation> {
        self.lock().conversations.get(id).cloned()
    }

    /// The simulated agent accepts the conversation: adds an agent participant.
    pub fn agent_joins(&self, conversation_id: &str, agent_user_id: &str) {
        let pid = self.next_id();
        if let Some(c) = self.lock().conversations.get_mut(conversation_id) {
            c.participants.push(Participant {
                id: pid,
                purpose: "agent".into(),
                state: "connected".into(),
                user_id: Some(agent_user_id.into()),
            });
        }
    }

    /// `GET /api/v2/conversations/messages/{id}`: participants, with the customer's data.
    pub(crate) fn get_conversation(&self, id: &str) -> Answer {
        let st = self.lock();
        let Some(c) = st.conversations.get(id) else {
            return not_found();
        };
        let participants: Vec<Value> = c
            .participants
            .iter()
            .map(|p| {
                let mut v = json!({
                    "id": p.id, "purpose": p.purpose, "state": p.state,
                    "attributes": if p.purpose == "customer" { json!(c.attributes) } else { json!({}) }
                });
                // MessageMediaParticipant.user is an AddressableEntityRef.
                if let Some(u) = &p.user_id {
                    v["user"] = json!({ "id": u, "selfUri": format!("/api/v2/users/{u}") });
                }
                v
            })
            .collect();
        (
            StatusCode::OK,
            json!({ "id": c.id, "participants": participants }),
        )
    }

    /// `PATCH .../messages/{conversation}/participants/{participant}` with a parsed body:
    /// 202 with no body; a disconnected customer ends the conversation.
    pub(crate) fn patch_participant(&self, conv: &str, pid: &str, body: &Value) -> Answer {
        let state = body.get("state").and_then(Value::as_str).unwrap_or("");
        if !STATES.contains(&state) {
            return bad(
                "invalid.value",
                format!("Value [{state}] is not valid for field type [state]"),
            );
        }
        let mut st = self.lock();
        let Some(c) = st.conversations.get_mut(conv) else {
            return not_found();
        };
        let Some(p) = c.participants.iter_mut().find(|p| p.id == pid) else {
            return not_found();
        };
        p.state = state.to_string();
        if state == "disconnected" {
            if p.purpose == "customer" {
                c.ended = true;
                for p in c.participants.iter_mut() {
                    p.state = "disconnected".into();
                }
            }
            st.disconnects.push((conv.to_string(), pid.to_string()));
        }
        (StatusCode::ACCEPTED, Value::Null)
    }

    /// `GET /api/v2/users/{id}`.
    pub(crate) fn get_user(&self, id: &str) -> Answer {
        match self.lock().users.get(id) {
            Some(u) => (StatusCode::OK, u.clone()),
            None => not_found(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::{bearer, start};
    use crate::{post, request};
    use serde_json::{json, Value};

    #[tokio::test]
    async fn a_customer_disconnect_ends_the_conversation() {
        let (sim, id) = start().await;
        let auth = bearer(&sim).await;
        let base = format!("{}/api/v2/conversations/messages", sim.base_url());
        let first = json!({
            "channel": { "from": { "id": "u1", "idType": "Opaque" }, "time": "2026-11-25T09:14:03Z",
                         "metadata": { "customAttributes": { "tier": "gold" } } },
            "text": "hi"
        });
        let inbound = format!("{base}/{id}/inbound/open/message");
        let sent = post(&inbound, &auth, first.to_string().as_bytes()).await;
        assert_eq!(sent.unwrap(), 200);
        let conv = sim.conversation_of("u1").unwrap();
        let (status, body) = request("GET", &format!("{base}/{}", conv.id), &auth, b"")
            .await
            .unwrap();
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(status, 200);
        assert_eq!(v["participants"][0]["attributes"]["tier"], "gold");
        let customer = format!(
            "{base}/{}/participants/{}",
            conv.id, conv.participants[0].id
        );
        let patch = |body: &'static [u8]| request("PATCH", &customer, &auth, body);
        assert_eq!(patch(br#"{"state":"gone"}"#).await.unwrap().0, 400);
        assert_eq!(
            patch(br#"{"state":"disconnected"}"#).await.unwrap(),
            (202, vec![])
        );
        assert!(sim.conversation_of("u1").unwrap().ended);
        assert_eq!(sim.state.lock().unwrap().disconnects.len(), 1);
        let nobody = format!("{base}/{}/participants/nobody", conv.id);
        let (status, _) = request("PATCH", &nobody, &auth, br#"{"state":"disconnected"}"#)
            .await
            .unwrap();
        assert_eq!(status, 404);
        let unknown = request("GET", &format!("{base}/nothing"), &auth, b"").await;
        assert_eq!(unknown.unwrap().0, 404);
    }
}
