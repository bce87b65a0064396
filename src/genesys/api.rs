//! Typed Genesys calls: open a conversation, send inbound messages, events and receipts,
//! disconnect the customer, find the conversation's connected agent, look up an agent and
//! the integration id of the deployment name (both cached in KV). Hooks call these, never a
//! raw path.

use super::client::Client;
use super::inbound::{self, Kind};
use super::paths;
use crate::model::{AgentInfo, Error};
use crate::state::cache;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

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

/// What we read of a Genesys user (`GET /api/v2/users/{id}`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// Display name; none or empty means there is no agent to show.
    pub name: Option<String>,
    /// The profile picture in several sizes.
    #[serde(default)]
    pub images: Vec<UserImage>,
}

/// One size of a user's picture.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserImage {
    /// The size, e.g. `x96` (its digits compare sizes).
    pub resolution: Option<String>,
    /// Where the picture is.
    pub image_uri: Option<String>,
}

/// What we read of a `MessageConversation` (`GET /api/v2/conversations/messages/{id}`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    /// Everyone who is or was on the conversation.
    #[serde(default)]
    pub participants: Vec<Participant>,
}

/// What we read of a `MessageMediaParticipant`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Participant {
    /// Participant id (for `PATCH .../participants/{id}`).
    pub id: Option<String>,
    /// `customer`, `agent`, `acd`, ...
    pub purpose: Option<String>,
    /// `connected`, `disconnected`, `terminated`, ...
    pub state: Option<String>,
    /// The Genesys user, for agents.
    pub user: Option<EntityRef>,
    /// When the participant connected (ISO 8601, so it sorts as text).
    pub connected_time: Option<String>,
}

/// A `DomainEntityRef`: the id of another entity.
#[derive(Debug, Default, Deserialize)]
pub struct EntityRef {
    /// The entity's id.
    pub id: Option<String>,
}

/// What we read of one page of `OpenIntegrationEntityListing`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IntegrationPage {
    #[serde(default)]
    entities: Vec<Integration>,
    page_count: Option<u64>,
    next_uri: Option<String>,
}

/// What we read of an `OpenIntegration`.
#[derive(Debug, Default, Deserialize)]
struct Integration {
    id: Option<String>,
    name: Option<String>,
}

/// What we read of the answer to the first message (`OpenMessageNormalizedMessage` with
/// `?prefetchConversationId=true`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FirstMessageAnswer {
    conversation_id: Option<String>,
}

/// A `MediaParticipantRequest` changing only the participant's state.
#[derive(Serialize)]
struct ParticipantState {
    state: &'static str,
}

/// The agent as described by `GET /api/v2/users/{id}`: name and the largest image.
pub fn agent_from_user(user: &User) -> Option<AgentInfo> {
    let name = user.name.clone().filter(|n| !n.is_empty())?;
    let avatar_url = user
        .images
        .iter()
        .filter_map(|i| Some((i.resolution.as_deref().unwrap_or(""), i.image_uri.as_ref()?)))
        .max_by_key(|(r, _)| {
            let digits: String = r.chars().filter(char::is_ascii_digit).collect();
            digits.parse::<u64>().unwrap_or(0)
        })
        .map(|(_, u)| u.clone());
    Some(AgentInfo { name, avatar_url })
}

/// The Genesys user id of the agent connected to a conversation: of the `agent`
/// participants in state `connected`, the one connected last.
pub fn connected_agent_id(conversation: &Conversation) -> Option<String> {
    conversation
        .participants
        .iter()
        .filter(|p| {
            p.purpose.as_deref() == Some("agent") && p.state.as_deref() == Some("connected")
        })
        .filter_map(|p| {
            let id = p.user.as_ref()?.id.as_ref()?;
            Some((p.connected_time.as_deref().unwrap_or(""), id))
        })
        .max_by(|a, b| a.0.cmp(b.0))
        .map(|(_, id)| id.clone())
}

