//! `host-test serve`: a multi-tenant reference host. Each tenant has a config file naming
//! its component; when the file or the component changes, the next call uses the new
//! version (compiled once, cached as `.cwasm` by content hash) while running calls finish
//! on the old one, other tenants are untouched and KV state carries over.

use crate::bindings::types::{EndSignal, Error as HookError, Outcome, UserEvent, Webhook};
use crate::kv::KvStore;
use crate::runtime::{Plugin, Router, Tenant};
use crate::scenario;
use anyhow::{anyhow, Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::Notify;
use wasmtime::component::Component;
use wasmtime::Engine;

/// Largest request body read.
pub const MAX_BODY: usize = 1024 * 1024;
/// Genesys gives a webhook 10 s; answer well before.
pub const WEBHOOK_DEADLINE: Duration = Duration::from_secs(8);

/// A tenant file: `<tenants-dir>/<tenant>.json`.
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct TenantFile {
    /// Component file, relative to the tenants directory or absolute.
    pub component: PathBuf,
    /// Value Genesys event deliveries must carry in `Authorization` (EventBridge API key).
    #[serde(rename = "events-api-key")]
    pub events_api_key: String,
    /// Provider settings (`wasi:config`).
    pub config: HashMap<String, String>,
}

/// How the server is set up.
#[derive(Clone)]
pub struct ServeOptions {
    pub tenants_dir: PathBuf,
    pub listen: SocketAddr,
    pub router: Router,
    /// Where precompiled components are cached.
    pub cache_dir: PathBuf,
    /// `FEATURE_ENABLE_GENESYS_CLOUD_OM`: the provider at all.
    pub enabled: bool,
    /// `FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST`: `*` or tenant names.
    pub whitelist: Vec<String>,
}

impl ServeOptions {
    /// Feature flags from the environment, as the feature source names them.
    pub fn flags_from_env(mut self) -> Self {
        if let Ok(v) = std::env::var("FEATURE_ENABLE_GENESYS_CLOUD_OM") {
            self.enabled = v.trim().eq_ignore_ascii_case("true");
        }
        if let Ok(v) = std::env::var("FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST") {
            self.whitelist = v
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
        }
        self
    }

    fn allows(&self, tenant: &str) -> bool {
        self.enabled && self.whitelist.iter().any(|w| w == "*" || w == tenant)
    }
}

/// One tenant's loaded state.
struct Loaded {
    file: TenantFile,
    plugin: Arc<Plugin>,
    tenant: Tenant,
    /// (tenant file mtime+len, component mtime+len): a change means reload.
    stamp: (Option<FileStamp>, Option<FileStamp>),
    component_hash: String,
}

#[derive(Default)]
struct Metrics {
    hooks: HashMap<(String, String), u64>,
    errors: HashMap<(String, String), u64>,
    /// Latency histogram per hook: bucket upper bounds in ms.
    latency: HashMap<String, [u64; 9]>,
    latency_sum_ms: HashMap<String, f64>,
    swaps: HashMap<String, u64>,
}

const BUCKETS_MS: [f64; 8] = [1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 1000.0];

/// Actions waiting for the bot side, per (tenant, session).
#[derive(Default)]
struct Queues {
    items: Mutex<HashMap<(String, String), VecDeque<Value>>>,
    notify: Notify,
}

/// The running server.
pub struct Server {
    opts: ServeOptions,
    engine: Engine,
    kv: KvStore,
    tenants: Mutex<HashMap<String, Arc<Loaded>>>,
    compiled: Mutex<HashMap<String, Component>>,
    queues: Queues,
    metrics: Mutex<Metrics>,
    /// Serialises reloads so one change compiles once.
    reload: tokio::sync::Mutex<()>,
}

/// Modification time and length of a file.
type FileStamp = (SystemTime, u64);

fn stamp(path: &Path) -> Option<FileStamp> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

fn log(tenant: &str, session: Option<&str>, event: &str, extra: Value) {
    let mut line = json!({
        "ts_ms": SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0),
        "tenant": tenant, "session": session, "event": event,
    });
    if let (Some(obj), Value::Object(extra)) = (line.as_object_mut(), extra) {
        obj.extend(extra);
    }
    eprintln!("{line}");
}

