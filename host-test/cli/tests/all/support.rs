//! Shared test harness: the release component (compiled once per test run), a fresh
//! Genesys simulator per test, and a tenant whose settings point at it.
#![allow(dead_code)]

use genesys_om_host::bindings::types::{
    EndSignal, Error, HandoverSettings, Outcome, Speaker, TranscriptEntry, UserEvent, UserProfile,
    Webhook,
};
use genesys_om_host::runtime::default_wasm_path;
use genesys_om_host::{engine, Egress, Plugin, Store, Tenant};
use genesys_sim::{AgentSends, Simulator};
use std::collections::HashMap;
use std::sync::OnceLock;
use wasmtime::component::Component;
use wasmtime::Engine;

pub use genesys_om_handover::testing::fixtures::{CLIENT_ID, CLIENT_SECRET, WEBHOOK_SECRET};
pub const DEPLOYMENT: &str = genesys_om_handover::testing::fixtures::DEPLOYMENT_NAME;

/// The engine and the release component, compiled once for the whole test binary.
pub fn compiled() -> &'static (Engine, Component) {
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

/// The shared fixture tenant's settings (the simulator is set up with the same values).
pub fn config() -> HashMap<String, String> {
    genesys_om_handover::testing::fixtures::tenant_config_map()
}

pub async fn harness() -> H {
    harness_with(|_| {}).await
}

pub async fn harness_with(f: impl FnOnce(&mut HashMap<String, String>)) -> H {
    harness_on(Store::memory(), f).await
}

/// A harness whose component keeps its state in `kv`.
pub async fn harness_on(kv: Store, f: impl FnOnce(&mut HashMap<String, String>)) -> H {
    let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await.unwrap();
    let egress = Egress::redirect(&sim.base_url()).unwrap();
    assemble(sim, egress, kv, f)
}

/// A harness whose simulator serves HTTPS offering `offer` in ALPN; the host trusts the
/// simulator's test CA only if `trust` (otherwise it has the web PKI roots alone).
pub async fn harness_tls(
    offer: genesys_sim::Tls,
    trust: bool,
    f: impl FnOnce(&mut HashMap<String, String>),
) -> H {
    let sim = Simulator::start_tls(CLIENT_ID, CLIENT_SECRET, offer)
        .await
        .unwrap();
    let base = sim.base_url();
    let egress = if trust {
        Egress::redirect_trusting(&base, sim.ca_pem().expect("a TLS simulator")).unwrap()
    } else {
        Egress::redirect(&base).unwrap()
    };
    assemble(sim, egress, Store::memory(), f)
}

/// A harness around a started simulator and the egress that reaches it.
pub fn assemble(
    sim: Simulator,
    egress: Egress,
    kv: Store,
    f: impl FnOnce(&mut HashMap<String, String>),
) -> H {
    let integration = sim.add_integration(DEPLOYMENT, "", WEBHOOK_SECRET);
    let mut cfg = config();
    f(&mut cfg);
    let (engine, component) = compiled();
    let plugin = Plugin::from_component(engine, component, egress, kv).unwrap();
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
        inactivity_timeout_secs: None,
    }
}

