//! Running the component: one engine and pre-instantiated component per file, a fresh
//! store per hook call (tenant config, tenant-scoped KV, HTTP routed only to Genesys).

use crate::bindings::types::{
    self, EndSignal, HandoverSettings, Outcome, TranscriptEntry, UserEvent, UserProfile, Webhook,
};
use crate::bindings::{wasi, HandoverPre};
use crate::kv::KvStore;
use anyhow::{Context, Result};
use std::collections::HashMap;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

/// Genesys Cloud region base domains: the same allowlist the component checks.
pub use genesys_om_handover::region::REGIONS;

/// Whether `host` is `login.<region>` or `api.<region>` of a known region.
pub fn is_genesys_host(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    ["login.", "api."]
        .iter()
        .any(|p| host.strip_prefix(p).is_some_and(|d| REGIONS.contains(&d)))
}

/// One tenant: its name (scopes KV) and its provider settings (`wasi:config`).
#[derive(Clone, Debug)]
pub struct Tenant {
    pub name: String,
    pub config: HashMap<String, String>,
}

impl Tenant {
    pub fn new(name: &str, config: HashMap<String, String>) -> Self {
        Self {
            name: name.to_string(),
            config,
        }
    }

    /// Load a tenant config file: a flat JSON object of setting name → string value.
    pub fn from_file(name: &str, path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let v: HashMap<String, serde_json::Value> = serde_json::from_str(&text)
            .with_context(|| format!("{} must be a JSON object", path.display()))?;
        let config = v
            .into_iter()
            .map(|(k, v)| {
                let s = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, s)
            })
            .collect();
        Ok(Self::new(name, config))
    }
}

/// Sends Genesys hosts to the simulator (or refuses), and refuses every other destination.
#[derive(Clone)]
pub struct Router {
    /// `http://127.0.0.1:PORT`: where `login.<region>` and `api.<region>` go.
    pub genesys_base: Option<http::Uri>,
    /// Answer Genesys hosts in process with [`FakeGenesys`] (benchmarks: no network at all).
    pub in_process: bool,
}

impl Router {
    /// Genesys hosts go to `base`; everything else is refused.
    pub fn to(base: http::Uri) -> Self {
        Self {
            genesys_base: Some(base),
            in_process: false,
        }
    }

    /// Every request is refused.
    pub fn none() -> Self {
        Self {
            genesys_base: None,
            in_process: false,
        }
    }

    /// Genesys hosts are answered in process; everything else is refused.
    pub fn in_process() -> Self {
        Self {
            genesys_base: None,
            in_process: true,
        }
    }
}

type IoFuture = Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>;

/// Answer a request with the domain crate's in-process fake Genesys.
async fn answer_in_process(
    request: http::Request<wasmtime_wasi_http::WasiBody>,
) -> Result<(http::Response<wasmtime_wasi_http::WasiBody>, IoFuture), wasmtime_wasi_http::Error> {
    use genesys_om_handover::ports::Http as _;
    use http_body_util::BodyExt;
    let (parts, body) = request.into_parts();
    let body = body.collect().await?.to_bytes().to_vec();
    let method = match parts.method.as_str() {
        "GET" => "GET",
        "PATCH" => "PATCH",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        _ => "POST",
    };
    let req = genesys_om_handover::HttpRequest {
        method,
        url: parts.uri.to_string(),
        headers: Vec::new(),
        body,
        timeout_ms: 0,
    };
    let resp = genesys_om_handover::testing::FakeGenesys::default()
        .send(&req)
        .map_err(|_| wasmtime_wasi_http::Error::ConnectionRefused)?;
    let body = http_body_util::Full::new(bytes::Bytes::from(resp.body))
        .map_err(|never| match never {})
        .boxed_unsync();
    let response = http::Response::builder()
        .status(resp.status)
        .body(body)
        .map_err(|_| wasmtime_wasi_http::Error::HttpResponseIncomplete)?;
    Ok((response, Box::new(async { Ok(()) }) as IoFuture))
}

