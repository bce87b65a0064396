//! The Redis store's link to a Redis Cluster: redis's cluster client (slot map, `MOVED`/`ASK`,
//! reconnects, a new slot map after a failover), with the single-node rules kept on top:
//! one more try only where repeating is harmless, and an optional `WAIT` after each write.
//!
//! Differences from one node: a command may take 4 s (the client's own retries and
//! redirects included), and commands that prove not to have run (a redirect,
//! `CLUSTERDOWN`, `TRYAGAIN`, a refused connection) are sent again for 3.5 s, so a
//! failover is mostly ridden through inside the 5 s bound. Increment and a plain stream
//! add go through a second client that never retries by itself. `keys_with_prefix` scans
//! every master in turn, or only the master of the prefix's slot when the prefix holds its
//! tenant (`c/<tenant>/`); its cursor names the master (a slot and a fingerprint of its
//! node id: another node there after a failover starts that master's SCAN over) and how far
//! into a split SCAN batch the pages got; another process goes on by reading the batch
//! again and skipping as many of its sorted keys, so there a key of that batch can be
//! skipped only if keys of the same batch were deleted between the two pages.

use super::conn::{is_connection_error, Failure, Retry, CONNECT_TIMEOUT, OP_TIMEOUT};
use super::spec::ClusterSpec;
use super::{tags, StoreError};
use ::redis::cluster::{ClusterClient, ClusterClientBuilder};
use ::redis::cluster_async::ClusterConnection;
use ::redis::cluster_routing::{Route, SingleNodeRoutingInfo, SlotAddr};
use ::redis::{Cmd, ErrorKind, FromRedisValue, RedisError};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long one command, with the client's own retries, may take. Longer than on one
/// node: a failover's slot map change is ridden through where the command allows it.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(4);
/// Our own retries (after a redirect, `CLUSTERDOWN`, a refused connection) stop here.
const RETRY_BUDGET: Duration = Duration::from_millis(3500);
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// A Redis Cluster: two clients over the same seeds, made into connections on first use.
pub(super) struct Cluster {
    spec: ClusterSpec,
    /// Follows redirects and retries after a broken connection by itself: for commands
    /// that may run twice.
    safe: ClusterClient,
    /// Never sends a command twice by itself: for increment and a plain stream add, which
    /// are retried here only after errors that prove they did not run.
    once: ClusterClient,
    conns: Mutex<Option<Conns>>,
    /// Held while the connections are made, so concurrent callers wait for one attempt.
    connect_lock: tokio::sync::Mutex<()>,
}

#[derive(Clone)]
struct Conns {
    safe: ClusterConnection,
    once: ClusterConnection,
}