pub fn transcript() -> Vec<TranscriptEntry> {
    vec![
        TranscriptEntry {
            speaker: Speaker::User,
            text: "I need help".into(),
            data: None,
            time: None,
        },
        TranscriptEntry {
            speaker: Speaker::Bot,
            text: "Connecting you to an agent".into(),
            data: None,
            time: None,
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

    /// Start and return the simulator's conversation id; an agent has accepted it and
    /// Genesys's `user.start` told the component so (the agent's first message then
    /// carries only its content).
    pub async fn open(&self, id: &str) -> String {
        let conv = self.open_unanswered(id).await;
        let agent = self.sim.add_agent("Alex Agent", None);
        self.sim.agent_joins(&conv, &agent);
        self.event(&conv, "user.start", None, Some(&agent))
            .await
            .expect("user.start is taken");
        conv
    }

    /// Start and return the simulator's conversation id; no agent has joined yet.
    pub async fn open_unanswered(&self, id: &str) -> String {
        self.start(id).await;
        self.sim
            .conversation_of(id)
            .expect("conversation exists")
            .id
    }

    pub async fn user_says(&self, id: &str, e: UserEvent) -> Result<Outcome, Error> {
        self.plugin
            .user_message(&self.tenant, id, &e, None)
            .await
            .expect("no trap")
    }

    pub async fn agent(&self, w: &Webhook) -> Result<Outcome, Error> {
        self.plugin
            .agent_message(&self.tenant, w)
            .await
            .expect("no trap")
    }

    /// A signed webhook from the simulator's agent, as the WIT type.
    pub fn webhook(&self, conv: &str, s: AgentSends) -> anyhow::Result<Webhook> {
        Ok(webhook(self.sim.webhook(conv, s)?))
    }

    pub async fn agent_sends(&self, conv: &str, s: AgentSends) -> Result<Outcome, Error> {
        let w = self.webhook(conv, s).unwrap();
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

    /// Keys the component stored for a handover (they name its user or its Genesys
    /// conversation), as left in the tenant's store; tenant-wide caches are not counted.
    pub async fn handover_keys(&self) -> Vec<String> {
        let ids: Vec<String> = {
            let st = self.sim.state.lock().unwrap();
            st.conversations
                .values()
                .flat_map(|c| [c.id.clone(), c.user_id.clone()])
                .collect()
        };
        let keys = genesys_om_host::keyvalue::component_keys(&self.plugin.kv, &self.tenant.name)
            .await
            .unwrap();
        keys.into_iter()
            .filter(|k| ids.iter().any(|id| k.contains(id.as_str())))
            .collect()
    }
}

/// A webhook with `body` as its JSON, signed with `secret` as Genesys signs.
pub fn signed(body: &serde_json::Value, secret: &str) -> Webhook {
    let bytes = serde_json::to_vec(body).unwrap();
    Webhook {
        headers: vec![(
            "x-hub-signature-256".into(),
            genesys_sim::sign(secret, &bytes),
        )],
        body: bytes,
    }
}

/// The simulator's webhook as the WIT type.
pub fn webhook(w: genesys_sim::Webhook) -> Webhook {
    Webhook {
        headers: w.headers,
        body: w.body,
    }
}

/// Everything the component stored for `tenant` (keys without the host's scoping prefix).
pub async fn dump(kv: &Store, tenant: &str) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    for k in genesys_om_host::keyvalue::component_keys(kv, tenant)
        .await
        .unwrap()
    {
        let full = format!("{}{k}", genesys_om_host::keyvalue::tenant_prefix(tenant));
        if let Some(v) = kv.get(&full).await.unwrap() {
            out.insert(k, v);
        }
    }
    out
}

/// The directory holding the built artefacts (`make build`).
pub fn artifact(name: &str) -> std::path::PathBuf {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target")
        .join(name);
    assert!(
        p.exists(),
        "{} is missing: run `make build` first",
        p.display()
    );
    p
}

/// Wait until `check` holds, looking every 20 ms; the test fails naming `what` if it still
/// does not after `within`. For what a test waits for instead of sleeping a guessed time.
pub async fn wait_until<F, Fut>(what: &str, within: std::time::Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + within;
    while !check().await {
        assert!(
            std::time::Instant::now() < deadline,
            "waited {within:?} for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// `serve`'s `/metrics` text.
pub async fn metrics(base: &str) -> String {
    let (_, body) = genesys_sim::request("GET", &format!("{base}/metrics"), &[], b"")
        .await
        .unwrap();
    String::from_utf8_lossy(&body).into_owned()
}

/// The value of one sample (`name{labels}`, exactly as `/metrics` writes it), 0 if absent.
pub fn sample(metrics: &str, series: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

/// The bot side of one session's long-poll: each poll acknowledges the batch before it
/// (`after=<cursor>`), as a bot does once it has handled that batch.
pub struct Poll {
    path: String,
    cursor: Option<String>,
}

impl Poll {
    /// The long-poll of `tenant`'s `session`.
    pub fn new(tenant: &str, session: &str) -> Poll {
        Poll {
            path: format!("/api/{tenant}/sessions/{session}/actions"),
            cursor: None,
        }
    }

    /// The path (after a base URL) of the next poll, waiting up to `wait_ms`.
    pub fn next(&self, wait_ms: u64) -> String {
        match &self.cursor {
            Some(c) => format!("{}?wait={wait_ms}&after={c}", self.path),
            None => format!("{}?wait={wait_ms}", self.path),
        }
    }

    /// Takes a poll's answer: its actions (without their ids), and its cursor for the next.
    pub fn took(&mut self, answer: &serde_json::Value) -> Vec<serde_json::Value> {
        if let Some(c) = answer["cursor"].as_str() {
            self.cursor = Some(c.to_string());
        }
        actions(answer)
    }
}

/// The actions of a long-poll answer, without their ids.
pub fn actions(answer: &serde_json::Value) -> Vec<serde_json::Value> {
    answer["actions"]
        .as_array()
        .map(|a| a.iter().map(|x| x["action"].clone()).collect())
        .unwrap_or_default()
}
