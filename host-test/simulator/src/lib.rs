//! A local Genesys Cloud simulator on 127.0.0.1: OAuth, the open-messaging integrations
//! list, the inbound Open Messaging API (structured responses included), conversations,
//! users, routing queues (estimated wait, queue observations), and an agent that sends
//! signed outbound webhooks. It validates as Genesys does, so a green test means something.
//!
//! It is an independent oracle: it shares no code with the component under test (its own
//! validation, signing and clock), so one misreading of Genesys's contract cannot hide itself.
//! Start one with [`Simulator::start`]; point clients at [`Simulator::base_url`] (a loopback
//! `Host` reaches both the login and the api endpoints) and inspect [`Simulator::state`].
#![deny(missing_docs)]

mod agent;
mod client;
mod conversations;
mod events;
mod faults;
mod ids;
mod inbound;
mod integrations;
mod notifications;
mod oauth;
mod queues;
mod reply;
mod routes;
mod serve;
mod sign;
mod socket;
mod state;
mod time;
mod tls;
mod validate;

pub use agent::{AgentSends, Webhook};
pub use client::{post, request, request_full};
pub use events::ORGANIZATION_ID;
pub use faults::{Fault, Faults};
pub use notifications::{SimChannel, MAX_CHANNELS, MAX_TOPICS};
pub use queues::validate_observation_query;
pub use reply::{error_body, Answer};
pub use sign::sign;
pub use state::{Conversation, Integration, Participant, Received, SimQueue, SimState};
pub use tls::Tls;
pub use validate::{
    is_iso8601, validate_event, validate_message, validate_receipt, validate_structured_response,
    MAX_ATTRIBUTES_BYTES, MAX_ATTRIBUTE_VALUE, MAX_TEXT_CHARS,
};

use ids::Ids;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// A running simulator; clones share it.
#[derive(Clone)]
pub struct Simulator {
    /// Where it listens (127.0.0.1).
    pub addr: SocketAddr,
    /// Everything it knows and records; tests read and adjust it directly.
    pub state: Arc<Mutex<SimState>>,
    ids: Arc<Ids>,
    /// The test CA's certificate (PEM) when it serves TLS.
    ca_pem: Option<Arc<str>>,
}

impl Simulator {
    /// Start on 127.0.0.1 with a random port; `client_id`/`secret` is the one OAuth client.
    pub async fn start(client_id: &str, client_secret: &str) -> anyhow::Result<Self> {
        Self::start_on(0, client_id, client_secret).await
    }

    /// Start on 127.0.0.1 with a random port, serving HTTPS with a test certificate made
    /// now (trust [`Simulator::ca_pem`] to reach it); `offer` is what ALPN offers.
    pub async fn start_tls(
        client_id: &str,
        client_secret: &str,
        offer: Tls,
    ) -> anyhow::Result<Self> {
        Self::start_with(0, client_id, client_secret, Some(offer)).await
    }

    /// Start on 127.0.0.1:`port` (0 picks a free port). It serves until the runtime stops.
    pub async fn start_on(port: u16, client_id: &str, client_secret: &str) -> anyhow::Result<Self> {
        Self::start_with(port, client_id, client_secret, None).await
    }

    /// Start on 127.0.0.1:`port` (0 picks a free port), over TLS if `tls` says what to offer.
    pub async fn start_with(
        port: u16,
        client_id: &str,
        client_secret: &str,
        tls: Option<Tls>,
    ) -> anyhow::Result<Self> {
        let tls = tls.map(tls::TlsServer::new).transpose()?.map(Arc::new);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let state = SimState {
            clients: HashMap::from([(client_id.to_string(), client_secret.to_string())]),
            token_lifetime_secs: 86_399,
            ..SimState::default()
        };
        let sim = Simulator {
            addr,
            state: Arc::new(Mutex::new(state)),
            ids: Arc::new(Ids::new(u64::from(addr.port()) * 7919)),
            ca_pem: tls.as_ref().map(|t| Arc::from(t.ca_pem.as_str())),
        };
        let app = routes::router(sim.clone());
        tokio::spawn(serve::accept_loop(listener, sim.clone(), app, tls));
        Ok(sim)
    }

    /// `http://127.0.0.1:PORT`, or `https://127.0.0.1:PORT` when it serves TLS.
    pub fn base_url(&self) -> String {
        let scheme = if self.ca_pem.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// When it serves TLS: the PEM certificate of the test CA that signed its certificate,
    /// for a client to add to its trusted roots (tests only: it is made at start).
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// Count a connection served with `protocol`.
    pub(crate) fn count_protocol(&self, protocol: &'static str) {
        *self.lock().protocols.entry(protocol).or_default() += 1;
    }

    /// Requests that reached the simulator for one path kind, faulted ones included (see
    /// [`SimState::requests`] for the kinds).
    pub fn requests(&self, kind: &str) -> usize {
        self.lock().requests.get(kind).copied().unwrap_or(0)
    }

    /// The state, even if a panicking test thread poisoned the lock.
    pub(crate) fn lock(&self) -> MutexGuard<'_, SimState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A fresh UUID-shaped id.
    pub(crate) fn next_id(&self) -> String {
        self.ids.next()
    }

    /// A fresh id without dashes.
    pub(crate) fn hex_id(&self) -> String {
        self.ids.hex()
    }
}

#[cfg(test)]
mod testkit;
