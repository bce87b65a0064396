//! Typed Genesys calls: open a conversation, send inbound messages, events and receipts,
//! disconnect the customer, find the conversation's connected agent, look up an agent and
//! the integration id of the deployment name (both cached in KV). Hooks call these, never a
//! raw path.

use super::client::Client;
use super::inbound::Kind;
use super::paths;
use crate::model::{AgentInfo, Error};
use crate::state::cache;
use serde_json::{json, Value};

/// Pages of the integrations list read at most.
const MAX_PAGES: u32 = 1000;

/// A conversation Genesys opened for a handover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The integration it runs on (looked up again when the cached one was gone).
    pub integration_id: String,
    /// The new conversation.
    pub conversation_id: String,
}

fn s(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

/// The agent as described by `GET /api/v2/users/{id}`: name and the largest image.
pub fn agent_from_user(v: &Value) -> Option<AgentInfo> {
    let name = s(v, "name").filter(|n| !n.is_empty())?;
    let images = v.get("images").and_then(Value::as_array);
    let avatar_url = images.and_then(|imgs| {
        imgs.iter()
            .filter_map(|i| Some((s(i, "resolution").unwrap_or_default(), s(i, "imageUri")?)))
            .max_by_key(|(r, _)| {
                let digits: String = r.chars().filter(char::is_ascii_digit).collect();
                digits.parse::<u64>().unwrap_or(0)
            })
            .map(|(_, u)| u)
    });
    Some(AgentInfo { name, avatar_url })
}

/// The Genesys user id of the agent connected to a conversation (`MessageConversation`):
/// of the `agent` participants in state `connected`, the one connected last.
pub fn connected_agent_id(conversation: &Value) -> Option<String> {
    let participants = conversation.get("participants")?.as_array()?;
    participants
        .iter()
        .filter(|p| {
            p.get("purpose").and_then(Value::as_str) == Some("agent")
                && p.get("state").and_then(Value::as_str) == Some("connected")
        })
        .filter_map(|p| {
            let id = p.pointer("/user/id").and_then(Value::as_str)?;
            Some((s(p, "connectedTime").unwrap_or_default(), id.to_string()))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, id)| id)
}

/// The id of the integration called `name` on one page of the integrations list.
fn find_integration(page: &Value, name: &str) -> Option<String> {
    page.get("entities")?.as_array()?.iter().find_map(|e| {
        (e.get("name").and_then(Value::as_str) == Some(name))
            .then(|| s(e, "id"))
            .flatten()
    })
}

impl Client<'_> {
    /// The id of the Open Messaging integration named by `deployment-name`, looked up
    /// through every page of the integrations list and cached in KV.
    pub fn integration_id(&self) -> Result<String, Error> {
        let kv = self.env.kv;
        let name = &self.settings.deployment_name;
        if let Some(id) = cache::integration(kv, name)? {
            return Ok(id);
        }
        let (mut page, mut seen) = (1u32, 0usize);
        loop {
            let v = self.api("GET", &paths::integrations(page), None, false)?;
            if let Some(id) = find_integration(&v, name) {
                cache::set_integration(kv, name, &id)?;
                return Ok(id);
            }
            let count = v
                .get("entities")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            seen += count;
            let page_count = v.get("pageCount").and_then(Value::as_u64).unwrap_or(0);
            let has_next = v.get("nextUri").and_then(Value::as_str).is_some();
            if count == 0 || (u64::from(page) >= page_count && !has_next) || page >= MAX_PAGES {
                return Err(Error::Config(format!(
                    "setting 'deployment-name' ({name:?}) matches none of the {seen} open messaging integrations"
                )));
            }
            page += 1;
        }
    }

    /// Send the first message of a handover (`?prefetchConversationId=true`) and return the
    /// conversation Genesys opened. When the cached integration is gone (404: deleted and
    /// re-created under the same name) it is looked up again, once.
    pub fn open_conversation(&self, first: &Value) -> Result<Opened, Error> {
        let post = |id: &str| {
            let path = format!(
                "{}?prefetchConversationId=true",
                paths::inbound(id, Kind::Message)
            );
            self.api("POST", &path, Some(first), false)
        };
        let mut integration_id = self.integration_id()?;
        let resp = match post(&integration_id) {
            Err(Error::Api(e)) if e.status == 404 => {
                cache::forget_integration(self.env.kv, &self.settings.deployment_name)?;
                integration_id = self.integration_id()?;
                post(&integration_id)?
            }
            other => other?,
        };
        let conversation_id = s(&resp, "conversationId")
            .filter(|c| !c.is_empty())
            .ok_or_else(|| Error::Transport("Genesys did not return a conversationId".into()))?;
        Ok(Opened {
            integration_id,
            conversation_id,
        })
    }

    /// Send an inbound message, event or receipt. `resent`: this exact body may have been
    /// sent before, so a 409 (Genesys already has its id) means delivered.
    pub fn send_inbound(
        &self,
        integration_id: &str,
        kind: Kind,
        body: &Value,
        resent: bool,
    ) -> Result<(), Error> {
        let path = paths::inbound(integration_id, kind);
        self.api("POST", &path, Some(body), resent).map(drop)
    }

    /// Disconnect every customer participant of the conversation that is still connected.
    /// A conversation Genesys no longer knows has nothing left to disconnect.
    pub fn disconnect_customer(&self, conversation_id: &str) -> Result<(), Error> {
        let path = paths::conversation(conversation_id);
        let conv = match self.api("GET", &path, None, false) {
            Err(Error::Api(e)) if e.status == 404 => return Ok(()),
            other => other?,
        };
        let participants = conv.get("participants").and_then(Value::as_array);
        for p in participants.into_iter().flatten() {
            let is_customer = p.get("purpose").and_then(Value::as_str) == Some("customer");
            let state = p.get("state").and_then(Value::as_str).unwrap_or("");
            let Some(pid) = p.get("id").and_then(Value::as_str) else {
                continue;
            };
            if is_customer && state != "disconnected" && state != "terminated" {
                let body = json!({ "state": "disconnected" });
                self.api(
                    "PATCH",
                    &format!("{path}/participants/{pid}"),
                    Some(&body),
                    false,
                )?;
            }
        }
        Ok(())
    }

    /// The agent connected to the conversation now (`GET` the conversation), if any.
    pub fn connected_agent(&self, conversation_id: &str) -> Result<Option<String>, Error> {
        let conv = self.api("GET", &paths::conversation(conversation_id), None, false)?;
        Ok(connected_agent_id(&conv))
    }

    /// The agent shown to the user: `GET /api/v2/users/{id}`, cached in KV. Ids that are
    /// not Genesys ids (UUIDs) are not looked up.
    pub fn agent(&self, genesys_user_id: &str) -> Result<Option<AgentInfo>, Error> {
        let kv = self.env.kv;
        if let Some(a) = cache::agent(kv, genesys_user_id)? {
            return Ok(Some(a));
        }
        if genesys_user_id.is_empty()
            || !genesys_user_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Ok(None);
        }
        let v = self.api("GET", &paths::user(genesys_user_id), None, false)?;
        let agent = agent_from_user(&v);
        if let Some(a) = &agent {
            cache::set_agent(kv, genesys_user_id, a)?;
        }
        Ok(agent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_details() {
        let v: Value = serde_json::from_str(
            r#"{"id":"a","name":"Alex Agent","images":[{"resolution":"x48","imageUri":"https://s/48"},
            {"resolution":"x300","imageUri":"https://s/300"}]}"#,
        )
        .unwrap();
        let a = agent_from_user(&v).unwrap();
        assert_eq!(a.name, "Alex Agent");
        assert_eq!(a.avatar_url.as_deref(), Some("https://s/300"));
    }

    #[test]
    fn the_agent_connected_last_is_the_one() {
        let v: Value = serde_json::from_str(
            r#"{"participants":[{"id":"p1","purpose":"customer","state":"connected"},
            {"purpose":"agent","state":"disconnected","user":{"id":"gone"},"connectedTime":"2026-01-01T10:00:00Z"},
            {"purpose":"agent","state":"connected","user":{"id":"first"},"connectedTime":"2026-01-01T10:01:00Z"},
            {"purpose":"agent","state":"connected","user":{"id":"last"},"connectedTime":"2026-01-01T10:02:00Z"},
            {"purpose":"acd","state":"connected","user":{"id":"queue"}}]}"#,
        )
        .unwrap();
        assert_eq!(connected_agent_id(&v).as_deref(), Some("last"));
        assert_eq!(
            connected_agent_id(&serde_json::json!({"participants": []})),
            None
        );
    }
}
