//! What `serve` is set up with: where tenants, components and the store are, limits, flags
//! and timer intervals. Plain data, so a caller can build and adjust it before wiring.

use crate::egress::Egress;
use crate::kv::Store;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

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
    /// Threads of a pool of their own for hook calls, apart from the HTTP workers; 0 (the
    /// default): calls run on the HTTP workers, beside the store's I/O. `make bench`
    /// measured 0 at about 1.15 × the webhooks/s of a pool of one thread per core on 2
    /// cores: each store round trip of a call on a pool apart crosses between runtimes.
    pub guest_threads: usize,
    /// Hook calls running at once on this replica, over every tenant: the engine's
    /// instance pool holds this many (build it with [`crate::engine_for`]). A call past
    /// them waits, within its tenant's `max-queue-wait-ms`, for one to finish.
    pub max_instances: u32,
    /// The bot side's streams: visibility timeout and TTL.
    pub bus: crate::bus::BusOptions,
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
            guest_threads: 0,
            max_instances: crate::engine::DEFAULT_INSTANCES,
            bus: crate::bus::BusOptions::default(),
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
