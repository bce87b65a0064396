//! The Redis backend: any number of host processes share one Redis (or one of its
//! numbered databases, `redis://HOST:PORT/DB`).
//!
//! Keys, all under the prefix [`PREFIX`] (`gom:`) so one Redis can hold other data too,
//! with one letter per namespace so they never collide:
//!
//! | namespace | Redis key          | Redis type | commands |
//! |-----------|--------------------|------------|----------|
//! | kv        | `gom:k:<key>`      | string     | GET, SET, DEL, EXISTS, SCAN MATCH; increment: a Lua check + INCRBY |
//! | streams   | `gom:x:<stream>`   | stream, consumer group `bot`, a TTL | Lua scripts: XADD (after SADD for add-once) and a PUBLISH of the stream's name on `gom:wake:<db>` ([`wake`]); XPENDING, XACK + XDEL, XAUTOCLAIM, XREADGROUP |
//! | sets      | `gom:s:<set>`      | set        | SADD, SREM, SMEMBERS |
//! | leases    | `gom:l:<key>`      | string (the owner) with a TTL | SET NX PX, renew-if-owner in the same Lua script |
//!
//! Every operation is one command or one script, so it is atomic across processes; a
//! stream's consumer group hands each batch to one reader at a time.
//!
//! `keys_with_prefix` follows SCAN (pattern `gom:k:<escaped prefix>*`): each page is
//! sorted, pages come in SCAN order, and a key present throughout the listing is returned
//! at least once. A SCAN batch larger than the page's room is split: the rest is kept in
//! this process for 60 s under a token in the cursor's high 16 bits (the low 48 bits are
//! the SCAN cursor the batch started at). Presented to another process, or later, such a
//! cursor reads that batch again: a few keys may come twice, none is skipped.
//!
//! Connection: redis's `ConnectionManager`, made on first use (opening only checks the
//! URL): one multiplexed connection shared by all callers, with a 2 s connect timeout, a
//! 2 s response timeout and a 5 s bound on a whole operation. A broken connection is remade
//! by the manager, one connect attempt at a time: while Redis is unreachable, calls fail
//! fast with [`StoreError::Unavailable`]. A connection idle for over a second is PINGed
//! before use, so a Redis restart does not cost the first command after it. A command whose
//! connection broke under it is tried again (at most three tries in all) only if repeating
//! it is harmless (reads, SET, DEL, set changes, leases, stream reads, adding once);
//! increment and a plain stream add are not, since Redis may have run them, and return
//! `Unavailable`.
//!
//! ## Redis Cluster (`redis+cluster://HOST:PORT[,HOST:PORT…][?wait_replicas=N&wait_timeout_ms=MS]`)
//!
//! The same commands and scripts through redis's cluster client, which keeps the slot
//! map, follows `MOVED`/`ASK` and learns the new master after a failover. Every key gets a
//! hash tag chosen here, never by the component ([`tags`]): `gom:k:{<tenant>}<key>` and
//! leases by tenant (the second `/` segment of `kind/tenant/…`), `gom:x:{<tenant>/<session>}…`
//! and `gom:s:{…}` by tenant and session; names too short for a tenant share the tag `{gom}`.
//! So one guest batch (MGET, MSET, DEL over `c/<tenant>/…`) and one idempotency clean-up
//! are in one slot, a session's stream and its add-once set (one script) share a slot,
//! and tenants spread over the masters. The price: one tenant's keys live on one shard,
//! so a tenant's load is bounded by one master (its bus streams do spread). A single-node
//! store keeps its untagged keys: moving data between the two is a migration.
//!
//! How it differs from one node (timeouts, retries, listings) is in [`cluster`].
//!
//! Redis replicates asynchronously: a write acknowledged by a master that dies before its
//! replica got it is lost in the failover. With `wait_replicas=N`, every write is followed,
//! in one pipeline on the same connection, by `WAIT N wait_timeout_ms` (default 1000), and
//! fewer acknowledgements than `N` make the write `Unavailable` (done on the master, maybe
//! not on a replica); the cost is that a shard whose master has no live replica refuses
//! writes until one is back. `docs/redis-cluster.md` has the measured figures.