impl WasiHttpHooks for Router {
    fn send_request(
        &mut self,
        mut request: http::Request<wasmtime_wasi_http::WasiBody>,
        options: Option<wasmtime_wasi_http::RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        http::Response<wasmtime_wasi_http::WasiBody>,
                        Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
                    ),
                    wasmtime_wasi_http::Error,
                >,
            > + Send,
    > {
        let host = request.uri().host().unwrap_or("").to_string();
        let target = self.genesys_base.clone();
        if self.in_process && is_genesys_host(&host) {
            return Box::new(answer_in_process(request));
        }
        Box::new(async move {
            let Some(base) = target.filter(|_| is_genesys_host(&host)) else {
                eprintln!("host: refused outgoing request to {host:?} (not a Genesys Cloud host, or no --genesys-base-url)");
                return Err(wasmtime_wasi_http::Error::HttpRequestDenied);
            };
            let pq = request
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or("/".into());
            let uri = http::Uri::builder()
                .scheme(base.scheme_str().unwrap_or("http"))
                .authority(base.authority().map(|a| a.as_str()).unwrap_or("127.0.0.1"))
                .path_and_query(pq)
                .build()
                .map_err(|_| wasmtime_wasi_http::Error::HttpRequestUriInvalid)?;
            *request.uri_mut() = uri;
            let _ = fut;
            use http_body_util::BodyExt;
            let (res, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                res.map(BodyExt::boxed_unsync),
                Box::new(io)
                    as Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
            ))
        })
    }
}

/// What one hook call may use. A call past its deadline or memory cap traps; the host
/// keeps serving.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Wall-clock budget of one hook call (checked at epoch ticks of [`EPOCH_TICK`]).
    pub hook_timeout: Duration,
    /// Linear memory one instance may grow to.
    pub memory_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            hook_timeout: Duration::from_secs(30),
            memory_bytes: 64 << 20,
        }
    }
}

/// How often the engine's epoch advances.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The store's resource limiter: the configured caps, plus the peak memory asked for.
pub struct Limiter {
    inner: StoreLimits,
    /// Largest linear memory size (bytes) any memory of the instance grew to.
    pub peak_memory: usize,
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let ok = self.inner.memory_growing(current, desired, maximum)?;
        if ok {
            self.peak_memory = self.peak_memory.max(desired);
        }
        Ok(ok)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

/// Everything one instance can reach.
pub struct State {
    pub limiter: Limiter,
    pub tenant: String,
    pub config: HashMap<String, String>,
    pub kv: KvStore,
    pub table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    router: Router,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for State {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.router,
        }
    }
}

impl wasi::config::store::Host for State {
    fn get(
        &mut self,
        key: String,
    ) -> wasmtime::Result<Result<Option<String>, wasi::config::store::Error>> {
        Ok(Ok(self.config.get(&key).cloned()))
    }

    fn get_all(
        &mut self,
    ) -> wasmtime::Result<Result<Vec<(String, String)>, wasi::config::store::Error>> {
        Ok(Ok(self
            .config
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()))
    }
}

/// The engine settings every host in this crate uses: epoch interruption on, with a
/// background thread advancing the epoch every [`EPOCH_TICK`].
pub fn engine() -> Result<Engine> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    let engine = Engine::new(&config)?;
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })?;
    Ok(engine)
}

/// A loaded component, ready to run hooks for any tenant.
#[derive(Clone)]
pub struct Plugin {
    pub engine: Engine,
    pre: HandoverPre<State>,
    pub kv: KvStore,
    pub router: Router,
    pub limits: Limits,
    /// When set, the component's stderr goes here instead of the host's.
    pub stderr: Option<wasmtime_wasi::p2::pipe::MemoryOutputPipe>,
}

/// Where `make build` writes the release component.
pub const DEFAULT_WASM: &str = "target/genesys-om-handover.wasm";

