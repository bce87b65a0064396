//! Running the component: one engine, a pre-instantiated component per file, and a fresh
//! wasmtime store per hook call holding the tenant's config, its scoped key-value bucket and
//! the egress policy. Limits (deadline, memory) apply to every call.

use crate::bindings::types::{
    self, EndSignal, HandoverSettings, Outcome, QueueFigures, TranscriptEntry, UserEvent,
    UserProfile, Webhook,
};
use crate::bindings::{wasi, Handover, HandoverPre};
use crate::egress::Egress;
use crate::keyvalue::{WasiKeyValue, WasiKeyValueCtx};
use crate::kv::Store;
use crate::round_trips::{self, RoundTrips};
use crate::tenant::Tenant;
use crate::write_behind::{WriteBehind, WritesFirst};
use anyhow::Result;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Engine, StoreLimits, StoreLimitsBuilder, UpdateDeadline};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// What one hook call may use. A call past its deadline or memory cap traps; the host
/// keeps serving.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Wall-clock budget of one hook call (checked at epoch ticks of [`EPOCH_TICK`], where
    /// a running guest also yields to the async runtime).
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

/// Where a `queue-status` call run by the server leaves the queue's figures: the server's
/// calls answer with an [`Outcome`], and this hook's is empty.
pub type FiguresSlot = Arc<Mutex<Option<QueueFigures>>>;

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
        max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let ok = self.inner.memory_growing(current, desired, max)?;
        if ok {
            self.peak_memory = self.peak_memory.max(desired);
        }
        Ok(ok)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, max)
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
    /// Memory and instance caps.
    pub limiter: Limiter,
    /// The tenant the call runs for: its settings are what `wasi:config` reads.
    pub tenant: Tenant,
    /// `wasi:keyvalue`: the shared store, with buckets scoped to the tenant.
    pub keyvalue: WasiKeyValueCtx,
    /// Resources handed to the guest.
    pub table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    /// The egress policy, sending the call's held-back writes before each request.
    egress: WritesFirst<Egress>,
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
            hooks: &mut self.egress,
        }
    }
}

impl wasi::config::store::Host for State {
    async fn get(
        &mut self,
        key: String,
    ) -> wasmtime::Result<Result<Option<String>, wasi::config::store::Error>> {
        Ok(Ok(self.tenant.config.get(&key).cloned()))
    }

    async fn get_all(
        &mut self,
    ) -> wasmtime::Result<Result<Vec<(String, String)>, wasi::config::store::Error>> {
        let all = self.tenant.config.iter();
        Ok(Ok(all.map(|(k, v)| (k.clone(), v.clone())).collect()))
    }
}

/// Where `make build` writes the release component.
pub const DEFAULT_WASM: &str = "target/genesys-om-handover.wasm";