mod cluster;
mod cluster_scan;
#[cfg(test)]
mod cluster_tests;
mod conn;
#[cfg(test)]
mod failover_tests;
mod scan;
mod scripts;
mod spec;
mod streams;
mod tags;
#[cfg(test)]
mod tests;
mod wake;
mod write_then;

pub use spec::CLUSTER_SCHEME;

use super::counter::{not_a_number, overflow};

/// The longest TTL or visibility given to Redis (PEXPIRE takes at most a signed 64-bit
/// count of milliseconds, less the current time).
const MAX_MS: u64 = 1 << 50;
use super::StoreError;
use ::redis::{Cmd, ErrorKind, FromRedisValue};
use conn::{map_err, Failure, Retry, Single};
use scan::Leftovers;
use std::sync::Mutex;
use std::time::Duration;
use tags::Ns;

/// The prefix of every key this store writes.
pub const PREFIX: &str = "gom:";

/// A store on one Redis server or one Redis Cluster; see the module doc.
pub struct RedisStore {
    link: Link,
    leftovers: Mutex<Leftovers>,
    /// The channel this database's stream adds are announced on, the nodes to hear it
    /// from (tried in turn), and their feed.
    wake_channel: String,
    subscribers: Vec<::redis::Client>,
    feed: wake::Feed,
}

/// How the store reaches Redis.
#[allow(clippy::large_enum_variant)] // one per store, behind the Store's Arc
enum Link {
    Single(Single),
    Cluster(cluster::Cluster),
}

impl RedisStore {
    /// Checks `url` (`redis://[:PASSWORD@]HOST:PORT[/DB]`) without connecting.
    pub fn open(url: &str) -> Result<RedisStore, StoreError> {
        let db = ::redis::Client::open(url)
            .map(|c| c.get_connection_info().redis.db)
            .unwrap_or(0);
        let single = Single::open(url)?;
        let subscriber = single.client().clone();
        Ok(RedisStore::with_link(
            Link::Single(single),
            wake::channel(db),
            vec![subscriber],
        ))
    }

    /// Checks a cluster spec (`redis+cluster://HOST:PORT,…`, see [`CLUSTER_SCHEME`])
    /// without connecting.
    pub fn open_cluster(spec: &str) -> Result<RedisStore, StoreError> {
        let spec = spec::parse(spec)?;
        // Pub/sub reaches every node of a cluster: a plain connection to any seed hears
        // every replica's adds.
        let subscribers = spec
            .seeds
            .iter()
            .filter_map(|seed| ::redis::Client::open(seed.as_str()).ok())
            .collect();
        Ok(RedisStore::with_link(
            Link::Cluster(cluster::Cluster::open(spec)?),
            wake::channel(0),
            subscribers,
        ))
    }

    fn with_link(
        link: Link,
        wake_channel: String,
        subscribers: Vec<::redis::Client>,
    ) -> RedisStore {
        RedisStore {
            link,
            leftovers: Mutex::new(Leftovers::default()),
            wake_channel,
            subscribers,
            feed: wake::Feed::new(),
        }
    }

    /// `host:port/db`, or `cluster host:port,…`.
    pub fn target(&self) -> &str {
        match &self.link {
            Link::Single(s) => &s.target,
            Link::Cluster(c) => c.target(),
        }
    }

    /// Whether this store is on a Redis Cluster (its keys carry hash tags).
    pub fn is_cluster(&self) -> bool {
        matches!(self.link, Link::Cluster(_))
    }

    /// The Redis key of `name` in `ns`.
    fn key(&self, ns: Ns, name: &str) -> String {
        tags::key(self.is_cluster(), ns, name)
    }

    /// Runs a command that only reads.
    async fn run<T: FromRedisValue>(
        &self,
        what: &'static str,
        cmd: &Cmd,
        retry: Retry,
    ) -> Result<T, StoreError> {
        self.run_raw(what, cmd, retry, None)
            .await
            .map_err(|f| f.into_store_error(what))
    }

    /// Runs a command that writes `key` (on a cluster with `wait_replicas`, followed by
    /// `WAIT` on the same connection).
    async fn write<T: FromRedisValue>(
        &self,
        what: &'static str,
        cmd: &Cmd,
        retry: Retry,
        key: &str,
    ) -> Result<T, StoreError> {
        self.run_raw(what, cmd, retry, Some(key))
            .await
            .map_err(|f| f.into_store_error(what))
    }

