//! The host's storage layer: one [`Store`], three backends chosen by one flag,
//! `--kv memory|file:DIR|redis://HOST:PORT[/DB]|redis+cluster://HOST:PORT,…`, each with four
//! separate namespaces (keys, streams, sets, leases); the [file](mod@file) and
//! [redis](mod@redis) modules show their layouts.

#[cfg(test)]
pub(crate) mod conformance;
mod counter;
pub mod file;
pub mod memory;
pub mod redis;
pub mod stream;
mod write_then;

pub use stream::{BadEntryId, Entry, EntryId};
pub use write_then::{Answer, Then, Write};

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Why a store operation failed. Messages name keys and backends, never stored values.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend cannot be reached or used right now (Redis down or timing out, a disk
    /// error); the operation may or may not have happened and can be retried later.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// `increment` found a value that is not a decimal `u64`.
    #[error("not a number: {0}")]
    NotANumber(String),
    /// The backend holds data this layer did not write in that shape.
    #[error("store corrupt: {0}")]
    Corrupt(String),
    /// Anything else: a bad store spec or URL, an overflow, a database already in use.
    #[error("{0}")]
    Other(String),
}

/// A handle on the storage backend; clones share it.
#[derive(Clone)]
pub struct Store {
    backend: Arc<Backend>,
}

/// The backend behind a [`Store`].
#[allow(clippy::large_enum_variant)] // one per process, behind the Store's Arc
pub enum Backend {
    /// In-process maps, gone with the process (tests, the demo).
    Memory(memory::MemoryStore),
    /// A redb database in a directory: durable after [`Store::sync`], one process at a time.
    File(file::FileStore),
    /// A Redis server or Redis Cluster, shared by any number of processes.
    Redis(redis::RedisStore),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("kind", &self.kind()).finish()
    }
}

impl Store {
    /// A new, empty in-memory store.
    pub fn memory() -> Store {
        Store::from_backend(Backend::Memory(memory::MemoryStore::new()))
    }

    /// Opens (creating if needed) the file store in `dir`. Fails if another process (or
    /// another handle in this one) has it open.
    pub fn open_file(dir: &Path) -> Result<Store, StoreError> {
        Ok(Store::from_backend(Backend::File(file::FileStore::open(
            dir,
        )?)))
    }

    /// A store on the Redis server at `url` (`redis://HOST:PORT[/DB]`). The URL is checked
    /// now; the connection is made on first use, so a Redis that is down at start only
    /// makes operations fail with [`StoreError::Unavailable`] until it is back.
    pub async fn open_redis(url: &str) -> Result<Store, StoreError> {
        Ok(Store::from_backend(Backend::Redis(
            redis::RedisStore::open(url)?,
        )))
    }

    /// A store on the Redis Cluster a `redis+cluster://HOST:PORT[,HOST:PORT…][?…]` spec
    /// names (see [`redis`]). Checked now, connected on first use, as [`Store::open_redis`].
    pub async fn open_redis_cluster(spec: &str) -> Result<Store, StoreError> {
        Ok(Store::from_backend(Backend::Redis(
            redis::RedisStore::open_cluster(spec)?,
        )))
    }

    /// Opens the store a `--kv` flag names: `memory`, `file:DIR`, `redis://…` or
    /// `redis+cluster://…`.
    pub async fn open(spec: &str) -> Result<Store, StoreError> {
        let spec = spec.trim();
        if spec == "memory" {
            Ok(Store::memory())
        } else if let Some(dir) = spec.strip_prefix("file:") {
            if dir.is_empty() {
                return Err(StoreError::Other(
                    "store spec `file:` needs a directory, e.g. `file:./data`".into(),
                ));
            }
            Store::open_file(Path::new(dir))
        } else if spec.starts_with(redis::CLUSTER_SCHEME) {
            Store::open_redis_cluster(spec).await
        } else if spec.starts_with("redis://")
            || spec.starts_with("rediss://")
            || spec.starts_with("redis+unix://")
            || spec.starts_with("unix://")
        {
            Store::open_redis(spec).await
        } else {
            Err(StoreError::Other(format!(
                "unknown store `{spec}`: expected `memory`, `file:DIR`, `redis://HOST:PORT[/DB]` \
                 or `redis+cluster://HOST:PORT[,HOST:PORT…]`"
            )))
        }
    }

