//! The bot side's inbox: actions a hook produced, per session, waiting for the session's
//! long-poll. Kept in the shared store's streams, so an action produced on one replica
//! reaches a long-poll on any replica, in order; each action has a stable id, and a batch
//! leaves the stream only when the bot acknowledges it (else it comes again after the
//! visibility timeout): at least once, never lost to a replica or client dying mid-answer.
//! The actions of one delivery key (every copy of one Genesys message) are added once,
//! atomically with marking the key.

use crate::bindings::types::Outcome;
use crate::bus_wake::Waiters;
use crate::kv::{EntryId, Store, StoreError, Write};
use crate::round_trips::RoundTrips;
use serde_json::Value;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// How often a waiting long-poll reads its stream again even when nothing woke it: for a
/// batch whose visibility ended (it reaches a poll already waiting up to this late; a new
/// poll gets it at once), and for a wake the store's feed lost (pub/sub is at most once).
/// Actions added on any replica wake it at once. Each re-read is a store round trip: `make
/// bench` measured 208 µs of serve's CPU and 104 µs of Redis's per waiting poll and second
/// at 500 ms, which 200 000 waiting polls would multiply into dozens of cores.
pub const RECHECK_EVERY: Duration = Duration::from_secs(5);

/// The most actions one poll hands out.
pub const MAX_BATCH: usize = 1000;

/// How long a handed-out batch stays invisible before it comes again, and how long a
/// session's actions are kept when nobody collects them.
#[derive(Debug, Clone, Copy)]
pub struct BusOptions {
    /// A batch not acknowledged within this comes again (on any replica).
    pub visibility: Duration,
    /// A session's stream neither added to nor polled for this long is dropped.
    pub ttl: Duration,
}

impl Default for BusOptions {
    fn default() -> Self {
        BusOptions {
            visibility: Duration::from_secs(15),
            ttl: Duration::from_secs(3600),
        }
    }
}

/// One action as the bot side gets it.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivered {
    /// Stable: a redelivery carries the same id.
    pub id: EntryId,
    /// The action, as JSON.
    pub action: Value,
}

/// What a poll hands out: the actions in order, and the cursor that acknowledges them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Batch {
    /// The actions.
    pub actions: Vec<Delivered>,
    /// The last action's id (acknowledge it to have the next batch), or the cursor the
    /// poll came with when nothing was handed out.
    pub cursor: Option<EntryId>,
}

/// Per-session action streams.
pub struct Bus {
    kv: Store,
    opts: BusOptions,
    /// A draining replica hands its long-polls back at once (the bot polls elsewhere).
    drain: std::sync::Arc<crate::drain::Drain>,
    /// The long-polls waiting here, woken by stream: by this replica's adds at once, by
    /// other replicas' through the store's feed (followed from the first long-poll on).
    waiters: Arc<Waiters>,
    following: OnceLock<()>,
}

fn stream(tenant: &str, session: &str) -> String {
    format!("bus/{tenant}/{session}")
}

/// The delivery keys whose actions are on (or were taken from) the session's stream.
fn delivered(tenant: &str, session: &str) -> String {
    format!("bus-delivered/{tenant}/{session}")
}

impl Bus {
    /// Streams kept in `kv`.
    /// `waiting` counts the long-polls waiting (a gauge of `/metrics`).
    pub fn new(
        kv: Store,
        opts: BusOptions,
        drain: std::sync::Arc<crate::drain::Drain>,
        waiting: prometheus_client::metrics::gauge::Gauge,
    ) -> Self {
        Self {
            kv,
            opts,
            drain,
            waiters: Arc::new(Waiters::new(waiting)),
            following: OnceLock::new(),
        }
    }

    /// Add an outcome's actions to its session's stream, in order; those of a delivery
    /// key only if no copy added them before. True if something was added. Its store
    /// request is counted on `trips`.
    pub async fn deliver(
        &self,
        tenant: &str,
        outcome: &Outcome,
        trips: &RoundTrips,
    ) -> Result<bool, StoreError> {
        let Some(session) = &outcome.session_id else {
            return Ok(false);
        };
        if outcome.actions.is_empty() {
            return Ok(false);
        }
        let mut items = Vec::with_capacity(outcome.actions.len());
        for a in &outcome.actions {
            items.push(
                serde_json::to_vec(a).map_err(|e| StoreError::Other(format!("action: {e}")))?,
            );
        }
        let done = delivered(tenant, session);
        let once = outcome.delivery_key.as_deref().map(|k| (done.as_str(), k));
        trips.one();
        let q = stream(tenant, session);
        let added = self.kv.stream_add(&q, once, &items, self.opts.ttl).await?;
        if added {
            self.waiters.wake(&q);
        }
        Ok(added)
    }

    /// The session's handover ended: the write that forgets its delivery keys (they name its
    /// conversation, so a later handover's never match them anyway). Its stream stays for
    /// the bot to collect, until its TTL.
    pub fn ending(&self, tenant: &str, session: &str) -> Write {
        Write::SetClear(delivered(tenant, session))
    }

    /// Acknowledge the session's actions up to `cursor`: they will not come again.
    pub async fn ack(
        &self,
        tenant: &str,
        session: &str,
        cursor: EntryId,
    ) -> Result<(), StoreError> {
        let (v, ttl) = (self.opts.visibility, self.opts.ttl);
        self.kv
            .stream_read(&stream(tenant, session), Some(cursor), 0, v, ttl)
            .await
            .map(drop)
    }

    /// Acknowledge up to `ack` (if given), then wait up to `wait` for the session's next
    /// batch (not past the start of a drain: an empty answer then), woken by the stream's
    /// adds on any replica and reading again every [`RECHECK_EVERY`]. A batch handed out and
    /// not acknowledged comes again after the visibility timeout, under the same ids; until
    /// then the session's later actions wait behind it.
    pub async fn take(
        &self,
        tenant: &str,
        session: &str,
        ack: Option<EntryId>,
        wait: Duration,
    ) -> Result<Batch, StoreError> {
        let deadline = Instant::now() + wait;
        let q = stream(tenant, session);
        let (v, ttl) = (self.opts.visibility, self.opts.ttl);
        let mut acking = ack;
        self.following.get_or_init(|| {
            if let Some(feed) = self.kv.stream_adds() {
                self.waiters.clone().follow(feed);
            }
        });
        let waiting = self.waiters.wait(&q);
        loop {
            let notified = waiting.notified();
            let entries = self.kv.stream_read(&q, acking, MAX_BATCH, v, ttl).await?;
            acking = None;
            if let Some(last) = entries.last().map(|e| e.id) {
                let actions = entries
                    .into_iter()
                    .map(|e| Delivered {
                        id: e.id,
                        // Written by `deliver` from an action; unreadable only if the
                        // store was changed behind the host's back.
                        action: serde_json::from_slice(&e.item).unwrap_or(Value::Null),
                    })
                    .collect();
                return Ok(Batch {
                    actions,
                    cursor: Some(last),
                });
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.drain.is_draining() {
                return Ok(Batch {
                    actions: Vec::new(),
                    cursor: ack,
                });
            }
            tokio::select! {
                _ = tokio::time::timeout(left.min(RECHECK_EVERY), notified) => {}
                _ = self.drain.started() => {}
            }
        }
    }

    /// Drop the streams whose TTL ran out (memory and file stores; Redis expires them).
    pub async fn purge_expired(&self) -> Result<usize, StoreError> {
        self.kv.purge_expired().await
    }
}
