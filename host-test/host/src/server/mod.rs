//! The state every request and timer of `serve` shares (options, tenants, store, host
//! records, the bot side's queues, metrics, where calls run) and [`Server::run`], which runs
//! one hook call, measures and logs it and routes its outcome. The HTTP routes, the sweeper
//! and the notification feeds all take this state; it knows none of them.

mod call;
mod guests;
mod options;

pub use call::{Busy, Call};
pub use options::ServeOptions;

use crate::bindings::types::{Error as HookError, Outcome, Warning};
use crate::bus::Bus;
use crate::kv::Store;
use crate::metrics::{error_kind, Metrics};
use crate::records::Records;
use crate::round_trips::RoundTrips;
use crate::tenants::{Loaded, Refused, Tenants};
use anyhow::{anyhow, Result};
use guests::GuestPool;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::OwnedSemaphorePermit;

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
    /// Set when the replica drains (`SIGTERM`): see [`crate::serve::drain`].
    pub drain: Arc<crate::drain::Drain>,
    /// Where hook calls run.
    guests: GuestPool,
    /// One permit per instance of the engine's pool (`max_instances`): a call holds one
    /// while it runs, so the pool is never asked for more than it has.
    instances: Arc<tokio::sync::Semaphore>,
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
        let drain = Arc::new(crate::drain::Drain::default());
        let metrics = Arc::new(Metrics::default());
        let waiting = metrics.long_polls.clone();
        Arc::new(Self {
            records: Records::new(kv.clone()),
            bus: Bus::new(kv.clone(), opts.bus, drain.clone(), waiting),
            drain,
            metrics,
            tenants,
            kv,
            guests: GuestPool::new(opts.guest_threads),
            instances: Arc::new(tokio::sync::Semaphore::new(
                opts.max_instances.max(1) as usize
            )),
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
    /// then record it and route its outcome: host records, the session's queue. A call of
    /// a tenant with its maximum of calls running waits in the tenant's queue, and one that
    /// finds every instance of the replica in use waits for one; [`Busy`] when the queue is
    /// full (at once) or a wait ran out.
    pub async fn run(
        &self,
        loaded: &Arc<Loaded>,
        call: Call,
    ) -> Result<Result<Outcome, HookError>> {
        let (tenant, hook) = (loaded.tenant.name.as_str(), call.hook());
        let limit = &loaded.calls;
        let (permit, instance) = match self.admit(tenant, limit).await {
            Ok(permits) => permits,
            Err(refused) => {
                self.metrics.busy(tenant, refused.label());
                tracing::warn!(
                    tenant,
                    hook,
                    max = limit.max,
                    queued = limit.queued(),
                    max_instances = self.opts.max_instances,
                    reason = refused.label(),
                    "busy: call refused"
                );
                return Err(Busy(refused).into());
            }
        };
        let started = Instant::now();
        // This call's store round trips: the guest's, the file store's fsync, the routing's.
        let trips = RoundTrips::new();
        let plugin = loaded.plugin.counting(&trips);
        // A task of its own (see `guests`): it finishes even if the request
        // that asked for it goes away.
        let on = loaded.clone();
        let task = self.guests.spawn(async move {
            let r = call.on(&plugin, &on.tenant).await;
            drop((permit, instance));
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
            if let Err(e) = self.route(tenant, outcome, &trips).await {
                self.metrics.store_error();
                tracing::error!(tenant, hook, error = %e, "store failed after the hook");
                result = Err(HookError::Storage(e.to_string()));
            }
        }
        self.metrics.hook(tenant, hook, ms, result.as_ref().err());
        let round_trips = trips.count();
        self.metrics.round_trips(tenant, hook, round_trips);
        match &result {
            Ok(o) => tracing::info!(
                tenant,
                session = o.session_id.as_deref(),
                hook,
                ms,
                round_trips,
                actions = o.actions.len(),
                warnings = ?o.warnings,
                "hook"
            ),
            Err(e) => tracing::warn!(tenant, hook, ms, round_trips, error = error_kind(e), "hook"),
        }
        Ok(result)
    }

    /// A slot among the tenant's `max-concurrent-calls` (waiting in its queue, if it has
    /// room), then an instance of the replica's pool, waited for at most the tenant's
    /// `max-queue-wait-ms` more.
    async fn admit(
        &self,
        tenant: &str,
        limit: &crate::tenants::CallLimit,
    ) -> Result<(OwnedSemaphorePermit, OwnedSemaphorePermit), Refused> {
        let permit = match limit.try_now() {
            Some(permit) => permit,
            None => {
                let place = limit.queue()?;
                let _waiting = self.metrics.waiting(tenant);
                let permit = place.wait().await?;
                self.metrics.queued(tenant);
                permit
            }
        };
        let free = self.instances.clone().acquire_owned();
        match tokio::time::timeout(limit.max_wait, free).await {
            Ok(Ok(instance)) => Ok((permit, instance)),
            // The semaphore is never closed: only the wait can end without one.
            Ok(Err(_)) | Err(_) => Err(Refused::InstancesInUse),
        }
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

    /// The outcome's actions to the session's queue, and what the host's records learn from
    /// it; every store request counted on the call's `trips`.
    async fn route(
        &self,
        tenant: &str,
        outcome: &Outcome,
        trips: &RoundTrips,
    ) -> Result<(), crate::kv::StoreError> {
        self.bus.deliver(tenant, outcome, trips).await?;
        // An end's clean-ups (the session's delivery keys, the user's idempotency keys, the
        // host's records) go in one batch with what the records learn.
        let mut also = Vec::new();
        if crate::records::ends(outcome) {
            if let Some(session) = &outcome.session_id {
                also.push(self.bus.ending(tenant, session));
            }
            if let Some(user) = &outcome.user_id {
                also.push(crate::idempotency::Keys::forgetting(tenant, user));
            }
        }
        if let Err(e) = self.records.learn(tenant, outcome, trips, also).await {
            self.metrics.store_error();
            tracing::warn!(tenant, error = %e, "could not update the host's records");
        }
        if outcome.warnings.contains(&Warning::NoOpenHandover) {
            if let Some(u) = &outcome.user_id {
                let _ = self.records.closed(tenant, u, trips).await;
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