impl Cluster {
    pub(super) fn open(spec: ClusterSpec) -> Result<Cluster, StoreError> {
        let client = |retries: u32| {
            ClusterClientBuilder::new(spec.seeds.clone())
                .connection_timeout(CONNECT_TIMEOUT)
                .response_timeout(COMMAND_TIMEOUT)
                .retries(retries)
                .min_retry_wait(50)
                .max_retry_wait(500)
                .build()
                .map_err(|e| {
                    StoreError::Other(format!(
                        "invalid redis cluster spec for {}: {:?}",
                        spec.target,
                        e.kind()
                    ))
                })
        };
        Ok(Cluster {
            safe: client(6)?,
            once: client(0)?,
            spec,
            conns: Mutex::new(None),
            connect_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// `cluster host:port,…` (the seeds).
    pub(super) fn target(&self) -> &str {
        &self.spec.target
    }

    fn cached(&self) -> Option<Conns> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The connections, made on first use from any seed that answers.
    async fn conns(&self) -> Result<Conns, Failure> {
        if let Some(c) = self.cached() {
            return Ok(c);
        }
        let _connecting = self.connect_lock.lock().await;
        if let Some(c) = self.cached() {
            return Ok(c);
        }
        let unavailable = |e: RedisError| {
            Failure::Unavailable(format!(
                "cannot connect to redis cluster {}: {e}",
                self.spec.target
            ))
        };
        let safe = self
            .safe
            .get_async_connection()
            .await
            .map_err(unavailable)?;
        let once = self
            .once
            .get_async_connection()
            .await
            .map_err(unavailable)?;
        let conns = Conns { safe, once };
        *self.conns.lock().unwrap_or_else(|e| e.into_inner()) = Some(conns.clone());
        Ok(conns)
    }

    /// The connection that follows redirects by itself, for listing and topology.
    pub(super) async fn safe(&self) -> Result<ClusterConnection, Failure> {
        Ok(self.conns().await?.safe)
    }

    /// Sends `cmd` within [`OP_TIMEOUT`]; `written` is the key it writes, for `WAIT`.
    pub(super) async fn run_raw<T: FromRedisValue>(
        &self,
        what: &'static str,
        cmd: &Cmd,
        retry: Retry,
        written: Option<&str>,
    ) -> Result<T, Failure> {
        match tokio::time::timeout(OP_TIMEOUT, self.attempt(what, cmd, retry, written)).await {
            Ok(result) => result,
            Err(_) => Err(Failure::Unavailable(format!(
                "redis cluster {} did not complete {what} within {OP_TIMEOUT:?}",
                self.spec.target
            ))),
        }
    }

    async fn attempt<T: FromRedisValue>(
        &self,
        what: &'static str,
        cmd: &Cmd,
        retry: Retry,
        written: Option<&str>,
    ) -> Result<T, Failure> {
        let started = Instant::now();
        loop {
            let conns = self.conns().await?;
            let mut con = match retry {
                Retry::Safe => conns.safe,
                Retry::Never => conns.once,
            };
            let result = match written {
                Some(key) if self.spec.wait_replicas > 0 => {
                    self.send_and_wait(&mut con, cmd, key).await
                }
                _ => cmd.query_async::<T>(&mut con).await.map_err(Failure::Redis),
            };
            let e = match result {
                Ok(v) => return Ok(v),
                Err(Failure::Redis(e)) => e,
                Err(f) => return Err(f),
            };
            let again = started.elapsed() < RETRY_BUDGET;
            if did_not_run(&e) && again {
                // Redirected, refused or the cluster between masters: nothing ran, so any
                // command may go again once the client has the new slot map.
                tokio::time::sleep(RETRY_PAUSE).await;
                continue;
            }
            if is_connection_error(&e) {
                if retry == Retry::Safe && again {
                    tokio::time::sleep(RETRY_PAUSE).await;
                    continue;
                }
                return Err(Failure::Unavailable(format!(
                    "redis cluster {}: connection lost during {what} (it may or may not have \
                     been applied): {e}",
                    self.spec.target
                )));
            }
            return Err(Failure::Redis(e));
        }
    }

    /// `cmd` and `WAIT` in one pipeline to the master of `key`'s slot, so `WAIT` follows
    /// the write on the same connection; fewer replicas than asked → Unavailable (the
    /// write is done on the master but might not survive its failover).
    async fn send_and_wait<T: FromRedisValue>(
        &self,
        con: &mut ClusterConnection,
        cmd: &Cmd,
        key: &str,
    ) -> Result<T, Failure> {
        let wanted = self.spec.wait_replicas;
        let mut pipe = ::redis::pipe();
        pipe.add_command(cmd.clone())
            .cmd("WAIT")
            .arg(wanted)
            .arg(self.spec.wait_timeout.as_millis() as u64);
        let route = Route::new(tags::slot_of_key(key), SlotAddr::Master);
        let replies = con
            .route_pipeline(&pipe, 0, 2, SingleNodeRoutingInfo::SpecificNode(route))
            .await
            .map_err(Failure::Redis)?;
        let [reply, acked] = <[::redis::Value; 2]>::try_from(replies).map_err(|r| {
            Failure::Redis(RedisError::from((
                ErrorKind::TypeError,
                "pipeline reply count",
                format!("{}", r.len()),
            )))
        })?;
        let acked = i64::from_redis_value(&acked).map_err(Failure::Redis)?;
        if acked < i64::from(wanted) {
            return Err(Failure::Unavailable(format!(
                "redis cluster {}: write acknowledged by {acked} of {wanted} replicas within \
                 {:?} (it is applied on the master, but a failover may lose it)",
                self.spec.target, self.spec.wait_timeout
            )));
        }
        T::from_redis_value(&reply).map_err(Failure::Redis)
    }
}

/// Errors after which the command certainly did not run.
fn did_not_run(e: &RedisError) -> bool {
    e.is_connection_refusal()
        || matches!(
            e.kind(),
            ErrorKind::Moved
                | ErrorKind::Ask
                | ErrorKind::TryAgain
                | ErrorKind::ClusterDown
                | ErrorKind::MasterDown
                | ErrorKind::BusyLoadingError
                | ErrorKind::ClusterConnectionNotFound
        )
}