    /// Wraps a backend.
    pub fn from_backend(backend: Backend) -> Store {
        Store {
            backend: Arc::new(backend),
        }
    }

    /// The backend.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// `"memory"`, `"file"` or `"redis"`.
    pub fn kind(&self) -> &'static str {
        match &*self.backend {
            Backend::Memory(_) => "memory",
            Backend::File(_) => "file",
            Backend::Redis(_) => "redis",
        }
    }

    /// The value of `key`, if any.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match &*self.backend {
            Backend::Memory(s) => s.get(key),
            Backend::File(s) => s.get(key).await,
            Backend::Redis(s) => s.get(key).await,
        }
    }

    /// Sets `key` to `value`.
    pub async fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        match &*self.backend {
            Backend::Memory(s) => s.set(key, value),
            Backend::File(s) => s.set(key, value).await,
            Backend::Redis(s) => s.set(key, value).await,
        }
    }

    /// Removes `key` (nothing happens if it is missing).
    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        match &*self.backend {
            Backend::Memory(s) => s.delete(key),
            Backend::File(s) => s.delete(key).await,
            Backend::Redis(s) => s.delete(key).await,
        }
    }

    /// The values of `keys`, in order, in one round trip (Redis `MGET`, one redb read
    /// transaction); each key is read atomically, the keys together are not a snapshot on
    /// Redis.
    pub async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        match &*self.backend {
            Backend::Memory(s) => s.get_many(keys),
            Backend::File(s) => s.get_many(keys).await,
            Backend::Redis(s) => s.get_many(keys).await,
        }
    }

    /// Sets every key to its value, in one round trip and all at once (Redis `MSET`, one
    /// redb write transaction); a key given twice ends with its last value.
    pub async fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        match &*self.backend {
            Backend::Memory(s) => s.set_many(entries),
            Backend::File(s) => s.set_many(entries).await,
            Backend::Redis(s) => s.set_many(entries).await,
        }
    }

    /// Removes every key (missing ones are no error), in one round trip and all at once
    /// (Redis `DEL` of many keys, one redb write transaction).
    pub async fn delete_many(&self, keys: &[String]) -> Result<(), StoreError> {
        if keys.is_empty() {
            return Ok(());
        }
        match &*self.backend {
            Backend::Memory(s) => s.delete_many(keys),
            Backend::File(s) => s.delete_many(keys).await,
            Backend::Redis(s) => s.delete_many(keys).await,
        }
    }

    /// Makes `writes`, in order, then `then`, in one request to the backend (Redis: one
    /// script, atomic on the server; redb: one write transaction; memory: one lock); with
    /// no writes, `then` alone as its own method does it. On an error the writes may or may
    /// not have been made. Every key is in one tenant's bucket (one Redis Cluster slot).
    pub async fn write_then(&self, writes: &[Write], then: Then<'_>) -> Result<Answer, StoreError> {
        if writes.is_empty() {
            return Ok(match then {
                Then::Nothing => Answer::Nothing,
                Then::Get(k) => Answer::Value(self.get(k).await?),
                Then::Exists(k) => Answer::Exists(self.exists(k).await?),
                Then::GetMany(keys) => Answer::Values(self.get_many(keys).await?),
                Then::Increment(k, d) => Answer::Count(self.increment(k, d).await?),
            });
        }
        match &*self.backend {
            Backend::Memory(s) => s.write_then(writes, then),
            Backend::File(s) => s.write_then(writes, then).await,
            Backend::Redis(s) => s.write_then(writes, then).await,
        }
    }

    /// Whether `key` has a value.
    pub async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        match &*self.backend {
            Backend::Memory(s) => s.exists(key),
            Backend::File(s) => s.exists(key).await,
            Backend::Redis(s) => s.exists(key).await,
        }
    }

    /// Atomic add; a missing key counts as 0; the value is stored as decimal ASCII (so `get`
    /// returns e.g. `b"3"`); a value that is not a decimal u64 → [`StoreError::NotANumber`].
    ///
    /// A decimal u64 is ASCII digits without a sign or leading zeros. Redis keeps counters
    /// as signed 64-bit integers, so there the range ends at `i64::MAX`. Overflow →
    /// [`StoreError::Other`].
    pub async fn increment(&self, key: &str, delta: u64) -> Result<u64, StoreError> {
        match &*self.backend {
            Backend::Memory(s) => s.increment(key, delta),
            Backend::File(s) => s.increment(key, delta).await,
            Backend::Redis(s) => s.increment(key, delta).await,
        }
    }

    /// Keys starting with `prefix`, in sorted order, a page of at most `limit` from `cursor`
    /// (an opaque position; None = start); returns the page and the next cursor (None when
    /// there are no more keys).
    ///
    /// Memory and file: the cursor counts the keys already returned, so the pages are in
    /// one sorted order; keys inserted or deleted before the cursor between two calls
    /// shift the pages by as many. Redis: the cursor follows `SCAN`; each page is sorted,
    /// pages come in `SCAN` order, a page may be short (even empty) with more to come, and
    /// a key present throughout is returned at least once (rarely twice: see
    /// [`redis`]). `limit == 0` returns an empty page and the same position.
    pub async fn keys_with_prefix(
        &self,
        prefix: &str,
        cursor: Option<u64>,
        limit: usize,
    ) -> Result<(Vec<String>, Option<u64>), StoreError> {
        if limit == 0 {
            return Ok((Vec::new(), Some(cursor.unwrap_or(0))));
        }
        match &*self.backend {
            Backend::Memory(s) => s.keys_with_prefix(prefix, cursor, limit),
            Backend::File(s) => s.keys_with_prefix(prefix, cursor, limit).await,
            Backend::Redis(s) => s.keys_with_prefix(prefix, cursor, limit).await,
        }
    }

    /// Streams: appends `items` in order to `stream`, each under a new id greater than
    /// every id the stream gave before; with `once = Some((set, member))`, atomically with
    /// adding `member` to `set`, and only if it was not there (a delivery that must happen
    /// once per key, whoever tries it and however often, across processes for Redis).
    /// True if appended. The stream (and `set`) are kept at least `ttl` from now.
    pub async fn stream_add(
        &self,
        stream: &str,
        once: Option<(&str, &str)>,
        items: &[Vec<u8>],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let ttl = ttl.max(Duration::from_millis(1));
        match &*self.backend {
            Backend::Memory(s) => s.stream_add(stream, once, items, ttl),
            Backend::File(s) => s.stream_add(stream, once, items, ttl).await,
            Backend::Redis(s) => s.stream_add(stream, once, items, ttl).await,
        }
    }

    /// The names of streams that got entries, as other processes sharing the store add
    /// them (Redis: pub/sub, announced by the add itself); none for the stores one process
    /// holds, whose adds that process sees itself. At most once: a name can be lost (a
    /// broken subscription), so a reader still reads again now and then.
    pub fn stream_adds(&self) -> Option<tokio::sync::broadcast::Receiver<String>> {
        match &*self.backend {
            Backend::Memory(_) | Backend::File(_) => None,
            Backend::Redis(s) => Some(s.stream_adds()),
        }
    }

    /// Reads `stream` as one consumer group would, atomically (across processes for
    /// Redis): first acknowledges (removes) the delivered entries up to `ack`; then, unless
    /// a batch handed out earlier is still in flight (its `visibility` not yet over),
    /// hands out up to `max` entries from the front, in order — the unacknowledged ones of
    /// a batch whose visibility ended first, under their ids, then new ones — and puts
    /// them in flight for `visibility`. So one batch at a time is out, and each entry
    /// comes again until acknowledged: at least once, in order. `max == 0` only
    /// acknowledges. A stream neither added to nor read for `ttl` is gone.
    pub async fn stream_read(
        &self,
        stream: &str,
        ack: Option<EntryId>,
        max: usize,
        visibility: Duration,
        ttl: Duration,
    ) -> Result<Vec<Entry>, StoreError> {
        let ttl = ttl.max(Duration::from_millis(1));
        let visibility = visibility.max(Duration::from_millis(1));
        match &*self.backend {
            Backend::Memory(s) => s.stream_read(stream, ack, max, visibility, ttl),
            Backend::File(s) => s.stream_read(stream, ack, max, visibility, ttl).await,
            Backend::Redis(s) => s.stream_read(stream, ack, max, visibility, ttl).await,
        }
    }

    /// Drops the streams whose `ttl` ran out; how many. Redis expires them itself (0).
    pub async fn purge_expired(&self) -> Result<usize, StoreError> {
        match &*self.backend {
            Backend::Memory(s) => Ok(s.purge_expired()),
            Backend::File(s) => s.purge_expired().await,
            Backend::Redis(_) => Ok(0),
        }
    }

    /// Adds `member` to `set` (nothing happens if it is there).
    pub async fn set_add(&self, set: &str, member: &str) -> Result<(), StoreError> {
        match &*self.backend {
            Backend::Memory(s) => s.set_add(set, member),
            Backend::File(s) => s.set_add(set, member).await,
            Backend::Redis(s) => s.set_add(set, member).await,
        }
    }

    /// Removes `member` from `set` (nothing happens if it is not there).
    pub async fn set_remove(&self, set: &str, member: &str) -> Result<(), StoreError> {
        match &*self.backend {
            Backend::Memory(s) => s.set_remove(set, member),
            Backend::File(s) => s.set_remove(set, member).await,
            Backend::Redis(s) => s.set_remove(set, member).await,
        }
    }

    /// Removes `set` with every member.
    pub async fn set_clear(&self, set: &str) -> Result<(), StoreError> {
        match &*self.backend {
            Backend::Memory(s) => s.set_clear(set),
            Backend::File(s) => s.set_clear(set).await,
            Backend::Redis(s) => s.set_clear(set).await,
        }
    }

    /// The members of `set`, sorted.
    pub async fn set_members(&self, set: &str) -> Result<Vec<String>, StoreError> {
        match &*self.backend {
            Backend::Memory(s) => s.set_members(set),
            Backend::File(s) => s.set_members(set).await,
            Backend::Redis(s) => s.set_members(set).await,
        }
    }

    /// A lease: true if `key` was free or expired (now taken by `owner` for `ttl`) or
    /// already held by `owner` (renewed for `ttl` from now); false if someone else holds
    /// it. Across processes for Redis. A `ttl` under 1 ms counts as 1 ms. The file store
    /// measures expiry by the wall clock (it survives restarts), memory by a monotonic one.
    pub async fn try_lease(
        &self,
        key: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let ttl = ttl.max(Duration::from_millis(1));
        match &*self.backend {
            Backend::Memory(s) => s.try_lease(key, owner, ttl),
            Backend::File(s) => s.try_lease(key, owner, ttl).await,
            Backend::Redis(s) => s.try_lease(key, owner, ttl).await,
        }
    }

    /// Gives a lease up: frees `key` if `owner` holds it (true), else changes nothing
    /// (false). A draining replica's leases pass to another at once, not at their expiry.
    pub async fn release_lease(&self, key: &str, owner: &str) -> Result<bool, StoreError> {
        match &*self.backend {
            Backend::Memory(s) => s.release_lease(key, owner),
            Backend::File(s) => s.release_lease(key, owner).await,
            Backend::Redis(s) => s.release_lease(key, owner).await,
        }
    }

    /// Makes every write made so far durable before returning (file: fsync, shared by all
    /// concurrent callers; memory and Redis: nothing to do). The host calls it after each
    /// hook call, before answering.
    pub async fn sync(&self) -> Result<(), StoreError> {
        match &*self.backend {
            Backend::Memory(_) | Backend::Redis(_) => Ok(()),
            Backend::File(s) => s.sync().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Store, StoreError};

    #[tokio::test]
    async fn store_specs_choose_the_backend() {
        assert_eq!(Store::open("memory").await.unwrap().kind(), "memory");
        assert_eq!(Store::open(" memory ").await.unwrap().kind(), "memory");
        let redis = Store::open("redis://127.0.0.1:1/2").await.unwrap();
        assert_eq!(redis.kind(), "redis");
        let cluster = Store::open("redis+cluster://127.0.0.1:1,127.0.0.1:2")
            .await
            .unwrap();
        assert_eq!(cluster.kind(), "redis");
        for bad in [
            "",
            "memcached://x",
            "file:",
            "redis://",
            "sqlite:x.db",
            "redis+cluster://",
            "redis+cluster://h",
        ] {
            match Store::open(bad).await {
                Err(StoreError::Other(msg)) => assert!(!msg.is_empty()),
                other => panic!("{bad:?}: expected Other, got {other:?}"),
            }
        }
        let dir = handover_testkit::TempDir::new().unwrap();
        let spec = format!("file:{}", dir.path().join("db").display());
        let file = Store::open(&spec).await.unwrap();
        assert_eq!(file.kind(), "file");
        assert_eq!(format!("{file:?}"), "Store { kind: \"file\" }");
    }
}
