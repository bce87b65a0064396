//! `serve`: the multi-tenant reference host. It owns what every request shares (tenants,
//! store, host records, the bot side's queues, metrics) and runs one hook call at a time
//! through [`Server::run`], which measures, logs and routes its outcome.

use crate::bindings::types::{
    EndSignal, Error as HookError, HandoverSettings, Outcome, TranscriptEntry, UserEvent,
    UserProfile, Warning, Webhook,
};
use crate::bus::Bus;
use crate::egress::Egress;
use crate::kv::Store;
use crate::metrics::{error_kind, Metrics};
use crate::records::Records;
use crate::runtime::Plugin;
use crate::tenant::Tenant;
use crate::tenants::{Loaded, Tenants};
use anyhow::{anyhow, Result};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How the server is set up.
#[derive(Clone)]
pub struct ServeOptions {
    /// Where the tenant files are.
    pub tenants_dir: PathBuf,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Where the component's requests may go.
    pub egress: Egress,
    /// The store shared by every replica.
    pub kv: Store,
    /// Where precompiled components are cached.
    pub cache_dir: PathBuf,
    /// The feature source's flags: which tenants get the provider, host-wide defaults of
    /// the message flags, the EventBridge organization check.
    pub flags: crate::flags::Flags,
    /// How often outboxes with something waiting are flushed (zero: never).
    pub flush_every: Duration,
    /// How often open handovers get an inactivity check (zero: never).
    pub inactivity_every: Duration,
    /// Connection limits: header and body timeouts, open connections.
    pub conn: crate::http::ConnLimits,
    /// Deadline and memory cap of every hook call.
    pub limits: crate::runtime::Limits,
    /// Threads of the pool hook calls run on (apart from the HTTP workers).
    pub guest_threads: usize,
}

impl ServeOptions {
    /// Options with the defaults of `serve` for the given tenants directory and store.
    pub fn new(tenants_dir: PathBuf, kv: Store, egress: Egress) -> Self {
        Self {
            tenants_dir,
            listen: ([127, 0, 0, 1], 8080).into(),
            egress,
            kv,
            cache_dir: PathBuf::from("target/serve-cache"),
            flags: crate::flags::Flags::all_enabled(),
            flush_every: Duration::from_secs(5),
            inactivity_every: Duration::from_secs(60),
            conn: crate::http::ConnLimits::default(),
            limits: crate::runtime::Limits::default(),
            guest_threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }

    /// Feature flags from the environment, as the feature source names and means them
    /// (the provider off unless `FEATURE_ENABLE_GENESYS_CLOUD_OM=true`).
    pub fn flags_from_env(mut self) -> Self {
        self.flags = crate::flags::Flags::from_env();
        self
    }

    /// Whether the provider is enabled for `tenant`.
    pub fn allows(&self, tenant: &str) -> bool {
        self.flags.allows(tenant)
    }
}

/// One hook call, with its arguments.
pub enum Call {
    /// `start`.
    Start(UserProfile, Vec<TranscriptEntry>, HandoverSettings),
    /// `user-message`.
    UserMessage(String, UserEvent),
    /// `agent-message`.
    AgentMessage(Webhook),
    /// `end`.
    End(EndSignal),
    /// `flush`.
    Flush(String),
    /// `queue-status` (`None`: the tenant's `queue-id`); the figures go to the slot.
    QueueStatus(Option<String>, crate::runtime::FiguresSlot),
}

impl Call {
    /// The hook's name in the contract.
    pub fn hook(&self) -> &'static str {
        match self {
            Call::Start(..) => "start",
            Call::UserMessage(..) => "user-message",
            Call::AgentMessage(_) => "agent-message",
            Call::End(_) => "end",
            Call::Flush(_) => "flush",
            Call::QueueStatus(..) => "queue-status",
        }
    }

