//! Everything the simulator knows and records, behind one lock: the configured clients,
//! integrations and users, the conversations it models, and what tests inspect afterwards
//! (accepted requests, the request log, tokens, disconnects, faults).

use crate::faults::Faults;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

/// An open-messaging integration ("deployment").
#[derive(Clone, Debug)]
pub struct Integration {
    /// Integration id (a UUID), as in the inbound paths.
    pub id: String,
    /// Its name: the component looks an integration up by this name.
    pub name: String,
    /// Where the agent's outbound webhooks go.
    pub webhook_url: String,
    /// The secret the outbound webhooks are signed with.
    pub secret: String,
}

/// A conversation participant.
#[derive(Clone, Debug)]
pub struct Participant {
    /// Participant id.
    pub id: String,
    /// `customer` or `agent`.
    pub purpose: String,
    /// `connected`, `disconnected`, … (Genesys's participant states).
    pub state: String,
    /// The Genesys user of an agent participant.
    pub user_id: Option<String>,
}

/// One Open Messaging conversation.
#[derive(Clone, Debug)]
pub struct Conversation {
    /// Conversation id.
    pub id: String,
    /// The integration it came in through.
    pub integration_id: String,
    /// The customer: `channel.from.id` of its messages.
    pub user_id: String,
    /// Customer first, then agents as they join.
    pub participants: Vec<Participant>,
    /// Participant data of the customer (from the first message's custom attributes).
    pub attributes: BTreeMap<String, String>,
    /// Set when the customer was disconnected; a later message starts a new conversation.
    pub ended: bool,
}

/// A routing queue's figures (set by tests with `Simulator::set_queue`).
#[derive(Clone, Debug, Default)]
pub struct SimQueue {
    /// Genesys's estimated wait in seconds; `None`: no estimate.
    pub estimated_wait_secs: Option<u32>,
    /// Agents on queue.
    pub on_queue: u32,
    /// Of them, agents idle (the rest interact).
    pub idle: u32,
}

/// An accepted inbound request.
#[derive(Clone, Debug)]
pub struct Received {
    /// `message`, `event`, `receipt` or `structured-response`.
    pub kind: String,
    /// The integration it was posted to.
    pub integration_id: String,
    /// The conversation it joined (messages always; events and receipts if one is active).
    pub conversation_id: Option<String>,
    /// The request body as posted.
    pub body: Value,
}

/// Everything the simulator knows and records.
#[derive(Default)]
pub struct SimState {
    /// Fault injection settings.
    pub faults: Faults,
    /// State of the fault PRNG (xorshift).
    pub fault_seed: u64,
    /// Faults injected so far, by kind.
    pub injected: HashMap<String, usize>,
    /// Requests to the inbound endpoints, faulted ones included.
    pub inbound_attempts: usize,
    /// Requests that reached the simulator, faulted ones included, by path kind: `token`,
    /// `integrations`, `message`, `event`, `receipt`, `structured-response`, `conversation`,
    /// `participant`, `user`, `channel`, `subscriptions`, `stream`, `estimated-wait`,
    /// `queue-observations`, `sim` or `other`.
    pub requests: BTreeMap<&'static str, usize>,
    /// Inbound message ids already accepted, per integration (a re-send gets 409).
    pub message_ids: HashSet<(String, String)>,
    /// OAuth clients: client id → secret.
    pub clients: HashMap<String, String>,
    /// `expires_in` of new tokens, in seconds.
    pub token_lifetime_secs: u64,
    /// Live tokens and when they expire.
    pub tokens: HashMap<String, Instant>,
    /// Every access token ever issued (for leak checks).
    pub issued: Vec<String>,
    /// Tokens issued.
    pub token_requests: usize,
    /// Integrations in list order.
    pub integrations: Vec<Integration>,
    /// Conversations by id.
    pub conversations: HashMap<String, Conversation>,
    /// Accepted inbound requests in arrival order.
    pub received: Vec<Received>,
    /// Genesys users by id, as `GET /api/v2/users/{id}` returns them.
    pub users: HashMap<String, Value>,
    /// Every request as `METHOD path status`.
    pub log: Vec<String>,
    /// Hosts seen in the `Host` header, to check login vs api routing.
    pub hosts: Vec<String>,
    /// `(conversation id, participant id)` of every participant set to disconnected.
    pub disconnects: Vec<(String, String)>,
    /// Notification channels by id.
    pub channels: HashMap<String, crate::notifications::SimChannel>,
    /// Channels created so far (their creation order).
    pub channel_serial: u64,
    /// TCP connections accepted so far.
    pub connections: usize,
    /// Connections served, by protocol: `h2`, `http/1.1` (both over TLS) or
    /// `http/1.1 (plain)`.
    pub protocols: BTreeMap<&'static str, usize>,
    /// Requests by HTTP version as hyper names it (`HTTP/1.1`, `HTTP/2.0`).
    pub versions: BTreeMap<String, usize>,
    /// TLS handshakes that failed (a client that refused the test certificate, say).
    pub tls_failures: usize,
    /// Routing queues by id.
    pub queues: HashMap<String, SimQueue>,
}
