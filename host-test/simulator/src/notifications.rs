//! The Notifications API: channels (`POST /api/v2/notifications/channels`), their topic
//! subscriptions (add, replace, list, remove; at most 1 000 topics a channel, 20 channels,
//! the 21st evicting the oldest) and the WebSocket behind each `connectUri`, which pushes the
//! subscribed conversation events, a heartbeat on demand, and can close or drop the socket.

use crate::reply::{bad, not_found, Answer};
use crate::time::{now_iso, now_millis};
use crate::Simulator;
use http::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use tokio::sync::mpsc;

/// Topics one channel may hold.
pub const MAX_TOPICS: usize = 1000;
/// Channels that may exist at once; creating one more evicts the oldest.
pub const MAX_CHANNELS: usize = 20;

/// What the simulator tells an open socket.
#[derive(Debug)]
pub(crate) enum SocketCmd {
    /// Send this text frame.
    Frame(String),
    /// Send `v2.system.socket_closing`, then close the socket.
    Closing,
    /// Drop the connection without a close frame.
    Drop,
}

/// One notification channel.
#[derive(Debug, Default)]
pub struct SimChannel {
    /// Its id (the last segment of its `connectUri`).
    pub id: String,
    /// Subscribed topics.
    pub topics: BTreeSet<String>,
    /// Creation order.
    pub serial: u64,
    /// Sockets opened on it so far.
    pub connections: usize,
    pub(crate) socket: Option<mpsc::UnboundedSender<SocketCmd>>,
}

/// The conversation detail topics the simulator knows (`v2.detail.events.conversation.{id}.X`).
const DETAIL_TOPICS: &[&str] = &[
    "customer.start",
    "customer.end",
    "user.start",
    "user.end",
    "acw",
    "acd.start",
    "acd.end",
    "wrapup",
    "attributes",
    "flow.start",
    "flow.end",
    "flow.outcome",
];

fn valid_topic(topic: &str) -> bool {
    let Some(rest) = topic.strip_prefix("v2.detail.events.conversation.") else {
        return false;
    };
    let Some((id, kind)) = rest.split_once('.') else {
        return false;
    };
    !id.is_empty()
        && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
        && DETAIL_TOPICS.contains(&kind)
}

/// The topic ids of a subscription body: `[{"id": "..."}]`.
fn topics_of(body: &Value) -> Result<Vec<String>, Answer> {
    let items = body
        .as_array()
        .ok_or_else(|| bad("bad.request", "The request body must be a list of topics."))?;
    let mut out = Vec::new();
    for item in items {
        let id = item.get("id").and_then(Value::as_str).unwrap_or("");
        if !valid_topic(id) {
            return Err(bad(
                "bad.request",
                format!("Invalid topic: {id:?} is not an available topic."),
            ));
        }
        out.push(id.to_string());
    }
    Ok(out)
}

fn listing(topics: &BTreeSet<String>) -> Value {
    let entities: Vec<Value> = topics
        .iter()
        .map(|t| json!({"id": t, "state": "Permitted"}))
        .collect();
    json!({ "entities": entities })
}

impl Simulator {
    /// `POST /api/v2/notifications/channels`; `api_host` is the `Host` the call came to.
    pub(crate) fn create_channel(&self, api_host: &str) -> Answer {
        let domain = api_host
            .strip_prefix("api.")
            .unwrap_or("mypurecloud.com")
            .to_string();
        let id = format!("streaming-0-{}", self.next_id());
        let mut st = self.lock();
        st.channel_serial += 1;
        let serial = st.channel_serial;
        if st.channels.len() >= MAX_CHANNELS {
            let oldest = st
                .channels
                .values()
                .min_by_key(|c| c.serial)
                .map(|c| c.id.clone());
            if let Some(old) = oldest.and_then(|o| st.channels.remove(&o)) {
                if let Some(s) = old.socket {
                    let _ = s.send(SocketCmd::Drop);
                }
            }
        }
        st.channels.insert(
            id.clone(),
            SimChannel {
                id: id.clone(),
                serial,
                ..SimChannel::default()
            },
        );
        let expires = crate::time::iso_in_millis(24 * 3600 * 1000);
        (
            StatusCode::OK,
            json!({
                "connectUri": format!("wss://streaming.{domain}/channels/{id}"),
                "id": id,
                "expires": expires,
            }),
        )
    }