/// Find the release component from the workspace root or from `host-test/`.
pub fn default_wasm_path() -> std::path::PathBuf {
    for p in [DEFAULT_WASM, "../target/genesys-om-handover.wasm"] {
        if Path::new(p).exists() {
            return p.into();
        }
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(DEFAULT_WASM)
}

impl Plugin {
    /// Compile the component file and link the imports.
    pub fn load(engine: &Engine, path: &Path, router: Router, kv: KvStore) -> Result<Self> {
        let component = Component::from_file(engine, path).map_err(|e| {
            anyhow::Error::from(e).context(format!("loading component {}", path.display()))
        })?;
        Self::from_component(engine, &component, router, kv)
    }

    pub fn from_component(
        engine: &Engine,
        component: &Component,
        router: Router,
        kv: KvStore,
    ) -> Result<Self> {
        let mut linker = Linker::<State>::new(engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        wasi::keyvalue::store::add_to_linker::<State, HasSelf<State>>(&mut linker, |s| s)?;
        wasi::keyvalue::atomics::add_to_linker::<State, HasSelf<State>>(&mut linker, |s| s)?;
        wasi::config::store::add_to_linker::<State, HasSelf<State>>(&mut linker, |s| s)?;
        let pre = HandoverPre::new(linker.instantiate_pre(component)?)?;
        Ok(Self {
            engine: engine.clone(),
            pre,
            kv,
            router,
            limits: Limits::default(),
            stderr: None,
        })
    }

    /// A fresh store for one tenant, with the plugin's limits applied.
    pub fn store(&self, tenant: &Tenant) -> Store<State> {
        let mut wasi = WasiCtx::builder();
        match &self.stderr {
            Some(pipe) => wasi.stderr(pipe.clone()),
            None => wasi.inherit_stderr(),
        };
        let state = State {
            limiter: Limiter {
                inner: StoreLimitsBuilder::new()
                    .memory_size(self.limits.memory_bytes)
                    .instances(16)
                    .build(),
                peak_memory: 0,
            },
            tenant: tenant.name.clone(),
            config: tenant.config.clone(),
            kv: self.kv.clone(),
            table: ResourceTable::new(),
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            router: self.router.clone(),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        let ticks = (self.limits.hook_timeout.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64;
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();
        store
    }

    /// Instantiate into an existing store (benchmarks reuse one warm instance).
    pub async fn instantiate(&self, store: &mut Store<State>) -> Result<crate::bindings::Handover> {
        Ok(self.pre.instantiate_async(store).await?)
    }

    async fn instance(&self, tenant: &Tenant) -> Result<(Store<State>, crate::bindings::Handover)> {
        let mut store = self.store(tenant);
        let inst = self.pre.instantiate_async(&mut store).await?;
        Ok((store, inst))
    }

    pub async fn start(
        &self,
        tenant: &Tenant,
        user: &UserProfile,
        transcript: &[TranscriptEntry],
        settings: &HandoverSettings,
    ) -> Result<Result<Outcome, types::Error>> {
        let (mut store, inst) = self.instance(tenant).await?;
        Ok(inst
            .handover_genesys_om_hooks()
            .call_start(&mut store, user, transcript, settings)
            .await?)
    }

    pub async fn user_message(
        &self,
        tenant: &Tenant,
        user_id: &str,
        event: &UserEvent,
    ) -> Result<Result<Outcome, types::Error>> {
        let (mut store, inst) = self.instance(tenant).await?;
        Ok(inst
            .handover_genesys_om_hooks()
            .call_user_message(&mut store, user_id, event)
            .await?)
    }

    pub async fn agent_message(
        &self,
        tenant: &Tenant,
        webhook: &Webhook,
    ) -> Result<Result<Outcome, types::Error>> {
        let (mut store, inst) = self.instance(tenant).await?;
        Ok(inst
            .handover_genesys_om_hooks()
            .call_agent_message(&mut store, webhook)
            .await?)
    }

    pub async fn end(
        &self,
        tenant: &Tenant,
        signal: &EndSignal,
    ) -> Result<Result<Outcome, types::Error>> {
        let (mut store, inst) = self.instance(tenant).await?;
        Ok(inst
            .handover_genesys_om_hooks()
            .call_end(&mut store, signal)
            .await?)
    }

    /// The version the component reports.
    pub async fn version(&self, tenant: &Tenant) -> Result<String> {
        let (mut store, inst) = self.instance(tenant).await?;
        Ok(inst
            .handover_genesys_om_hooks()
            .call_version(&mut store)
            .await?)
    }

    pub async fn flush(
        &self,
        tenant: &Tenant,
        user_id: &str,
    ) -> Result<Result<Outcome, types::Error>> {
        let (mut store, inst) = self.instance(tenant).await?;
        Ok(inst
            .handover_genesys_om_hooks()
            .call_flush(&mut store, user_id)
            .await?)
    }

    pub async fn report_delivery(
        &self,
        tenant: &Tenant,
        user_id: &str,
        message_id: &str,
        delivered: bool,
        reason: Option<&str>,
    ) -> Result<Result<Outcome, types::Error>> {
        let (mut store, inst) = self.instance(tenant).await?;
        Ok(inst
            .handover_genesys_om_hooks()
            .call_report_delivery(&mut store, user_id, message_id, delivered, reason)
            .await?)
    }
}

/// Shared handle used by servers.
pub type SharedPlugin = Arc<Plugin>;
