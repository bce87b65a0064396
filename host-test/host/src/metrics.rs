//! What `/metrics` shows, in Prometheus text format (prometheus-client): hook calls and
//! their store round trips, errors by kind, latency, traps, component swaps, queued and
//! refused calls, and store failures, labelled by tenant.

use crate::bindings::types::Error as HookError;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::Mutex;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HookLabels {
    tenant: String,
    hook: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    tenant: String,
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusedLabels {
    tenant: String,
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HookOnly {
    hook: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TenantOnly {
    tenant: String,
}

/// One call counted in `handover_calls_waiting` while this lives.
pub struct Waiting(Gauge);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Latency buckets in milliseconds.
const BUCKETS_MS: [f64; 8] = [1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 1000.0];

fn latency_histogram() -> Histogram {
    Histogram::new(BUCKETS_MS)
}

/// The host's metrics.
pub struct Metrics {
    registry: Mutex<Registry>,
    hooks: Family<HookLabels, Counter>,
    round_trips: Family<HookLabels, Counter>,
    errors: Family<ErrorLabels, Counter>,
    latency: Family<HookOnly, Histogram, fn() -> Histogram>,
    traps: Family<HookLabels, Counter>,
    swaps: Family<TenantOnly, Counter>,
    swap_failures: Family<TenantOnly, Counter>,
    busy: Family<RefusedLabels, Counter>,
    queued: Family<TenantOnly, Counter>,
    waiting: Family<TenantOnly, Gauge>,
    notification_events: Family<TenantOnly, Counter>,
    notification_errors: Family<TenantOnly, Counter>,
    store_errors: Counter,
    /// Bot-side long-polls waiting on this replica now.
    pub long_polls: Gauge,
}

/// The kind label of a hook error.
pub fn error_kind(e: &HookError) -> &'static str {
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

impl Default for Metrics {
    fn default() -> Self {
        let m = Metrics {
            registry: Mutex::new(Registry::default()),
            hooks: Family::default(),
            round_trips: Family::default(),
            errors: Family::default(),
            latency: Family::new_with_constructor(latency_histogram as fn() -> Histogram),
            traps: Family::default(),
            swaps: Family::default(),
            swap_failures: Family::default(),
            busy: Family::default(),
            queued: Family::default(),
            waiting: Family::default(),
            notification_events: Family::default(),
            notification_errors: Family::default(),
            store_errors: Counter::default(),
            long_polls: Gauge::default(),
        };
        {
            let mut r = m.registry.lock().unwrap();
            r.register(
                "handover_hook_calls",
                "Hook calls by tenant and hook",
                m.hooks.clone(),
            );
            r.register(
                "handover_store_round_trips",
                "Store round trips of hook calls by tenant and hook: the guest's wasi:keyvalue \
                 operations, the host's own for the call and the file store's fsync; per call, \
                 divide by handover_hook_calls",
                m.round_trips.clone(),
            );
            r.register(
                "handover_hook_errors",
                "Hook errors by tenant and kind",
                m.errors.clone(),
            );
            r.register(
                "handover_hook_duration_ms",
                "Hook latency in milliseconds",
                m.latency.clone(),
            );
            r.register(
                "handover_hook_traps",
                "Hook calls that trapped (deadline, memory, panic)",
                m.traps.clone(),
            );
            r.register(
                "handover_component_swaps",
                "Component or config swaps by tenant",
                m.swaps.clone(),
            );
            r.register(
                "handover_component_swap_failures",
                "Changed tenant files or components that failed validation and are not served",
                m.swap_failures.clone(),
            );
            r.register(
                "handover_calls_refused_busy",
                "Calls refused with 503 because the tenant had its maximum of calls running, by \
                 reason: queue-full (refused at once) or queue-wait (max-queue-wait-ms ran out)",
                m.busy.clone(),
            );
            r.register(
                "handover_calls_queued",
                "Calls that waited in the tenant's queue for a slot",
                m.queued.clone(),
            );
            r.register(
                "handover_calls_waiting",
                "Calls waiting in the tenant's queue now",
                m.waiting.clone(),
            );
            r.register(
                "handover_notification_events",
                "Conversation events read from Notifications API sockets",
                m.notification_events.clone(),
            );
            r.register(
                "handover_notification_errors",
                "Failed rounds of keeping notification channels subscribed",
                m.notification_errors.clone(),
            );
            r.register(
                "handover_long_polls_waiting",
                "Bot-side long-polls waiting on this replica for their session's actions now \
                 (each holds a connection)",
                m.long_polls.clone(),
            );
            r.register(
                "handover_store_errors",
                "Failed operations of the host's store",
                m.store_errors.clone(),
            );
        }
        m
    }
}

/// One more on a per-tenant counter.
fn inc(family: &Family<TenantOnly, Counter>, tenant: &str) {
    family
        .get_or_create(&TenantOnly {
            tenant: tenant.into(),
        })
        .inc();
}

impl Metrics {
    /// A hook call finished with a result.
    pub fn hook(&self, tenant: &str, hook: &str, ms: f64, error: Option<&HookError>) {
        let labels = HookLabels {
            tenant: tenant.into(),
            hook: hook.into(),
        };
        self.hooks.get_or_create(&labels).inc();
        if let Some(e) = error {
            let kind = error_kind(e).to_string();
            self.errors
                .get_or_create(&ErrorLabels {
                    tenant: tenant.into(),
                    kind,
                })
                .inc();
        }
        self.latency
            .get_or_create(&HookOnly { hook: hook.into() })
            .observe(ms);
    }

    /// The store round trips of a hook call counted in [`Metrics::hook`].
    pub fn round_trips(&self, tenant: &str, hook: &str, n: u64) {
        let labels = HookLabels {
            tenant: tenant.into(),
            hook: hook.into(),
        };
        self.round_trips.get_or_create(&labels).inc_by(n);
    }

    /// A hook call trapped.
    pub fn trap(&self, tenant: &str, hook: &str) {
        let labels = HookLabels {
            tenant: tenant.into(),
            hook: hook.into(),
        };
        self.traps.get_or_create(&labels).inc();
    }

    /// A tenant's component or config was swapped.
    pub fn swap(&self, tenant: &str) {
        inc(&self.swaps, tenant);
    }

    /// A changed tenant file or component failed validation (the last good one stays).
    pub fn swap_failed(&self, tenant: &str) {
        inc(&self.swap_failures, tenant);
    }

    /// A call was refused: the tenant had its maximum of calls running, and its queue was
    /// full (`queue-full`) or the call's wait ran out (`queue-wait`).
    pub fn busy(&self, tenant: &str, reason: &str) {
        self.busy
            .get_or_create(&RefusedLabels {
                tenant: tenant.into(),
                reason: reason.into(),
            })
            .inc();
    }

    /// A call waited in the tenant's queue and got a slot.
    pub fn queued(&self, tenant: &str) {
        inc(&self.queued, tenant);
    }

    /// A call of `tenant` waits in its queue until the returned guard is dropped.
    pub fn waiting(&self, tenant: &str) -> Waiting {
        let gauge = self
            .waiting
            .get_or_create(&TenantOnly {
                tenant: tenant.into(),
            })
            .clone();
        gauge.inc();
        Waiting(gauge)
    }

    /// An event arrived on a notification socket.
    pub fn notification_event(&self, tenant: &str) {
        inc(&self.notification_events, tenant);
    }

    /// A round of keeping notification channels subscribed failed.
    pub fn notification_error(&self, tenant: &str) {
        inc(&self.notification_errors, tenant);
    }

    /// The host's own store failed.
    pub fn store_error(&self) {
        self.store_errors.inc();
    }

    /// Everything in Prometheus text format.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let r = self.registry.lock().unwrap();
        let _ = prometheus_client::encoding::text::encode(&mut out, &r);
        out
    }
}