/// The id of the integration called `name` on one page of the integrations list.
fn find_integration(page: &IntegrationPage, name: &str) -> Option<String> {
    page.entities
        .iter()
        .filter(|e| e.name.as_deref() == Some(name))
        .find_map(|e| e.id.clone())
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
            let v: IntegrationPage = self.get(&paths::integrations(page))?;
            if let Some(id) = find_integration(&v, name) {
                cache::set_integration(kv, name, &id)?;
                return Ok(id);
            }
            let count = v.entities.len();
            seen += count;
            let page_count = v.page_count.unwrap_or(0);
            let has_next = v.next_uri.is_some();
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
    pub fn open_conversation(&self, first: &inbound::Message) -> Result<Opened, Error> {
        let post = |id: &str| -> Result<FirstMessageAnswer, Error> {
            let path = format!(
                "{}?prefetchConversationId=true",
                paths::inbound(id, Kind::Message)
            );
            self.send("POST", &path, first, false)
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
        let conversation_id = resp
            .conversation_id
            .filter(|c| !c.is_empty())
            .ok_or_else(|| Error::Transport("Genesys did not return a conversationId".into()))?;
        Ok(Opened {
            integration_id,
            conversation_id,
        })
    }

    /// Send an inbound message, event or receipt (the records of `inbound.rs`, or one the
    /// outbox stored). `resent`: this exact body may have been sent before, so a 409
    /// (Genesys already has its id) means delivered.
    pub fn send_inbound<B: Serialize + ?Sized>(
        &self,
        integration_id: &str,
        kind: Kind,
        body: &B,
        resent: bool,
    ) -> Result<(), Error> {
        let path = paths::inbound(integration_id, kind);
        self.send::<IgnoredAny, _>("POST", &path, body, resent)
            .map(drop)
    }

    /// Disconnect every customer participant of the conversation that is still connected.
    /// A conversation Genesys no longer knows has nothing left to disconnect.
    pub fn disconnect_customer(&self, conversation_id: &str) -> Result<(), Error> {
        let path = paths::conversation(conversation_id);
        let conv: Conversation = match self.get(&path) {
            Err(Error::Api(e)) if e.status == 404 => return Ok(()),
            other => other?,
        };
        for p in &conv.participants {
            let is_customer = p.purpose.as_deref() == Some("customer");
            let state = p.state.as_deref().unwrap_or("");
            let Some(pid) = &p.id else {
                continue;
            };
            if is_customer && state != "disconnected" && state != "terminated" {
                let body = ParticipantState {
                    state: "disconnected",
                };
                let patch = format!("{path}/participants/{pid}");
                self.send::<IgnoredAny, _>("PATCH", &patch, &body, false)?;
            }
        }
        Ok(())
    }

    /// The agent connected to the conversation now (`GET` the conversation), if any.
    pub fn connected_agent(&self, conversation_id: &str) -> Result<Option<String>, Error> {
        let conv: Conversation = self.get(&paths::conversation(conversation_id))?;
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
        let user: User = self.get(&paths::user(genesys_user_id))?;
        let agent = agent_from_user(&user);
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
        let v: User = serde_json::from_str(
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
        let v: Conversation = serde_json::from_str(
            r#"{"participants":[{"id":"p1","purpose":"customer","state":"connected"},
            {"purpose":"agent","state":"disconnected","user":{"id":"gone"},"connectedTime":"2026-01-01T10:00:00Z"},
            {"purpose":"agent","state":"connected","user":{"id":"first"},"connectedTime":"2026-01-01T10:01:00Z"},
            {"purpose":"agent","state":"connected","user":{"id":"last"},"connectedTime":"2026-01-01T10:02:00Z"},
            {"purpose":"acd","state":"connected","user":{"id":"queue"}}]}"#,
        )
        .unwrap();
        assert_eq!(connected_agent_id(&v).as_deref(), Some("last"));
        let none: Conversation = serde_json::from_str(r#"{"participants": []}"#).unwrap();
        assert_eq!(connected_agent_id(&none), None);
    }
}