/// Find the release component from the workspace root or from a crate folder.
pub fn default_wasm_path() -> std::path::PathBuf {
    for p in [
        DEFAULT_WASM,
        "../target/genesys-om-handover.wasm",
        "../../target/genesys-om-handover.wasm",
    ] {
        if Path::new(p).exists() {
            return p.into();
        }
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(DEFAULT_WASM)
}

/// The held-back writes of the call running in `store`.
fn writes(store: &wasmtime::Store<State>) -> WriteBehind {
    store.data().keyvalue.writes().clone()
}

/// A loaded component, ready to run hooks for any tenant.
#[derive(Clone)]
pub struct Plugin {
    engine: Engine,
    pre: HandoverPre<State>,
    /// The store behind `wasi:keyvalue`.
    pub kv: Store,
    /// Where the component's requests may go.
    pub egress: Egress,
    /// Deadline and memory cap of each call.
    pub limits: Limits,
    /// When set, the component's stderr goes here instead of the host's.
    pub stderr: Option<wasmtime_wasi::p2::pipe::MemoryOutputPipe>,
    /// When set, the store round trips of the calls made through this handle are counted
    /// here (see [`Plugin::counting`]).
    round_trips: Option<RoundTrips>,
}

impl Plugin {
    /// Compile the component file and link the imports.
    pub fn load(engine: &Engine, path: &Path, egress: Egress, kv: Store) -> Result<Self> {
        let component = Component::from_file(engine, path).map_err(|e| {
            anyhow::Error::from(e).context(format!("loading component {}", path.display()))
        })?;
        Self::from_component(engine, &component, egress, kv)
    }

    /// Link the imports of an already compiled component.
    pub fn from_component(
        engine: &Engine,
        component: &Component,
        egress: Egress,
        kv: Store,
    ) -> Result<Self> {
        let mut linker = Linker::<State>::new(engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        crate::keyvalue::add_to_linker(&mut linker, |s: &mut State| {
            WasiKeyValue::new(&s.keyvalue, &mut s.table)
        })?;
        wasi::config::store::add_to_linker::<State, HasSelf<State>>(&mut linker, |s| s)?;
        let pre = HandoverPre::new(linker.instantiate_pre(component)?)?;
        Ok(Self {
            engine: engine.clone(),
            pre,
            kv,
            egress,
            limits: Limits::default(),
            stderr: None,
            round_trips: None,
        })
    }

    /// A handle on the same component whose calls count their store round trips on
    /// `trips`: every `wasi:keyvalue` operation, and the file store's fsync before the
    /// answer. A cheap clone; the server makes one per hook call.
    pub fn counting(&self, trips: &RoundTrips) -> Plugin {
        Plugin {
            round_trips: Some(trips.clone()),
            ..self.clone()
        }
    }

    /// A fresh store for one tenant, with the plugin's limits applied.
    pub fn store(&self, tenant: &Tenant) -> wasmtime::Store<State> {
        let mut wasi = WasiCtx::builder();
        match &self.stderr {
            Some(pipe) => wasi.stderr(pipe.clone()),
            None => wasi.inherit_stderr(),
        };
        let limits = StoreLimitsBuilder::new()
            .memory_size(self.limits.memory_bytes)
            .instances(16)
            .build();
        let keyvalue =
            WasiKeyValueCtx::new(self.kv.clone(), &tenant.name).counting(self.round_trips.clone());
        let egress = WritesFirst {
            inner: self.egress.clone(),
            writes: keyvalue.writes().clone(),
        };
        let state = State {
            limiter: Limiter {
                inner: limits,
                peak_memory: 0,
            },
            keyvalue,
            tenant: tenant.clone(),
            table: ResourceTable::new(),
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            egress,
        };
        let mut store = wasmtime::Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        // At every epoch tick a running guest yields to the async runtime, so a looping
        // call shares its worker thread with every other request; past the deadline it traps.
        let deadline = Instant::now() + self.limits.hook_timeout;
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            Ok(if Instant::now() >= deadline {
                UpdateDeadline::Interrupt
            } else {
                UpdateDeadline::YieldCustom(1, Box::pin(tokio::task::yield_now()))
            })
        });
        store
    }

    /// Instantiate into an existing store (benchmarks reuse one warm instance).
    pub async fn instantiate(&self, store: &mut wasmtime::Store<State>) -> Result<Handover> {
        Ok(self.pre.instantiate_async(store).await?)
    }

    /// A fresh instance for one call of `tenant`.
    async fn instance(&self, tenant: &Tenant) -> Result<(wasmtime::Store<State>, Handover)> {
        let mut store = self.store(tenant);
        let inst = self.pre.instantiate_async(&mut store).await?;
        Ok((store, inst))
    }

    /// The call's held-back writes are sent and the store's writes made durable before a
    /// result is returned, so an answer is only given for what survives a crash; a store
    /// that cannot is a typed `storage` error. A call that trapped has its writes sent
    /// too, as they would have been without holding them back.
    async fn durable(
        &self,
        writes: WriteBehind,
        r: wasmtime::Result<Result<Outcome, types::Error>>,
    ) -> Result<Result<Outcome, types::Error>> {
        let written = writes.flush().await;
        let r = r?;
        if let Err(e) = written {
            return Ok(Err(types::Error::Storage(e.to_string())));
        }
        // Only the file store has something to do (one fsync); memory and Redis answer at
        // once without a request.
        if self.kv.kind() == "file" {
            round_trips::one(self.round_trips.as_ref());
        }
        Ok(match self.kv.sync().await {
            Ok(()) => r,
            Err(e) => Err(types::Error::Storage(e.to_string())),
        })
    }

    /// `start`: a handover begins.
    pub async fn start(
        &self,
        tenant: &Tenant,
        user: &UserProfile,
        transcript: &[TranscriptEntry],
        settings: &HandoverSettings,
    ) -> Result<Result<Outcome, types::Error>> {
        let (mut store, inst) = self.instance(tenant).await?;
        let r = inst
            .handover_genesys_om_hooks()
            .call_start(&mut store, user, transcript, settings)
            .await;
        self.durable(writes(&store), r).await
    }

    /// `user-message`: a user turn or event; `turn_id`, the bot platform's id of the turn
    /// (e.g. its `Idempotency-Key`), makes a repeated call send the same Genesys ids.
    pub async fn user_message(
        &self,
        tenant: &Tenant,
        user_id: &str,
        event: &UserEvent,
        turn_id: Option<&str>,
    ) -> Result<Result<Outcome, types::Error>> {
        let (mut store, inst) = self.instance(tenant).await?;
        let r = inst
            .handover_genesys_om_hooks()
            .call_user_message(&mut store, user_id, event, turn_id)
            .await;
        self.durable(writes(&store), r).await
    }

    /// `agent-message`: a Genesys outbound webhook.
    pub async fn agent_message(
        &self,
        tenant: &Tenant,
        webhook: &Webhook,
    ) -> Result<Result<Outcome, types::Error>> {
        let (mut store, inst) = self.instance(tenant).await?;
        let r = inst
            .handover_genesys_om_hooks()
            .call_agent_message(&mut store, webhook)
            .await;
        self.durable(writes(&store), r).await
    }

    /// `end`: a signal that may end the handover.
    pub async fn end(
        &self,
        tenant: &Tenant,
        signal: &EndSignal,
    ) -> Result<Result<Outcome, types::Error>> {
        let (mut store, inst) = self.instance(tenant).await?;
        let r = inst
            .handover_genesys_om_hooks()
            .call_end(&mut store, signal)
            .await;
        self.durable(writes(&store), r).await
    }

    /// `flush`: re-send the handover's outbox.
    pub async fn flush(
        &self,
        tenant: &Tenant,
        user_id: &str,
    ) -> Result<Result<Outcome, types::Error>> {
        let (mut store, inst) = self.instance(tenant).await?;
        let r = inst
            .handover_genesys_om_hooks()
            .call_flush(&mut store, user_id)
            .await;
        self.durable(writes(&store), r).await
    }

    /// `report-delivery`: whether an agent message reached the user.
    pub async fn report_delivery(
        &self,
        tenant: &Tenant,
        user_id: &str,
        message_id: &str,
        delivered: bool,
        reason: Option<&str>,
    ) -> Result<Result<Outcome, types::Error>> {
        let (mut store, inst) = self.instance(tenant).await?;
        let r = inst
            .handover_genesys_om_hooks()
            .call_report_delivery(&mut store, user_id, message_id, delivered, reason)
            .await;
        self.durable(writes(&store), r).await
    }

    /// `queue-status`: the queue's estimated wait and agents (`None`: the tenant's
    /// `queue-id`). Only a cache is written: it is sent, not made durable, and a cache
    /// that could not be written does not fail the call.
    pub async fn queue_status(
        &self,
        tenant: &Tenant,
        queue_id: Option<&str>,
    ) -> Result<Result<QueueFigures, types::Error>> {
        let (mut store, inst) = self.instance(tenant).await?;
        let r = inst
            .handover_genesys_om_hooks()
            .call_queue_status(&mut store, queue_id)
            .await;
        if let Err(e) = writes(&store).flush().await {
            tracing::warn!(tenant = %tenant.name, error = %e, "queue-status: the cached figures were not stored");
        }
        Ok(r?)
    }

    /// `queue-status` as one of the server's calls: the figures go to `slot`, the answer is
    /// an empty outcome (nothing to route).
    pub async fn queue_status_into(
        &self,
        tenant: &Tenant,
        queue_id: Option<&str>,
        slot: &FiguresSlot,
    ) -> Result<Result<Outcome, types::Error>> {
        Ok(self.queue_status(tenant, queue_id).await?.map(|q| {
            *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(q);
            Outcome {
                session_id: None,
                user_id: None,
                genesys: None,
                actions: Vec::new(),
                delivery_key: None,
                warnings: Vec::new(),
            }
        }))
    }

    /// The version the component reports.
    pub async fn version(&self, tenant: &Tenant) -> Result<String> {
        let (mut store, inst) = self.instance(tenant).await?;
        Ok(inst
            .handover_genesys_om_hooks()
            .call_version(&mut store)
            .await?)
    }
}
