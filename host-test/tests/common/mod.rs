//! Shared test harness: the release component (compiled once per test binary), a fresh
//! Genesys simulator per test, and a tenant whose settings point at it.
#![allow(dead_code)]

use host_test::bindings::types::{
    EndSignal, Error, HandoverSettings, Outcome, Speaker, TranscriptEntry, UserEvent, UserProfile,
    Webhook,
};
use host_test::kv::KvStore;
use host_test::runtime::{default_wasm_path, engine, Plugin, Router, Tenant};
use host_test::simulator::{AgentSends, Simulator};
use std::collections::HashMap;
use std::sync::OnceLock;
use wasmtime::component::Component;
use wasmtime::Engine;

pub const CLIENT_ID: &str = "test-client";
pub const CLIENT_SECRET: &str = "test-client-secret-value";
pub const WEBHOOK_SECRET: &str = "test-webhook-secret-value";
pub const DEPLOYMENT: &str = "CognigyHandover";

fn compiled() -> &'static (Engine, Component) {
    static C: OnceLock<(Engine, Component)> = OnceLock::new();
    C.get_or_init(|| {
        let path = default_wasm_path();
        assert!(
            path.exists(),
            "{} is missing: run `make build` first",
            path.display()
        );
        let engine = engine().unwrap();
        let component = Component::from_file(&engine, &path).expect("component compiles");
        (engine, component)
    })
}

pub struct H {
    pub sim: Simulator,
    pub plugin: Plugin,
    pub tenant: Tenant,
    pub integration: String,
}

pub fn config() -> HashMap<String, String> {
    [
        ("host", "mypurecloud.de"),
        ("deployment-name", DEPLOYMENT),
        ("queue-id", "queue-1"),
        ("webhook-secret", WEBHOOK_SECRET),
        ("client-id", CLIENT_ID),
        ("client-secret", CLIENT_SECRET),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

pub async fn harness() -> H {
    harness_with(|_| {}).await
}

pub async fn harness_with(f: impl FnOnce(&mut HashMap<String, String>)) -> H {
    let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await.unwrap();
    let integration = sim.add_integration(DEPLOYMENT, "", WEBHOOK_SECRET);
    let mut cfg = config();
    f(&mut cfg);
    let (engine, component) = compiled();
    let router = Router::to(sim.base_url().parse().unwrap());
    let plugin = Plugin::from_component(engine, component, router, KvStore::default()).unwrap();
    H {
        sim,
        plugin,
        tenant: Tenant::new("tenant-a", cfg),
        integration,
    }
}

pub fn user(id: &str) -> UserProfile {
    UserProfile {
        user_id: id.into(),
        session_id: format!("session-of-{id}"),
        first_name: Some("Jane".into()),
        last_name: Some("Doe".into()),
        nickname: Some("JD".into()),
        email: Some("jane@example.com".into()),
    }
}

pub fn settings() -> HandoverSettings {
    HandoverSettings {
        language: Some("english".into()),
        skills: Some("escalation".into()),
        priority: Some("1".into()),
        enable_user_connects_message: true,
        enable_user_disconnects_message: true,
        display_agent_details: false,
        custom_attributes: None,
        disconnect_message: None,
    }
}

pub fn transcript() -> Vec<TranscriptEntry> {
    vec![
        TranscriptEntry {
            speaker: Speaker::User,
            text: "I need help".into(),
            data: None,
        },
        TranscriptEntry {
            speaker: Speaker::Bot,
            text: "Connecting you to an agent".into(),
            data: None,
        },
    ]
}

impl H {
    pub async fn start_with(
        &self,
        u: &UserProfile,
        t: &[TranscriptEntry],
        s: &HandoverSettings,
    ) -> Result<Outcome, Error> {
        self.plugin
            .start(&self.tenant, u, t, s)
            .await
            .expect("no trap")
    }

    pub async fn start(&self, id: &str) -> Outcome {
        self.start_with(&user(id), &transcript(), &settings())
            .await
            .expect("start succeeds")
    }

    /// Start and return the simulator's conversation id.
    pub async fn open(&self, id: &str) -> String {
        self.start(id).await;
        self.sim
            .conversation_of(id)
            .expect("conversation exists")
            .id
    }

    pub async fn user_says(&self, id: &str, e: UserEvent) -> Result<Outcome, Error> {
        self.plugin
            .user_message(&self.tenant, id, &e)
            .await
            .expect("no trap")
    }

    pub async fn agent(&self, w: &Webhook) -> Result<Outcome, Error> {
        self.plugin
            .agent_message(&self.tenant, w)
            .await
            .expect("no trap")
    }

    pub async fn agent_sends(&self, conv: &str, s: AgentSends) -> Result<Outcome, Error> {
        let w = self.sim.webhook(conv, s).unwrap();
        self.agent(&w).await
    }

    pub async fn end(&self, s: EndSignal) -> Result<Outcome, Error> {
        self.plugin.end(&self.tenant, &s).await.expect("no trap")
    }

    pub async fn event(
        &self,
        conv: &str,
        topic: &str,
        disconnect: Option<&str>,
        agent: Option<&str>,
    ) -> Result<Outcome, Error> {
        let ev = self.sim.eventbridge(conv, topic, disconnect, agent);
        self.end(EndSignal::GenesysEvent(ev.to_string().into_bytes()))
            .await
    }

    /// Handover keys left in the tenant's KV.
    pub fn handover_keys(&self) -> Vec<String> {
        let mut k: Vec<String> = self
            .plugin
            .kv
            .dump(&self.tenant.name, "genesys-om")
            .into_keys()
            .filter(|k| {
                [
                    "handover/",
                    "conversation/",
                    "seen/",
                    "activity/",
                    "outbox/",
                ]
                .iter()
                .any(|p| k.starts_with(p))
            })
            .collect();
        k.sort();
        k
    }
}