    async fn run_raw<T: FromRedisValue>(
        &self,
        what: &'static str,
        cmd: &Cmd,
        retry: Retry,
        written: Option<&str>,
    ) -> Result<T, Failure> {
        match self.send(what, cmd, retry, written).await {
            // A script the server does not have yet: sent whole once, which caches it there.
            Err(Failure::Redis(e)) if e.kind() == ErrorKind::NoScriptError => {
                match scripts::with_code(cmd) {
                    Some(eval) => self.send(what, &eval, retry, written).await,
                    None => Err(Failure::Redis(e)),
                }
            }
            sent => sent,
        }
    }

    /// One command on the link.
    async fn send<T: FromRedisValue>(
        &self,
        what: &'static str,
        cmd: &Cmd,
        retry: Retry,
        written: Option<&str>,
    ) -> Result<T, Failure> {
        match &self.link {
            Link::Single(s) => s.run_raw(what, cmd, retry).await,
            Link::Cluster(c) => c.run_raw(what, cmd, retry, written).await,
        }
    }

    /// See [`super::Store::get`].
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut cmd = ::redis::cmd("GET");
        cmd.arg(self.key(Ns::Kv, key));
        self.run("GET", &cmd, Retry::Safe).await
    }

    /// See [`super::Store::set`].
    pub async fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let mut cmd = ::redis::cmd("SET");
        let key = self.key(Ns::Kv, key);
        cmd.arg(&key).arg(value);
        self.write("SET", &cmd, Retry::Safe, &key).await
    }

    /// See [`super::Store::delete`].
    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let mut cmd = ::redis::cmd("DEL");
        let key = self.key(Ns::Kv, key);
        cmd.arg(&key);
        self.write::<i64>("DEL", &cmd, Retry::Safe, &key)
            .await
            .map(drop)
    }

    /// See [`super::Store::get_many`]: one `MGET`.
    pub async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let mut cmd = ::redis::cmd("MGET");
        for k in keys {
            cmd.arg(self.key(Ns::Kv, k));
        }
        self.run("MGET", &cmd, Retry::Safe).await
    }

    /// See [`super::Store::set_many`]: one `MSET` (atomic on the server).
    pub async fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        let mut cmd = ::redis::cmd("MSET");
        let first = self.key(Ns::Kv, &entries[0].0);
        for (k, v) in entries {
            cmd.arg(self.key(Ns::Kv, k)).arg(v.as_slice());
        }
        self.write("MSET", &cmd, Retry::Safe, &first).await
    }

    /// See [`super::Store::delete_many`]: one `DEL` of every key.
    pub async fn delete_many(&self, keys: &[String]) -> Result<(), StoreError> {
        let mut cmd = ::redis::cmd("DEL");
        let first = self.key(Ns::Kv, &keys[0]);
        for k in keys {
            cmd.arg(self.key(Ns::Kv, k));
        }
        self.write::<i64>("DEL", &cmd, Retry::Safe, &first)
            .await
            .map(drop)
    }

    /// See [`super::Store::exists`].
    pub async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        let mut cmd = ::redis::cmd("EXISTS");
        cmd.arg(self.key(Ns::Kv, key));
        Ok(self.run::<i64>("EXISTS", &cmd, Retry::Safe).await? > 0)
    }

    /// See [`super::Store::increment`]; counters end at `i64::MAX` here.
    pub async fn increment(&self, key: &str, delta: u64) -> Result<u64, StoreError> {
        let delta = i64::try_from(delta).map_err(|_| overflow(key))?;
        let mut cmd = scripts::INCREMENT.cmd();
        let redis_key = self.key(Ns::Kv, key);
        cmd.arg(1).arg(&redis_key).arg(delta);
        let written = Some(redis_key.as_str());
        let n = self
            .run_raw::<i64>("INCRBY", &cmd, Retry::Never, written)
            .await;
        n.map_err(|f| increment_error(key, f))
            .and_then(|n| u64::try_from(n).map_err(|_| not_a_number(key)))
    }

    /// See [`super::Store::keys_with_prefix`]: pages follow SCAN, each sorted.
    pub async fn keys_with_prefix(
        &self,
        prefix: &str,
        cursor: Option<u64>,
        limit: usize,
    ) -> Result<(Vec<String>, Option<u64>), StoreError> {
        if limit == 0 {
            return Ok((Vec::new(), Some(cursor.unwrap_or(0))));
        }
        let cursor = cursor.unwrap_or(0);
        let (mut page, next) = match &self.link {
            Link::Single(_) => self.scan_page(prefix, cursor, limit).await?,
            Link::Cluster(c) => self.cluster_scan_page(c, prefix, cursor, limit).await?,
        };
        page.sort();
        page.dedup();
        Ok((page, next))
    }

    /// See [`super::Store::set_add`].
    pub async fn set_add(&self, set: &str, member: &str) -> Result<(), StoreError> {
        let mut cmd = ::redis::cmd("SADD");
        let set = self.key(Ns::Set, set);
        cmd.arg(&set).arg(member);
        self.write::<i64>("SADD", &cmd, Retry::Safe, &set)
            .await
            .map(drop)
    }

    /// See [`super::Store::set_remove`].
    pub async fn set_remove(&self, set: &str, member: &str) -> Result<(), StoreError> {
        let mut cmd = ::redis::cmd("SREM");
        let set = self.key(Ns::Set, set);
        cmd.arg(&set).arg(member);
        self.write::<i64>("SREM", &cmd, Retry::Safe, &set)
            .await
            .map(drop)
    }

    /// See [`super::Store::set_clear`].
    pub async fn set_clear(&self, set: &str) -> Result<(), StoreError> {
        let mut cmd = ::redis::cmd("DEL");
        let set = self.key(Ns::Set, set);
        cmd.arg(&set);
        self.write::<i64>("DEL", &cmd, Retry::Safe, &set)
            .await
            .map(drop)
    }

    /// See [`super::Store::set_members`]: sorted here (Redis keeps no order).
    pub async fn set_members(&self, set: &str) -> Result<Vec<String>, StoreError> {
        let mut cmd = ::redis::cmd("SMEMBERS");
        cmd.arg(self.key(Ns::Set, set));
        let raw: Vec<Vec<u8>> = self.run("SMEMBERS", &cmd, Retry::Safe).await?;
        let mut members: Vec<String> = raw
            .into_iter()
            .map(|m| String::from_utf8_lossy(&m).into_owned())
            .collect();
        members.sort();
        Ok(members)
    }

    /// See [`super::Store::release_lease`]: one script (delete if the owner holds it).
    pub async fn release_lease(&self, key: &str, owner: &str) -> Result<bool, StoreError> {
        let lease = self.key(Ns::Lease, key);
        let mut cmd = scripts::RELEASE.cmd();
        cmd.arg(1).arg(&lease).arg(owner);
        Ok(self
            .write::<i64>("release", &cmd, Retry::Safe, &lease)
            .await?
            == 1)
    }

    /// See [`super::Store::try_lease`].
    pub async fn try_lease(
        &self,
        key: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX).max(1);
        let lease = self.key(Ns::Lease, key);
        let mut cmd = scripts::LEASE.cmd();
        cmd.arg(1).arg(&lease).arg(owner).arg(ttl_ms);
        // Repeating it is harmless: the owner then holds the lease and renews it.
        Ok(self
            .write::<i64>("lease", &cmd, Retry::Safe, &lease)
            .await?
            == 1)
    }
}

/// The store error of a failed increment: a value that is not a counter, an overflow,
/// or the failure itself.
fn increment_error(key: &str, f: Failure) -> StoreError {
    match f {
        Failure::Redis(e) if e.code() == Some("NOTANUMBER") => not_a_number(key),
        Failure::Redis(e) if e.kind() == ErrorKind::ResponseError => {
            let detail = e.detail().unwrap_or_default();
            if detail.contains("not an integer") {
                not_a_number(key)
            } else if detail.contains("overflow") {
                overflow(key)
            } else {
                map_err("INCRBY", e)
            }
        }
        f => f.into_store_error("INCRBY"),
    }
}