    async fn on(&self, p: &Plugin, t: &Tenant) -> Result<Result<Outcome, HookError>> {
        match self {
            Call::Start(u, lines, s) => p.start(t, u, lines, s).await,
            Call::UserMessage(u, e) => p.user_message(t, u, e).await,
            Call::AgentMessage(w) => p.agent_message(t, w).await,
            Call::End(s) => p.end(t, s).await,
            Call::Flush(u) => p.flush(t, u).await,
            Call::QueueStatus(q, slot) => p.queue_status_into(t, q.as_deref(), slot).await,
        }
    }
}

/// A tokio runtime of its own for hook calls, so a guest that computes (between its
/// yields at every epoch tick) never holds a thread that serves HTTP. Its thread owns the
/// runtime and shuts it down when the pool is dropped.
struct GuestPool {
    handle: tokio::runtime::Handle,
    _stop: std::sync::mpsc::Sender<()>,
}

impl GuestPool {
    fn new(threads: usize) -> Self {
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("guest-pool".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(threads.max(1))
                    .thread_name("guest")
                    .enable_all()
                    .build()
                    .expect("the guest runtime starts");
                let _ = handle_tx.send(rt.handle().clone());
                let _ = stopped.recv();
                rt.shutdown_background();
            })
            .expect("the guest pool thread starts");
        let handle = handle_rx.recv().expect("the guest runtime's handle");
        Self {
            handle,
            _stop: stop,
        }
    }

    fn spawn<F>(&self, f: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(f)
    }
}

/// A call refused because its tenant had `max-concurrent-calls` running (HTTP 503 with
/// `Retry-After`).
#[derive(Debug)]
pub struct Busy;

impl std::fmt::Display for Busy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the tenant has its maximum of calls running")
    }
}

impl std::error::Error for Busy {}

/// The running server.
pub struct Server {
    /// Its options.
    pub opts: ServeOptions,
    /// The tenants it hosts.
    pub tenants: Arc<Tenants>,
    /// The store shared by every replica.
    pub kv: Store,
    /// The host's records (integration → tenant, open handovers, pending outboxes).
    pub records: Records,
    /// The bot side's action queues.
    pub bus: Bus,
    /// `/metrics`.
    pub metrics: Arc<Metrics>,
    /// This replica's id (leases of timed work).
    pub replica: String,
    /// Where hook calls run.
    guests: GuestPool,
    /// Genesys organization ids of tenants, once looked up.
    organizations: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

impl Server {
    /// A server over `engine` with the given options.
    pub fn new(opts: ServeOptions, engine: wasmtime::Engine) -> Arc<Self> {
        let kv = opts.kv.clone();
        let tenants = Arc::new(Tenants::new(
            opts.tenants_dir.clone(),
            opts.cache_dir.clone(),
            engine,
            opts.egress.clone(),
            kv.clone(),
            opts.limits,
            opts.flags.defaults.clone(),
        ));
        let replica = format!("{}-{:08x}", std::process::id(), random_u32());
        Arc::new(Self {
            records: Records::new(kv.clone()),
            bus: Bus::new(kv.clone()),
            metrics: Arc::new(Metrics::default()),
            tenants,
            kv,
            guests: GuestPool::new(opts.guest_threads),
            organizations: Default::default(),
            opts,
            replica,
        })
    }

    /// The tenant's current runtime, if the provider is enabled for it and it exists.
    pub async fn tenant(&self, name: &str) -> Result<Arc<Loaded>> {
        if !self.opts.allows(name) {
            return Err(anyhow!(
                "Genesys Cloud Open Messaging is not enabled for tenant {name}"
            ));
        }
        self.tenants.get(name, &self.metrics).await
    }