    /// `GET`, `POST` (add), `PUT` (replace) or `DELETE` a channel's subscriptions.
    pub(crate) fn subscriptions(&self, method: &str, channel: &str, body: &[u8]) -> Answer {
        let parsed = match method {
            "POST" | "PUT" => match crate::reply::json_body(body).and_then(|v| topics_of(&v)) {
                Ok(t) => Some(t),
                Err(e) => return e,
            },
            _ => None,
        };
        let mut st = self.lock();
        let Some(c) = st.channels.get_mut(channel) else {
            return not_found();
        };
        match (method, parsed) {
            ("GET", _) => (StatusCode::OK, listing(&c.topics)),
            ("DELETE", _) => {
                c.topics.clear();
                (StatusCode::OK, Value::Null)
            }
            (m, Some(topics)) => {
                let mut next = if m == "PUT" {
                    BTreeSet::new()
                } else {
                    c.topics.clone()
                };
                next.extend(topics);
                if next.len() > MAX_TOPICS {
                    return bad(
                        "bad.request",
                        format!("A channel may subscribe at most {MAX_TOPICS} topics."),
                    );
                }
                c.topics = next;
                (StatusCode::OK, listing(&c.topics))
            }
            _ => not_found(),
        }
    }

    /// A socket was opened on `channel`: its commands come through the returned receiver.
    pub(crate) fn open_socket(&self, channel: &str) -> Option<mpsc::UnboundedReceiver<SocketCmd>> {
        let mut st = self.lock();
        let c = st.channels.get_mut(channel)?;
        let (tx, rx) = mpsc::unbounded_channel();
        if let Some(old) = c.socket.replace(tx) {
            // One connection per channel: the older one goes.
            let _ = old.send(SocketCmd::Drop);
        }
        c.connections += 1;
        Some(rx)
    }

    /// Push a conversation event to every open socket subscribed to its topic, as the
    /// Notifications API frames it; returns how many sockets got it. `topic` is e.g.
    /// `customer.end`, `user.start`.
    pub fn notify(
        &self,
        conversation_id: &str,
        topic: &str,
        disconnect_type: Option<&str>,
        agent_user_id: Option<&str>,
    ) -> usize {
        let envelope = self.eventbridge(conversation_id, topic, disconnect_type, agent_user_id);
        let mut frame = envelope["detail"].clone();
        if let Some(o) = frame.as_object_mut() {
            o.remove("timestamp");
        }
        let name = format!("v2.detail.events.conversation.{conversation_id}.{topic}");
        let text = frame.to_string();
        let st = self.lock();
        st.channels
            .values()
            .filter(|c| c.topics.contains(&name))
            .filter_map(|c| c.socket.as_ref())
            .filter(|s| s.send(SocketCmd::Frame(text.clone())).is_ok())
            .count()
    }

    /// A heartbeat on every open socket, as Genesys sends one every 30 s.
    pub fn heartbeat(&self) {
        let frame = json!({
            "topicName": "channel.metadata",
            "eventBody": { "message": "WebSocket Heartbeat" },
            "version": "2",
            "eventTime": now_millis(),
        })
        .to_string();
        for c in self.lock().channels.values() {
            if let Some(s) = &c.socket {
                let _ = s.send(SocketCmd::Frame(frame.clone()));
            }
        }
    }

    /// Every open socket gets `v2.system.socket_closing` and is closed (maintenance).
    pub fn close_sockets(&self) {
        for c in self.lock().channels.values_mut() {
            if let Some(s) = c.socket.take() {
                let _ = s.send(SocketCmd::Closing);
            }
        }
    }

    /// Every open socket is dropped without a word (a network failure).
    pub fn drop_sockets(&self) {
        for c in self.lock().channels.values_mut() {
            if let Some(s) = c.socket.take() {
                let _ = s.send(SocketCmd::Drop);
            }
        }
    }

    /// Channels and the number of topics each holds, oldest first.
    pub fn channel_topics(&self) -> Vec<(String, usize)> {
        let st = self.lock();
        let mut v: Vec<&SimChannel> = st.channels.values().collect();
        v.sort_by_key(|c| c.serial);
        v.iter().map(|c| (c.id.clone(), c.topics.len())).collect()
    }

    /// Sockets open now.
    pub fn open_sockets(&self) -> usize {
        self.lock()
            .channels
            .values()
            .filter(|c| c.socket.as_ref().is_some_and(|s| !s.is_closed()))
            .count()
    }
}

/// The frame a socket sends before it closes for maintenance.
pub(crate) fn socket_closing_frame() -> String {
    json!({
        "topicName": "v2.system.socket_closing",
        "eventBody": { "message": "Socket closing", "time": now_iso() },
        "version": "2",
    })
    .to_string()
}
