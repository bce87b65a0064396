//! The host's storage layer: one [`Store`], three backends chosen by one flag,
//! `--kv memory|file:DIR|redis://HOST:PORT[/DB]`, each with four separate namespaces (keys,
//! queues, sets, leases); the [file](mod@file) and [redis](mod@redis) modules show their layouts.

pub mod file;
pub mod memory;
pub mod redis;

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
    /// A Redis server, shared by any number of processes.
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

    /// Opens the store a `--kv` flag names: `memory`, `file:DIR` or `redis://…`.
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
        } else if spec.starts_with("redis://")
            || spec.starts_with("rediss://")
            || spec.starts_with("redis+unix://")
            || spec.starts_with("unix://")
        {
            Store::open_redis(spec).await
        } else {
            Err(StoreError::Other(format!(
                "unknown store `{spec}`: expected `memory`, `file:DIR` or `redis://HOST:PORT[/DB]`"
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

    /// FIFO queues: appends `items` in order to `queue`.
    pub async fn push(&self, queue: &str, items: &[Vec<u8>]) -> Result<(), StoreError> {
        if items.is_empty() {
            return Ok(());
        }
        match &*self.backend {
            Backend::Memory(s) => s.push(queue, items),
            Backend::File(s) => s.push(queue, items).await,
            Backend::Redis(s) => s.push(queue, items).await,
        }
    }

    /// Removes and returns up to `max` items from the front of `queue`; every pushed item
    /// is popped by exactly one caller (across processes for Redis).
    pub async fn pop(&self, queue: &str, max: usize) -> Result<Vec<Vec<u8>>, StoreError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        match &*self.backend {
            Backend::Memory(s) => s.pop(queue, max),
            Backend::File(s) => s.pop(queue, max).await,
            Backend::Redis(s) => s.pop(queue, max).await,
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

/// Parses a stored counter: ASCII digits, no sign, no leading zeros (except `0` itself).
pub(crate) fn parse_counter(key: &str, value: &[u8]) -> Result<u64, StoreError> {
    let canonical = !value.is_empty()
        && value.iter().all(u8::is_ascii_digit)
        && (value.len() == 1 || value[0] != b'0');
    let parsed = canonical
        .then(|| std::str::from_utf8(value).ok()?.parse::<u64>().ok())
        .flatten();
    parsed.ok_or_else(|| not_a_number(key))
}

pub(crate) fn not_a_number(key: &str) -> StoreError {
    StoreError::NotANumber(format!("the value of `{key}` is not a decimal u64"))
}

pub(crate) fn overflow(key: &str) -> StoreError {
    StoreError::Other(format!("incrementing `{key}` would overflow"))
}

/// The behaviour every backend must show; each backend's tests run it on a fresh store.
#[cfg(test)]
pub(crate) mod conformance {
    use super::{Store, StoreError};
    use std::collections::BTreeSet;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    /// Every check below, on one fresh store.
    pub(crate) async fn run_all(store: &Store) {
        plain_keys(store).await;
        counters(store).await;
        key_pages(store).await;
        queues(store).await;
        queue_hands_each_item_to_one_popper(store).await;
        sets(store).await;
        namespaces_are_separate(store).await;
        concurrent_increments(store).await;
        leases(store).await;
        store.sync().await.unwrap();
    }

    pub(crate) async fn plain_keys(store: &Store) {
        assert_eq!(store.get("plain/a").await.unwrap(), None);
        assert!(!store.exists("plain/a").await.unwrap());
        store.set("plain/a", b"one").await.unwrap();
        assert_eq!(
            store.get("plain/a").await.unwrap().as_deref(),
            Some(&b"one"[..])
        );
        assert!(store.exists("plain/a").await.unwrap());
        store.set("plain/a", b"two").await.unwrap();
        assert_eq!(
            store.get("plain/a").await.unwrap().as_deref(),
            Some(&b"two"[..])
        );
        store.set("plain/empty", b"").await.unwrap();
        assert_eq!(store.get("plain/empty").await.unwrap(), Some(Vec::new()));
        assert!(store.exists("plain/empty").await.unwrap());
        let binary: Vec<u8> = (0..=255).collect();
        store.set("plain/binary", &binary).await.unwrap();
        assert_eq!(store.get("plain/binary").await.unwrap(), Some(binary));
        let long = format!("plain/{}", "é*?[]\\".repeat(200));
        store.set(&long, b"x").await.unwrap();
        assert_eq!(store.get(&long).await.unwrap(), Some(b"x".to_vec()));
        store.delete("plain/a").await.unwrap();
        assert_eq!(store.get("plain/a").await.unwrap(), None);
        assert!(!store.exists("plain/a").await.unwrap());
        store.delete("plain/never").await.unwrap();
    }

    pub(crate) async fn counters(store: &Store) {
        assert_eq!(store.increment("count/a", 5).await.unwrap(), 5);
        assert_eq!(store.get("count/a").await.unwrap(), Some(b"5".to_vec()));
        assert_eq!(store.increment("count/a", 0).await.unwrap(), 5);
        assert_eq!(store.increment("count/a", 10).await.unwrap(), 15);
        assert_eq!(store.get("count/a").await.unwrap(), Some(b"15".to_vec()));
        store.set("count/set", b"41").await.unwrap();
        assert_eq!(store.increment("count/set", 1).await.unwrap(), 42);
        store.set("count/zero", b"0").await.unwrap();
        assert_eq!(store.increment("count/zero", 3).await.unwrap(), 3);
        for bad in [
            &b"secret-value"[..],
            b"-3",
            b"1.5",
            b"",
            b" 7",
            b"+7",
            b"007",
            b"7\n",
        ] {
            store.set("count/bad", bad).await.unwrap();
            match store.increment("count/bad", 1).await {
                Err(StoreError::NotANumber(msg)) => {
                    assert!(!msg.contains("secret"), "message shows the value: {msg}");
                    assert!(msg.contains("count/bad"), "message names the key: {msg}");
                }
                other => panic!("{:?}: expected NotANumber, got {other:?}", bad),
            }
            assert_eq!(store.get("count/bad").await.unwrap().as_deref(), Some(bad));
        }
        store.set("count/big", b"1").await.unwrap();
        assert!(matches!(
            store.increment("count/big", u64::MAX).await,
            Err(StoreError::Other(_))
        ));
        assert_eq!(store.get("count/big").await.unwrap(), Some(b"1".to_vec()));
    }

    /// Every page of `prefix` with `limit`, from the start.
    pub(crate) async fn all_pages(store: &Store, prefix: &str, limit: usize) -> Vec<Vec<String>> {
        let mut pages = Vec::new();
        let mut cursor = None;
        for _ in 0..10_000 {
            let (page, next) = store.keys_with_prefix(prefix, cursor, limit).await.unwrap();
            assert!(
                page.len() <= limit,
                "page of {} > limit {limit}",
                page.len()
            );
            assert!(
                page.windows(2).all(|w| w[0] < w[1]),
                "page not sorted: {page:?}"
            );
            assert!(page.iter().all(|k| k.starts_with(prefix)), "{page:?}");
            pages.push(page);
            match next {
                Some(n) => cursor = Some(n),
                None => return pages,
            }
        }
        panic!("keys_with_prefix({prefix:?}) never ended");
    }

    pub(crate) async fn key_pages(store: &Store) {
        let expected: Vec<String> = (0..25).map(|i| format!("page/{i:02}")).collect();
        for k in &expected {
            store.set(k, b"v").await.unwrap();
        }
        for k in ["page", "pagex", "pag", "pagf/1"] {
            store.set(k, b"v").await.unwrap();
        }
        for limit in [1, 7, 25, 100] {
            let pages = all_pages(store, "page/", limit).await;
            let all: Vec<String> = pages.concat();
            let unique: BTreeSet<String> = all.iter().cloned().collect();
            assert_eq!(
                unique.into_iter().collect::<Vec<_>>(),
                expected,
                "limit {limit}"
            );
        }
        assert_eq!(
            all_pages(store, "nothing/", 10).await.concat(),
            Vec::<String>::new()
        );
        let (page, next) = store.keys_with_prefix("page/", None, 0).await.unwrap();
        assert!(page.is_empty());
        assert_eq!(next, Some(0));
        // Glob characters in a prefix match only themselves.
        for k in [
            "glob*[x]?\\1",
            "glob*zz",
            "globxzz",
            "glob?a",
            "glob[x]",
            "globx]",
        ] {
            store.set(k, b"v").await.unwrap();
        }
        let found = |prefix: &'static str| async move {
            let mut keys = all_pages(store, prefix, 3).await.concat();
            keys.sort();
            keys.dedup();
            keys
        };
        assert_eq!(found("glob*").await, ["glob*[x]?\\1", "glob*zz"]);
        assert_eq!(found("glob?").await, ["glob?a"]);
        assert_eq!(found("glob*[x]?\\").await, ["glob*[x]?\\1"]);
        assert_eq!(found("glob[").await, ["glob[x]"]);
    }

    /// Memory and file: one sorted order across pages, exact counts, None after the last.
    pub(crate) async fn pages_in_one_sorted_order(store: &Store) {
        let expected: Vec<String> = (0..30).map(|i| format!("o/{i:03}")).collect();
        for k in expected.iter().rev() {
            store.set(k, b"v").await.unwrap();
        }
        store.set("o0", b"v").await.unwrap();
        for limit in [1, 7, 10, 30, 31] {
            let pages = all_pages(store, "o/", limit).await;
            assert_eq!(pages.concat(), expected, "limit {limit}");
            let full = 30 / limit;
            assert!(
                pages.len() == full || pages.len() == full + 1,
                "limit {limit}"
            );
            assert!(pages[..pages.len() - 1].iter().all(|p| p.len() == limit));
        }
        let (page, next) = store.keys_with_prefix("o/", Some(28), 10).await.unwrap();
        assert_eq!(page, ["o/028", "o/029"]);
        assert_eq!(next, None);
        let (page, next) = store.keys_with_prefix("o/", Some(99), 10).await.unwrap();
        assert!(page.is_empty());
        assert_eq!(next, None);
    }

    pub(crate) async fn queues(store: &Store) {
        let item = |s: &str| s.as_bytes().to_vec();
        store
            .push("jobs", &[item("a"), item("b"), item("c")])
            .await
            .unwrap();
        store.push("jobs", &[vec![0, 255, 10]]).await.unwrap();
        store.push("jobs", &[]).await.unwrap();
        assert_eq!(store.pop("jobs", 0).await.unwrap(), Vec::<Vec<u8>>::new());
        assert_eq!(store.pop("jobs", 2).await.unwrap(), [item("a"), item("b")]);
        assert_eq!(
            store.pop("jobs", 10).await.unwrap(),
            [item("c"), vec![0, 255, 10]]
        );
        assert!(store.pop("jobs", 10).await.unwrap().is_empty());
        assert!(store.pop("never-pushed", 3).await.unwrap().is_empty());
        // A queue emptied and filled again keeps its order.
        store.push("jobs", &[item("d")]).await.unwrap();
        store.push("jobs", &[item("e")]).await.unwrap();
        assert_eq!(store.pop("jobs", 1).await.unwrap(), [item("d")]);
        store.push("jobs", &[item("f")]).await.unwrap();
        assert_eq!(store.pop("jobs", 5).await.unwrap(), [item("e"), item("f")]);
        // Queues are separate from each other.
        store.push("jobs/1", &[item("x")]).await.unwrap();
        store.push("jobs/2", &[item("y")]).await.unwrap();
        assert_eq!(store.pop("jobs/2", 5).await.unwrap(), [item("y")]);
        assert_eq!(store.pop("jobs/1", 5).await.unwrap(), [item("x")]);
    }

    /// 1000 items pushed in batches while 8 tasks pop: each is popped exactly once, and
    /// each popper sees its items in push order.
    pub(crate) async fn queue_hands_each_item_to_one_popper(store: &Store) {
        const ITEMS: u32 = 1000;
        let done = Arc::new(AtomicBool::new(false));
        let pusher = {
            let (store, done) = (store.clone(), done.clone());
            tokio::spawn(async move {
                for batch in (0..ITEMS).collect::<Vec<_>>().chunks(50) {
                    let items: Vec<Vec<u8>> =
                        batch.iter().map(|i| i.to_string().into_bytes()).collect();
                    store.push("work", &items).await.unwrap();
                    tokio::task::yield_now().await;
                }
                done.store(true, Ordering::SeqCst);
            })
        };
        let poppers: Vec<_> = (0..8)
            .map(|_| {
                let (store, done) = (store.clone(), done.clone());
                tokio::spawn(async move {
                    let mut got = Vec::new();
                    loop {
                        let finished = done.load(Ordering::SeqCst);
                        let items = store.pop("work", 7).await.unwrap();
                        if items.is_empty() {
                            if finished {
                                return got;
                            }
                            tokio::time::sleep(Duration::from_millis(1)).await;
                        }
                        for i in items {
                            got.push(String::from_utf8(i).unwrap().parse::<u32>().unwrap());
                        }
                    }
                })
            })
            .collect();
        pusher.await.unwrap();
        let mut all = Vec::new();
        for popper in poppers {
            let got = popper.await.unwrap();
            assert!(got.windows(2).all(|w| w[0] < w[1]), "out of order: {got:?}");
            all.extend(got);
        }
        assert_eq!(all.len(), ITEMS as usize, "items popped twice or lost");
        all.sort_unstable();
        assert_eq!(all, (0..ITEMS).collect::<Vec<_>>());
    }

    pub(crate) async fn sets(store: &Store) {
        assert!(store.set_members("team").await.unwrap().is_empty());
        store.set_add("team", "bob").await.unwrap();
        store.set_add("team", "alice").await.unwrap();
        store.set_add("team", "alice").await.unwrap();
        store.set_add("other", "carol").await.unwrap();
        assert_eq!(store.set_members("team").await.unwrap(), ["alice", "bob"]);
        store.set_remove("team", "alice").await.unwrap();
        store.set_remove("team", "nobody").await.unwrap();
        store.set_remove("nothing", "nobody").await.unwrap();
        assert_eq!(store.set_members("team").await.unwrap(), ["bob"]);
        store.set_remove("team", "bob").await.unwrap();
        assert!(store.set_members("team").await.unwrap().is_empty());
        assert_eq!(store.set_members("other").await.unwrap(), ["carol"]);
    }

    /// The same name in all four namespaces: none sees the others.
    pub(crate) async fn namespaces_are_separate(store: &Store) {
        let name = "ns/x";
        store.set(name, b"value").await.unwrap();
        store.push(name, &[b"item".to_vec()]).await.unwrap();
        store.set_add(name, "member").await.unwrap();
        assert!(store
            .try_lease(name, "owner", Duration::from_secs(60))
            .await
            .unwrap());
        assert_eq!(
            store.keys_with_prefix("ns/", None, 10).await.unwrap().0,
            [name]
        );
        assert_eq!(store.get(name).await.unwrap(), Some(b"value".to_vec()));
        assert_eq!(store.set_members(name).await.unwrap(), ["member"]);
        assert_eq!(store.pop(name, 10).await.unwrap(), [b"item".to_vec()]);
        store.delete(name).await.unwrap();
        assert_eq!(store.set_members(name).await.unwrap(), ["member"]);
        assert!(!store
            .try_lease(name, "other", Duration::from_secs(60))
            .await
            .unwrap());
        // Names that look like another namespace's internal key stay plain keys.
        for k in ["q:ns/x", "s:ns/x", "l:ns/x", "gom:q:ns/x"] {
            assert_eq!(store.get(k).await.unwrap(), None);
        }
    }

    /// 16 tasks × 100 increments of one key: 1600, every returned value distinct.
    pub(crate) async fn concurrent_increments(store: &Store) {
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    let mut seen = Vec::with_capacity(100);
                    for _ in 0..100 {
                        seen.push(store.increment("count/shared", 1).await.unwrap());
                    }
                    seen
                })
            })
            .collect();
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all.sort_unstable();
        assert_eq!(all, (1..=1600).collect::<Vec<u64>>());
        assert_eq!(
            store.get("count/shared").await.unwrap(),
            Some(b"1600".to_vec())
        );
    }

    pub(crate) async fn leases(store: &Store) {
        let ttl = Duration::from_millis(600);
        assert!(store.try_lease("lease/a", "one", ttl).await.unwrap());
        assert!(!store.try_lease("lease/a", "two", ttl).await.unwrap());
        assert!(
            store.try_lease("lease/b", "two", ttl).await.unwrap(),
            "leases are per key"
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
        // Renewed at 400 ms: held until 1000 ms, past the first expiry at 600 ms.
        assert!(store.try_lease("lease/a", "one", ttl).await.unwrap());
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(
            !store.try_lease("lease/a", "two", ttl).await.unwrap(),
            "renewal extends"
        );
        assert!(
            store.try_lease("lease/b", "one", ttl).await.unwrap(),
            "b expired at 600 ms"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        // Expired at 1000 ms: anyone may take it, and the old owner is then refused.
        assert!(store.try_lease("lease/a", "two", ttl).await.unwrap());
        assert!(!store.try_lease("lease/a", "one", ttl).await.unwrap());
        // A zero TTL counts as 1 ms: taken, and free again soon after.
        assert!(store
            .try_lease("lease/c", "one", Duration::ZERO)
            .await
            .unwrap());
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(store.try_lease("lease/c", "two", ttl).await.unwrap());
    }

    /// Mean and 99th-percentile latency of each operation over `n` sequential calls, on
    /// every backend (Redis if installed). Run by hand:
    /// `cargo test -p genesys-om-host --lib kv::conformance::per_op_latency -- --ignored --nocapture`
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "a measurement, not a check"]
    async fn per_op_latency() {
        let n: usize = std::env::var("KV_TIMING_OPS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(10_000);
        let dir = handover_testkit::TempDir::new().unwrap();
        let redis = handover_testkit::RedisServer::available()
            .then(|| handover_testkit::RedisServer::start().unwrap());
        let mut stores = vec![Store::memory(), Store::open_file(dir.path()).unwrap()];
        if let Some(server) = &redis {
            stores.push(Store::open_redis(&server.url()).await.unwrap());
        }
        for store in &stores {
            let value = vec![7u8; 256];
            macro_rules! time {
                ($name:expr, |$i:ident| $op:expr) => {{
                    let mut took = Vec::with_capacity(n);
                    let all = std::time::Instant::now();
                    for $i in 0..n {
                        let t = std::time::Instant::now();
                        $op;
                        took.push(t.elapsed());
                    }
                    let total = all.elapsed();
                    took.sort_unstable();
                    eprintln!(
                        "{:<6} {:<22} mean {:>8.1} µs   p99 {:>8.1} µs",
                        store.kind(),
                        $name,
                        total.as_secs_f64() * 1e6 / n as f64,
                        took[n * 99 / 100].as_secs_f64() * 1e6,
                    );
                }};
            }
            time!("set (256 B)", |i| store
                .set(&format!("t/{i}"), &value)
                .await
                .unwrap());
            time!("get", |i| store.get(&format!("t/{i}")).await.unwrap());
            time!("exists", |i| store.exists(&format!("t/{i}")).await.unwrap());
            time!("increment", |_i| store.increment("t/n", 1).await.unwrap());
            time!("push (1 item)", |_i| store
                .push("t/q", std::slice::from_ref(&value))
                .await
                .unwrap());
            time!("pop (1 item)", |_i| store.pop("t/q", 1).await.unwrap());
            time!("set_add", |i| store
                .set_add("t/s", &format!("m{}", i % 100))
                .await
                .unwrap());
            time!("try_lease", |i| store
                .try_lease(&format!("t/l{}", i % 100), "me", Duration::from_secs(5))
                .await
                .unwrap());
            time!("keys_with_prefix (50)", |_i| store
                .keys_with_prefix("t/1", None, 50)
                .await
                .unwrap());
            time!("set + sync", |i| {
                store.set(&format!("t/{i}"), &value).await.unwrap();
                store.sync().await.unwrap()
            });
            time!("sync (nothing new)", |_i| store.sync().await.unwrap());
        }
    }

    #[tokio::test]
    async fn store_specs_choose_the_backend() {
        assert_eq!(Store::open("memory").await.unwrap().kind(), "memory");
        assert_eq!(Store::open(" memory ").await.unwrap().kind(), "memory");
        let redis = Store::open("redis://127.0.0.1:1/2").await.unwrap();
        assert_eq!(redis.kind(), "redis");
        for bad in ["", "memcached://x", "file:", "redis://", "sqlite:x.db"] {
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

    #[test]
    fn counters_parse_only_canonical_decimals() {
        use super::parse_counter;
        assert_eq!(parse_counter("k", b"0").unwrap(), 0);
        assert_eq!(
            parse_counter("k", b"18446744073709551615").unwrap(),
            u64::MAX
        );
        for bad in [
            &b"18446744073709551616"[..],
            b"01",
            b"",
            b"-1",
            b"1e3",
            b"\xff",
        ] {
            assert!(matches!(
                parse_counter("k", bad),
                Err(StoreError::NotANumber(_))
            ));
        }
    }
}