    /// Run one hook on the tenant's current plugin (an `Arc`: a swap does not stop it),
    /// then record it and route its outcome: host records, the session's queue. A tenant
    /// with its maximum of calls running gets [`Busy`] at once.
    pub async fn run(
        &self,
        loaded: &Arc<Loaded>,
        call: Call,
    ) -> Result<Result<Outcome, HookError>> {
        let (tenant, hook) = (loaded.tenant.name.as_str(), call.hook());
        let Ok(permit) = loaded.calls.running.clone().try_acquire_owned() else {
            self.metrics.busy(tenant);
            tracing::warn!(tenant, hook, max = loaded.calls.max, "busy: call refused");
            return Err(Busy.into());
        };
        let started = Instant::now();
        // On the guest pool, apart from the I/O workers; it finishes even if the request
        // that asked for it goes away.
        let on = loaded.clone();
        let task = self.guests.spawn(async move {
            let r = call.on(&on.plugin, &on.tenant).await;
            drop(permit);
            r
        });
        let result = task
            .await
            .unwrap_or_else(|e| Err(anyhow!("hook task failed: {e}")));
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let mut result = match result {
            Ok(r) => r,
            Err(trap) => {
                self.metrics.trap(tenant, hook);
                tracing::error!(tenant, hook, ms, error = %trap, "trap");
                return Err(trap);
            }
        };
        if let Ok(outcome) = &result {
            if let Err(e) = self.route(tenant, outcome).await {
                self.metrics.store_error();
                tracing::error!(tenant, hook, error = %e, "store failed after the hook");
                result = Err(HookError::Storage(e.to_string()));
            }
        }
        self.metrics.hook(tenant, hook, ms, result.as_ref().err());
        match &result {
            Ok(o) => tracing::info!(
                tenant,
                session = o.session_id.as_deref(),
                hook,
                ms,
                actions = o.actions.len(),
                warnings = ?o.warnings,
                "hook"
            ),
            Err(e) => tracing::warn!(tenant, hook, ms, error = error_kind(e), "hook"),
        }
        Ok(result)
    }

    /// The tenant's Genesys organization id: from its file, else looked up once with its
    /// credentials (`GET /api/v2/organizations/me`).
    pub async fn organization_of(&self, loaded: &Loaded) -> Result<String> {
        if let Some(id) = &loaded.file.genesys_organization_id {
            return Ok(id.clone());
        }
        let name = &loaded.tenant.name;
        if let Some(id) = self.organizations.lock().unwrap().get(name) {
            return Ok(id.clone());
        }
        let api =
            crate::genesys_api::GenesysApi::new(&loaded.tenant.config, self.opts.egress.clone())?;
        let id = api.organization_id().await?;
        self.organizations
            .lock()
            .unwrap()
            .insert(name.clone(), id.clone());
        Ok(id)
    }

    async fn route(&self, tenant: &str, outcome: &Outcome) -> Result<(), crate::kv::StoreError> {
        self.bus.deliver(tenant, outcome).await?;
        if crate::records::ends(outcome) {
            if let Some(session) = &outcome.session_id {
                if let Err(e) = self.bus.ended(tenant, session).await {
                    tracing::warn!(tenant, error = %e, "could not forget the delivery keys");
                }
            }
        }
        if let Err(e) = self.records.learn(tenant, outcome).await {
            self.metrics.store_error();
            tracing::warn!(tenant, error = %e, "could not update the host's records");
        }
        if outcome.warnings.contains(&Warning::NoOpenHandover) {
            if let Some(u) = &outcome.user_id {
                let _ = self.records.closed(tenant, u).await;
            }
        }
        Ok(())
    }
}

/// A per-process random number (std's hasher keys are random per process), so replicas
/// with the same pid on different machines still have different ids.
fn random_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::process::id() as u64);
    h.finish() as u32
}

/// Start serving (routes and timers); returns the bound address.
pub async fn start(server: Arc<Server>) -> Result<SocketAddr> {
    let router = crate::routes::router(server.clone());
    let addr = crate::http::serve_with(server.opts.listen, router, server.opts.conn).await?;
    crate::tenants::watch(server.tenants.clone(), server.metrics.clone());
    crate::notifications::spawn(server.clone());
    crate::sweeper::spawn(server);
    Ok(addr)
}