fn error_kind(e: &HookError) -> &'static str {
    match e {
        HookError::Config(_) => "config",
        HookError::Auth(_) => "auth",
        HookError::Api(_) => "api",
        HookError::Transport(_) => "transport",
        HookError::InvalidInput(_) => "invalid-input",
        HookError::BadSignature(_) => "bad-signature",
        HookError::UnknownConversation(_) => "unknown-conversation",
        HookError::Storage(_) => "storage",
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl Server {
    pub fn new(opts: ServeOptions, engine: Engine) -> Arc<Self> {
        Arc::new(Self {
            opts,
            engine,
            kv: KvStore::default(),
            tenants: Mutex::new(HashMap::new()),
            compiled: Mutex::new(HashMap::new()),
            queues: Queues::default(),
            metrics: Mutex::new(Metrics::default()),
            reload: tokio::sync::Mutex::new(()),
        })
    }

    /// The shared KV store (for tests and tools).
    pub fn kv(&self) -> &KvStore {
        &self.kv
    }

    fn tenant_path(&self, name: &str) -> PathBuf {
        self.opts.tenants_dir.join(format!("{name}.json"))
    }

    /// Compile (or load the cached `.cwasm` of) a component by content hash.
    fn component(&self, path: &Path) -> Result<(Component, String)> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let hash = hex(&Sha256::digest(&bytes));
        if let Some(c) = self.compiled.lock().unwrap().get(&hash) {
            return Ok((c.clone(), hash));
        }
        let cached = self.opts.cache_dir.join(format!("{hash}.cwasm"));
        let component = match std::fs::read(&cached) {
            // Safety: files in our cache directory were written by `serialize` of this build.
            Ok(c) => unsafe { Component::deserialize(&self.engine, &c) }
                .or_else(|_| Component::new(&self.engine, &bytes)),
            Err(_) => {
                let c = Component::new(&self.engine, &bytes)?;
                std::fs::create_dir_all(&self.opts.cache_dir).ok();
                if let Ok(ser) = c.serialize() {
                    let tmp = cached.with_extension("tmp");
                    if std::fs::write(&tmp, ser).is_ok() {
                        let _ = std::fs::rename(&tmp, &cached);
                    }
                }
                Ok(c)
            }
        }
        .map_err(|e| anyhow!("compiling {}: {e}", path.display()))?;
        self.compiled
            .lock()
            .unwrap()
            .insert(hash.clone(), component.clone());
        Ok((component, hash))
    }

    /// The tenant's current runtime, reloaded when its file or component changed.
    async fn tenant(&self, name: &str) -> Result<Arc<Loaded>> {
        if !valid_name(name) {
            return Err(anyhow!("bad tenant name"));
        }
        let file_path = self.tenant_path(name);
        let current = self.tenants.lock().unwrap().get(name).cloned();
        if let Some(l) = &current {
            let comp_path = self.opts.tenants_dir.join(&l.file.component);
            if (stamp(&file_path), stamp(&comp_path)) == l.stamp {
                return Ok(l.clone());
            }
        }
        let _guard = self.reload.lock().await;
        // Someone else may have reloaded while we waited.
        if let Some(l) = self.tenants.lock().unwrap().get(name).cloned() {
            let comp_path = self.opts.tenants_dir.join(&l.file.component);
            if (stamp(&file_path), stamp(&comp_path)) == l.stamp
                && current.as_ref().is_none_or(|c| !Arc::ptr_eq(c, &l))
            {
                return Ok(l);
            }
        }
        let text =
            std::fs::read_to_string(&file_path).map_err(|_| anyhow!("unknown tenant {name}"))?;
        let file: TenantFile =
            serde_json::from_str(&text).with_context(|| format!("tenant file of {name}"))?;
        let comp_path = self.opts.tenants_dir.join(&file.component);
        let stamp_now = (stamp(&file_path), stamp(&comp_path));
        let (component, hash) = self.component(&comp_path)?;
        let plugin = Arc::new(Plugin::from_component(
            &self.engine,
            &component,
            self.opts.router.clone(),
            self.kv.clone(),
        )?);
        let loaded = Arc::new(Loaded {
            tenant: Tenant::new(name, file.config.clone()),
            file,
            plugin,
            stamp: stamp_now,
            component_hash: hash.clone(),
        });
        if let Some(old) = &current {
            if old.component_hash != hash || old.file.config != loaded.file.config {
                *self
                    .metrics
                    .lock()
                    .unwrap()
                    .swaps
                    .entry(name.to_string())
                    .or_default() += 1;
                log(
                    name,
                    None,
                    "swap",
                    json!({"from": &old.component_hash[..12], "to": &hash[..12]}),
                );
            }
        } else {
            log(name, None, "load", json!({"component": &hash[..12]}));
        }
        self.tenants
            .lock()
            .unwrap()
            .insert(name.to_string(), loaded.clone());
        Ok(loaded)
    }

    fn record(
        &self,
        tenant: &str,
        hook: &str,
        started: Instant,
        result: &Result<Outcome, HookError>,
    ) {
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let mut m = self.metrics.lock().unwrap();
        *m.hooks
            .entry((tenant.to_string(), hook.to_string()))
            .or_default() += 1;
        if let Err(e) = result {
            *m.errors
                .entry((tenant.to_string(), error_kind(e).to_string()))
                .or_default() += 1;
        }
        let buckets = m.latency.entry(hook.to_string()).or_default();
        for (i, b) in BUCKETS_MS.iter().enumerate() {
            if ms <= *b {
                buckets[i] += 1;
            }
        }
        buckets[8] += 1;
        *m.latency_sum_ms.entry(hook.to_string()).or_default() += ms;
        drop(m);
        let session = result.as_ref().ok().and_then(|o| o.session_id.clone());
        let extra = match result {
            Ok(o) => {
                json!({"hook": hook, "ms": ms, "actions": o.actions.len(), "warnings": o.warnings})
            }
            Err(e) => json!({"hook": hook, "ms": ms, "error": error_kind(e)}),
        };
        log(tenant, session.as_deref(), "hook", extra);
    }

    /// Put a result's actions on its session's queue.
    fn deliver(&self, tenant: &str, outcome: &Outcome) {
        let Some(session) = &outcome.session_id else {
            return;
        };
        if outcome.actions.is_empty() {
            return;
        }
        let mut q = self.queues.items.lock().unwrap();
        let queue = q.entry((tenant.to_string(), session.clone())).or_default();
        for a in &outcome.actions {
            queue.push_back(serde_json::to_value(a).unwrap_or(Value::Null));
        }
        drop(q);
        self.queues.notify.notify_waiters();
    }

    /// Wait up to `wait` for actions of a session; returns and removes them.
    async fn take(&self, tenant: &str, session: &str, wait: Duration) -> Vec<Value> {
        let deadline = Instant::now() + wait;
        loop {
            let notified = self.queues.notify.notified();
            {
                let mut q = self.queues.items.lock().unwrap();
                if let Some(items) = q.get_mut(&(tenant.to_string(), session.to_string())) {
                    if !items.is_empty() {
                        return items.drain(..).collect();
                    }
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || tokio::time::timeout(left, notified).await.is_err() {
                return Vec::new();
            }
        }
    }

    fn metrics_text(&self) -> String {
        let m = self.metrics.lock().unwrap();
        let mut out = String::new();
        out.push_str("# HELP handover_hook_calls_total Hook calls by tenant and hook.\n# TYPE handover_hook_calls_total counter\n");
        let mut hooks: Vec<_> = m.hooks.iter().collect();
        hooks.sort();
        for ((t, h), n) in hooks {
            out.push_str(&format!(
                "handover_hook_calls_total{{tenant=\"{t}\",hook=\"{h}\"}} {n}\n"
            ));
        }
        out.push_str("# HELP handover_hook_errors_total Hook errors by tenant and kind.\n# TYPE handover_hook_errors_total counter\n");
        let mut errors: Vec<_> = m.errors.iter().collect();
        errors.sort();
        for ((t, k), n) in errors {
            out.push_str(&format!(
                "handover_hook_errors_total{{tenant=\"{t}\",kind=\"{k}\"}} {n}\n"
            ));
        }
        out.push_str("# HELP handover_hook_duration_ms Hook latency.\n# TYPE handover_hook_duration_ms histogram\n");
        let mut lat: Vec<_> = m.latency.iter().collect();
        lat.sort_by(|a, b| a.0.cmp(b.0));
        for (h, b) in lat {
            for (i, le) in BUCKETS_MS.iter().enumerate() {
                out.push_str(&format!(
                    "handover_hook_duration_ms_bucket{{hook=\"{h}\",le=\"{le}\"}} {}\n",
                    b[i]
                ));
            }
            out.push_str(&format!(
                "handover_hook_duration_ms_bucket{{hook=\"{h}\",le=\"+Inf\"}} {}\n",
                b[8]
            ));
            out.push_str(&format!(
                "handover_hook_duration_ms_sum{{hook=\"{h}\"}} {}\n",
                m.latency_sum_ms.get(h).copied().unwrap_or(0.0)
            ));
            out.push_str(&format!(
                "handover_hook_duration_ms_count{{hook=\"{h}\"}} {}\n",
                b[8]
            ));
        }
        out.push_str("# HELP handover_component_swaps_total Component or config swaps by tenant.\n# TYPE handover_component_swaps_total counter\n");
        let mut swaps: Vec<_> = m.swaps.iter().collect();
        swaps.sort();
        for (t, n) in swaps {
            out.push_str(&format!(
                "handover_component_swaps_total{{tenant=\"{t}\"}} {n}\n"
            ));
        }
        out
    }

    /// The tenant whose cached integration id is `integration_id`.
    fn tenant_for_integration(&self, integration_id: &str) -> Option<String> {
        let tenants = self.tenants.lock().unwrap();
        tenants.values().find_map(|l| {
            let name = l.file.config.get("deployment-name")?;
            let id = self
                .kv
                .dump(&l.tenant.name, "genesys-om")
                .get(&format!("integration/{name}"))
                .cloned()?;
            (id == integration_id.as_bytes()).then(|| l.tenant.name.clone())
        })
    }

    async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Response<Full<Bytes>> {
        match self.clone().route(req).await {
            Ok(r) => r,
            Err(e) => reply(StatusCode::BAD_REQUEST, json!({"error": e.to_string()})),
        }
    }

    async fn route(self: Arc<Self>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>> {
        let method = req.method().clone();
        let path = req.uri().path().to_string();
        let query = req.uri().query().unwrap_or("").to_string();
        let headers = crate::webhook::header_pairs(req.headers());
        let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
            Ok(b) => b.to_bytes().to_vec(),
            Err(_) => {
                return Ok(reply(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    json!({"error": "body too large"}),
                ))
            }
        };
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        match (&method, parts.as_slice()) {
            (&Method::GET, ["metrics"]) => Ok(Response::builder()
                .header("content-type", "text/plain; version=0.0.4")
                .body(Full::new(Bytes::from(self.metrics_text())))?),
            (&Method::GET, ["healthz"]) => Ok(reply(StatusCode::OK, json!({"ok": true}))),
            (&Method::POST, ["handover", "genesysCloudOM"]) => {
                let integration = serde_json::from_slice::<Value>(&body).ok().and_then(|v| {
                    v.pointer("/channel/id")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                });
                match integration.and_then(|i| self.tenant_for_integration(&i)) {
                    Some(t) => self.webhook(&t, headers, body).await,
                    None => Ok(reply(
                        StatusCode::NOT_FOUND,
                        json!({"error": "no tenant for this integration"}),
                    )),
                }
            }
            (&Method::POST, ["handover", "genesysCloudOM", tenant]) => {
                self.webhook(tenant, headers, body).await
            }
            (&Method::POST, ["handover", "genesysCloudOM", tenant, "events"]) => {
                let loaded = self.tenant_checked(tenant).await?;
                let key = headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
                    .map(|(_, v)| v.as_str());
                if !constant_time_eq(
                    key.unwrap_or("").as_bytes(),
                    loaded.file.events_api_key.as_bytes(),
                ) || loaded.file.events_api_key.is_empty()
                {
                    return Ok(reply(
                        StatusCode::UNAUTHORIZED,
                        json!({"error": "bad api key"}),
                    ));
                }
                let r = self
                    .call(&loaded, "end", |p, t| {
                        Box::pin(async move { p.end(&t, &EndSignal::GenesysEvent(body)).await })
                    })
                    .await?;
                Ok(self.answer(tenant, r))
            }
            (&Method::GET, ["api", tenant, "version"]) => {
                let loaded = self.tenant_checked(tenant).await?;
                let v = loaded.plugin.version(&loaded.tenant).await?;
                Ok(reply(StatusCode::OK, json!({"version": v})))
            }
            (&Method::POST, ["api", tenant, "start"]) => {
                #[derive(Deserialize)]
                struct Start {
                    user: scenario::User,
                    #[serde(default)]
                    transcript: Vec<scenario::Line>,
                    #[serde(default)]
                    settings: scenario::Settings,
                }
                let s: Start = serde_json::from_slice(&body)?;
                let loaded = self.tenant_checked(tenant).await?;
                let (user, lines, settings) = (
                    scenario::profile(&s.user),
                    scenario::transcript(&s.transcript)?,
                    scenario::settings(&s.settings),
                );
                let r = self
                    .call(&loaded, "start", |p, t| {
                        Box::pin(async move { p.start(&t, &user, &lines, &settings).await })
                    })
                    .await?;
                Ok(self.answer(tenant, r))
            }
            (&Method::POST, ["api", tenant, "message"]) => {
                #[derive(Deserialize)]
                struct Msg {
                    user_id: String,
                    #[serde(flatten)]
                    event: scenario::Event,
                }
                let m: Msg = serde_json::from_slice(&body)?;
                let loaded = self.tenant_checked(tenant).await?;
                let event: UserEvent = scenario::event(&m.event);
                let r = self
                    .call(&loaded, "user-message", |p, t| {
                        Box::pin(async move { p.user_message(&t, &m.user_id, &event).await })
                    })
                    .await?;
                Ok(self.answer(tenant, r))
            }
            (&Method::POST, ["api", tenant, "end"]) => {
                #[derive(Deserialize)]
                struct End {
                    user_id: String,
                    /// `user_left` (default) or `bot_closed`.
                    #[serde(default)]
                    reason: Option<String>,
                }
                let e: End = serde_json::from_slice(&body)?;
                let signal = match e.reason.as_deref() {
                    Some("bot_closed") => EndSignal::BotClosed(e.user_id),
                    _ => EndSignal::UserLeft(e.user_id),
                };
                let loaded = self.tenant_checked(tenant).await?;
                let r = self
                    .call(&loaded, "end", |p, t| {
                        Box::pin(async move { p.end(&t, &signal).await })
                    })
                    .await?;
                Ok(self.answer(tenant, r))
            }
            (&Method::GET, ["api", tenant, "sessions", session, "actions"]) => {
                self.tenant_checked(tenant).await?;
                let wait_ms = query
                    .split('&')
                    .find_map(|p| p.strip_prefix("wait="))
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0)
                    .min(30_000);
                let actions = self
                    .take(tenant, session, Duration::from_millis(wait_ms))
                    .await;
                Ok(reply(StatusCode::OK, json!({"actions": actions})))
            }
            _ => Ok(reply(StatusCode::NOT_FOUND, json!({"error": "not found"}))),
        }
    }

    async fn tenant_checked(&self, name: &str) -> Result<Arc<Loaded>> {
        if !self.opts.allows(name) {
            return Err(anyhow!(
                "Genesys Cloud Open Messaging is not enabled for tenant {name}"
            ));
        }
        self.tenant(name).await
    }

    /// Run one hook on the tenant's current plugin (an `Arc`: a swap does not stop it).
    async fn call<F>(
        &self,
        loaded: &Arc<Loaded>,
        hook: &str,
        f: F,
    ) -> Result<Result<Outcome, HookError>>
    where
        F: FnOnce(
            Arc<Plugin>,
            Tenant,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<Result<Outcome, HookError>>> + Send>,
        >,
    {
        let started = Instant::now();
        let r = f(loaded.plugin.clone(), loaded.tenant.clone()).await;
        match &r {
            Ok(result) => {
                self.record(&loaded.tenant.name, hook, started, result);
                if let Ok(o) = result {
                    self.deliver(&loaded.tenant.name, o);
                }
            }
            Err(trap) => log(
                &loaded.tenant.name,
                None,
                "trap",
                json!({"hook": hook, "error": trap.to_string()}),
            ),
        }
        r
    }

    fn answer(&self, _tenant: &str, r: Result<Outcome, HookError>) -> Response<Full<Bytes>> {
        match r {
            Ok(o) => reply(StatusCode::OK, json!({"ok": o})),
            Err(e) => {
                let status = match &e {
                    HookError::InvalidInput(_) => StatusCode::BAD_REQUEST,
                    HookError::UnknownConversation(_) => StatusCode::NOT_FOUND,
                    HookError::Config(_) | HookError::Auth(_) => StatusCode::FAILED_DEPENDENCY,
                    _ => StatusCode::BAD_GATEWAY,
                };
                reply(status, json!({"error": e}))
            }
        }
    }

    async fn webhook(
        &self,
        tenant: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Result<Response<Full<Bytes>>> {
        let loaded = match self.tenant_checked(tenant).await {
            Ok(l) => l,
            Err(_) => {
                return Ok(reply(
                    StatusCode::NOT_FOUND,
                    json!({"error": "unknown tenant"}),
                ))
            }
        };
        let w = Webhook { headers, body };
        let call = self.call(&loaded, "agent-message", |p, t| {
            Box::pin(async move { p.agent_message(&t, &w).await })
        });
        let status = match tokio::time::timeout(WEBHOOK_DEADLINE, call).await {
            // Not done in time: let Genesys retry (the message id makes the retry safe).
            Err(_) => StatusCode::SERVICE_UNAVAILABLE,
            Ok(Err(_trap)) => StatusCode::INTERNAL_SERVER_ERROR,
            Ok(Ok(result)) => crate::webhook::status_for(&result),
        };
        Ok(reply(status, json!({})))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn reply(status: StatusCode, v: Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(v.to_string())))
        .expect("static response parts")
}

/// Start serving; returns the bound address.
pub async fn start(server: Arc<Server>) -> Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(server.opts.listen).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let server = server.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| {
                    let server = server.clone();
                    async move { Ok::<_, std::convert::Infallible>(server.handle(req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok(addr)
}
