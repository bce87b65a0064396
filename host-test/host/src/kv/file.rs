//! The file backend: one redb database, `DIR/store.redb`, the default store of `serve`.
//!
//! Every operation is its own write transaction, committed with `Durability::None`: it is
//! visible at once to later reads in this process but not yet on disk. [`FileStore::sync`]
//! makes everything committed so far durable with one `Durability::Immediate` commit
//! (an fsync); concurrent `sync` calls are coalesced, so one fsync serves every caller
//! that arrived before it started (group commit), and a `sync` with nothing new to flush
//! costs nothing. A process killed with `kill -9` loses only what was never synced; redb
//! repairs the file on the next open. Only one process may have the file open (redb's
//! file lock); a second gets [`StoreError::Other`] saying so.
//!
//! Tables (each namespace its own, so they never collide):
//! - `kv`: `&str` → `&[u8]`, the plain keys;
//! - `queues`: `(queue, seq: u64)` → `&[u8]`, FIFO by `seq`;
//! - `sets`: a multimap `set` → `member`;
//! - `leases`: `key` → `(owner, expires_at_unix_ms: u64)`, wall-clock so they survive restarts;
//! - `meta`: `"format"` → 1.
//!
//! Writers take an async gate before redb's write lock, so they wait for each other and
//! for an fsync in flight without blocking a runtime thread; the commit itself (no fsync,
//! ~0.1 ms) then runs inline. The fsync runs on tokio's blocking pool. Reads run inline
//! (MVCC, never blocked by writers).

use super::{overflow, parse_counter, StoreError};
use redb::{
    Database, Durability, MultimapTableDefinition, ReadableTable, TableDefinition, WriteTransaction,
};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::OwnedMutexGuard;

const KV: TableDefinition<&str, &[u8]> = TableDefinition::new("kv");
const QUEUES: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("queues");
const SETS: MultimapTableDefinition<&str, &str> = MultimapTableDefinition::new("sets");
const LEASES: TableDefinition<&str, (&str, u64)> = TableDefinition::new("leases");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// The layout version written to `meta`.
const FORMAT: u64 = 1;

/// The database's file name inside the store's directory.
pub const FILE_NAME: &str = "store.redb";

/// After this many commits without a durable one, the next write commits durably by
/// itself, so a caller that never syncs cannot grow the file without bound (redb frees
/// pages only in durable commits).
const AUTO_SYNC_EVERY: u64 = 4096;

/// Every this many `try_lease` calls, expired leases are deleted (in that call's
/// transaction), so leases on keys never used again do not pile up.
const LEASE_SWEEP_EVERY: u64 = 1024;

/// redb's page cache.
const CACHE_BYTES: usize = 64 << 20;

/// A redb-backed store; see the module doc.
pub struct FileStore {
    shared: Arc<Shared>,
    /// Every write transaction (and the fsync) is made holding this gate, so writers wait
    /// for each other, and for an fsync in flight, asynchronously instead of blocking in
    /// redb's `begin_write`. Callers of `sync` queued behind an fsync find their writes
    /// covered by it and return (group commit).
    gate: Arc<tokio::sync::Mutex<()>>,
    lease_calls: AtomicU64,
}

struct Shared {
    db: Database,
    path: PathBuf,
    /// How many write transactions have begun (counted under the gate, so in commit
    /// order).
    written: AtomicU64,
    /// Every write transaction up to this sequence number is durable.
    synced: AtomicU64,
    /// Durable commits (fsyncs) made by `sync` or by a write's automatic one.
    durable_commits: AtomicU64,
}

impl FileStore {
    /// Opens (creating if needed) `dir/store.redb`, repairing it if a process died with it
    /// open. Fails if another process has it open.
    pub fn open(dir: &Path) -> Result<FileStore, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Unavailable(format!(
                "cannot create the store directory {}: {e}",
                dir.display()
            ))
        })?;
        let path = dir.join(FILE_NAME);
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(&path)
            .map_err(|e| match e {
                redb::DatabaseError::DatabaseAlreadyOpen => StoreError::Other(format!(
                    "the file store {} is already open in another process \
                     (only one process may use a file store; use redis:// to share)",
                    path.display()
                )),
                e => from_redb(&path, e.into()),
            })?;
        let shared = Shared {
            db,
            path,
            written: AtomicU64::new(0),
            synced: AtomicU64::new(0),
            durable_commits: AtomicU64::new(0),
        };
        // Create every table (so reads never meet a missing one) and check the format.
        let mut tx = shared.db.begin_write().map_err(|e| shared.err(e))?;
        tx.set_durability(Durability::Immediate);
        let format = (|| -> Result<Option<u64>, DbError> {
            tx.open_table(KV)?;
            tx.open_table(QUEUES)?;
            tx.open_multimap_table(SETS)?;
            tx.open_table(LEASES)?;
            let mut meta = tx.open_table(META)?;
            let found = meta.get("format")?.map(|v| v.value());
            if found.is_none() {
                meta.insert("format", FORMAT)?;
            }
            Ok(found)
        })()
        .map_err(|e| shared.err(e))?;
        if let Some(found) = format.filter(|f| *f != FORMAT) {
            return Err(StoreError::Corrupt(format!(
                "{} has layout version {found}, this host knows {FORMAT}",
                shared.path.display()
            )));
        }
        tx.commit().map_err(|e| shared.err(e))?;
        Ok(FileStore {
            shared: Arc::new(shared),
            gate: Arc::new(tokio::sync::Mutex::new(())),
            lease_calls: AtomicU64::new(1),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// How many durable commits (fsyncs) this handle has made since it was opened.
    pub fn durable_commits(&self) -> u64 {
        self.shared.durable_commits.load(Ordering::Relaxed)
    }

    /// See [`super::Store::get`].
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|tx| {
            let table = tx.open_table(KV)?;
            let value = table.get(key)?.map(|v| v.value().to_vec());
            Ok(value)
        })
    }

    /// See [`super::Store::set`].
    pub async fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.open_table(KV)?.insert(key, value)?;
            Ok(Ok(()))
        })
        .await
    }

    /// See [`super::Store::delete`].
    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.open_table(KV)?.remove(key)?;
            Ok(Ok(()))
        })
        .await
    }

    /// See [`super::Store::exists`].
    pub async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        self.read(|tx| Ok(tx.open_table(KV)?.get(key)?.is_some()))
    }

    /// See [`super::Store::increment`].
    pub async fn increment(&self, key: &str, delta: u64) -> Result<u64, StoreError> {
        self.write(|tx| {
            let mut table = tx.open_table(KV)?;
            let current = match table.get(key)? {
                Some(v) => match parse_counter(key, v.value()) {
                    Ok(n) => n,
                    Err(e) => return Ok(Err(e)),
                },
                None => 0,
            };
            let Some(next) = current.checked_add(delta) else {
                return Ok(Err(overflow(key)));
            };
            table.insert(key, next.to_string().as_bytes())?;
            Ok(Ok(next))
        })
        .await
    }

    /// See [`super::Store::keys_with_prefix`]: the cursor is the number of matching keys
    /// before the page.
    pub async fn keys_with_prefix(
        &self,
        prefix: &str,
        cursor: Option<u64>,
        limit: usize,
    ) -> Result<(Vec<String>, Option<u64>), StoreError> {
        let skip = cursor.unwrap_or(0);
        self.read(|tx| {
            let table = tx.open_table(KV)?;
            let mut page = Vec::new();
            let mut more = false;
            let mut seen = 0u64;
            for entry in table.range(prefix..)? {
                let (k, _) = entry?;
                let k = k.value();
                if !k.starts_with(prefix) {
                    break;
                }
                seen += 1;
                if seen <= skip {
                    continue;
                }
                if page.len() == limit {
                    more = true;
                    break;
                }
                page.push(k.to_string());
            }
            let next = more.then(|| skip + page.len() as u64);
            Ok((page, next))
        })
    }

    /// See [`super::Store::push`].
    pub async fn push(&self, queue: &str, items: &[Vec<u8>]) -> Result<(), StoreError> {
        self.write(|tx| {
            let mut table = tx.open_table(QUEUES)?;
            let last = table
                .range((queue, 0u64)..=(queue, u64::MAX))?
                .next_back()
                .transpose()?
                .map(|(k, _)| k.value().1);
            let first = last.map_or(0, |s| s + 1);
            for (seq, item) in (first..).zip(items) {
                table.insert((queue, seq), item.as_slice())?;
            }
            Ok(Ok(()))
        })
        .await
    }

    /// See [`super::Store::pop`].
    pub async fn pop(&self, queue: &str, max: usize) -> Result<Vec<Vec<u8>>, StoreError> {
        self.write(|tx| {
            let mut table = tx.open_table(QUEUES)?;
            let mut taken = Vec::new();
            for entry in table.range((queue, 0u64)..=(queue, u64::MAX))?.take(max) {
                let (k, v) = entry?;
                taken.push((k.value().1, v.value().to_vec()));
            }
            for (seq, _) in &taken {
                table.remove((queue, *seq))?;
            }
            Ok(Ok(taken.into_iter().map(|(_, v)| v).collect()))
        })
        .await
    }

    /// See [`super::Store::set_add`].
    pub async fn set_add(&self, set: &str, member: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.open_multimap_table(SETS)?.insert(set, member)?;
            Ok(Ok(()))
        })
        .await
    }

    /// See [`super::Store::set_remove`].
    pub async fn set_remove(&self, set: &str, member: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.open_multimap_table(SETS)?.remove(set, member)?;
            Ok(Ok(()))
        })
        .await
    }

    /// See [`super::Store::set_members`]: sorted, as redb keeps them.
    pub async fn set_members(&self, set: &str) -> Result<Vec<String>, StoreError> {
        self.read(|tx| {
            let table = tx.open_multimap_table(SETS)?;
            let mut members = Vec::new();
            for member in table.get(set)? {
                members.push(member?.value().to_string());
            }
            Ok(members)
        })
    }

    /// See [`super::Store::try_lease`]; expiry is wall-clock milliseconds.
    pub async fn try_lease(
        &self,
        key: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.write(|tx| {
            let now = unix_ms();
            let mut table = tx.open_table(LEASES)?;
            let free = match table.get(key)? {
                Some(held) => {
                    let (holder, expires) = held.value();
                    holder == owner || expires <= now
                }
                None => true,
            };
            if free {
                let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
                let expires = now.saturating_add(ttl_ms);
                table.insert(key, (owner, expires))?;
            }
            if self
                .lease_calls
                .fetch_add(1, Ordering::Relaxed)
                .is_multiple_of(LEASE_SWEEP_EVERY)
            {
                table.retain(|_, (_, expires)| expires > now)?;
            }
            Ok(Ok(free))
        })
        .await
    }

    /// See [`super::Store::sync`]: one durable commit for everything committed before it
    /// began, shared by every caller queued behind the one in flight.
    pub async fn sync(&self) -> Result<(), StoreError> {
        let target = self.shared.written.load(Ordering::SeqCst);
        if self.shared.synced.load(Ordering::SeqCst) >= target {
            return Ok(());
        }
        let gate = self.gate.clone().lock_owned().await;
        // The fsync that ran while we queued covered our writes, which were done before.
        if self.shared.synced.load(Ordering::SeqCst) >= target {
            return Ok(());
        }
        self.durable_commit(gate).await.map(drop)
    }

    /// An empty `Durability::Immediate` commit on the blocking pool, which makes every
    /// earlier commit durable. The gate stays held until it is done, even if the caller
    /// stops waiting.
    async fn durable_commit(
        &self,
        gate: OwnedMutexGuard<()>,
    ) -> Result<OwnedMutexGuard<()>, StoreError> {
        let shared = self.shared.clone();
        blocking(move || {
            let mut tx = shared.db.begin_write().map_err(|e| shared.err(e))?;
            // Every transaction numbered so far has finished (they hold the gate too).
            let upto = shared.written.load(Ordering::SeqCst);
            tx.set_durability(Durability::Immediate);
            tx.commit().map_err(|e| shared.err(e))?;
            shared.synced.fetch_max(upto, Ordering::SeqCst);
            shared.durable_commits.fetch_add(1, Ordering::Relaxed);
            Ok(gate)
        })
        .await
    }

    fn read<T>(
        &self,
        f: impl FnOnce(&redb::ReadTransaction) -> Result<T, DbError>,
    ) -> Result<T, StoreError> {
        let tx = self
            .shared
            .db
            .begin_read()
            .map_err(|e| self.shared.err(e))?;
        f(&tx).map_err(|e| self.shared.err(e))
    }

    /// Runs `f` in its own write transaction, committed without an fsync, holding the
    /// gate (so redb's write lock is free and nothing here blocks on another writer). `f`
    /// returns `Ok(Err(_))` to abort with a store error of its own. If too many commits
    /// are pending, a durable commit runs first, on the blocking pool.
    async fn write<T>(
        &self,
        f: impl FnOnce(&WriteTransaction) -> Result<Result<T, StoreError>, DbError>,
    ) -> Result<T, StoreError> {
        let mut gate = self.gate.clone().lock_owned().await;
        let shared = &self.shared;
        let pending = (shared.written.load(Ordering::SeqCst))
            .saturating_sub(shared.synced.load(Ordering::SeqCst));
        if pending >= AUTO_SYNC_EVERY {
            gate = self.durable_commit(gate).await?;
        }
        let mut tx = shared.db.begin_write().map_err(|e| shared.err(e))?;
        shared.written.fetch_add(1, Ordering::SeqCst);
        tx.set_durability(Durability::None);
        let out = match f(&tx).map_err(|e| shared.err(e))? {
            Ok(out) => out,
            Err(e) => {
                let _ = tx.abort();
                return Err(e);
            }
        };
        tx.commit().map_err(|e| shared.err(e))?;
        drop(gate);
        Ok(out)
    }
}

impl Shared {
    fn err(&self, e: impl Into<DbError>) -> StoreError {
        from_redb(&self.path, *e.into().0)
    }
}

/// Any redb error, boxed (redb's own error type is large).
struct DbError(Box<redb::Error>);

impl<E: Into<redb::Error>> From<E> for DbError {
    fn from(e: E) -> DbError {
        DbError(Box::new(e.into()))
    }
}

/// Maps a redb error; redb's messages carry no stored values.
fn from_redb(path: &Path, e: redb::Error) -> StoreError {
    let path = path.display();
    match e {
        redb::Error::Corrupted(msg) => StoreError::Corrupt(format!("{path}: {msg}")),
        redb::Error::Io(e) => StoreError::Unavailable(format!("{path}: I/O error: {e}")),
        redb::Error::PreviousIo => StoreError::Unavailable(format!(
            "{path}: an earlier I/O error left the database unusable until it is reopened"
        )),
        redb::Error::DatabaseAlreadyOpen => {
            StoreError::Other(format!("{path} is already open in another process"))
        }
        redb::Error::UpgradeRequired(v) => StoreError::Corrupt(format!(
            "{path} is in redb file format {v}, which this redb cannot open"
        )),
        e @ (redb::Error::TableTypeMismatch { .. }
        | redb::Error::TableIsMultimap(_)
        | redb::Error::TableIsNotMultimap(_)
        | redb::Error::TypeDefinitionChanged { .. }) => {
            StoreError::Corrupt(format!("{path}: unexpected table layout: {e}"))
        }
        e => StoreError::Other(format!("{path}: {e}")),
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(StoreError::Other(format!("file store task failed: {e}"))))
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::super::{conformance, Backend, Store, StoreError};
    use super::FileStore;
    use handover_testkit::{Child, TempDir};
    use std::io::{BufRead, BufReader, Write};
    use std::path::Path;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    fn file_store(store: &Store) -> &FileStore {
        match store.backend() {
            Backend::File(f) => f,
            _ => unreachable!(),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn file_store_passes_the_conformance_suite() {
        let dir = TempDir::new().unwrap();
        conformance::run_all(&Store::open_file(dir.path()).unwrap()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn file_store_pages_keys_in_one_sorted_order() {
        let dir = TempDir::new().unwrap();
        conformance::pages_in_one_sorted_order(&Store::open_file(dir.path()).unwrap()).await;
    }

    #[tokio::test]
    async fn synced_writes_survive_reopening() {
        let dir = TempDir::new().unwrap();
        let store = Store::open_file(&dir.join("nested/dir")).unwrap();
        store.set("k", b"v").await.unwrap();
        assert_eq!(store.increment("n", 2).await.unwrap(), 2);
        store
            .push("q", &[b"1".to_vec(), b"2".to_vec()])
            .await
            .unwrap();
        store.set_add("s", "m").await.unwrap();
        assert!(store
            .try_lease("l", "me", Duration::from_secs(60))
            .await
            .unwrap());
        store.sync().await.unwrap();
        drop(store);

        let store = Store::open_file(&dir.join("nested/dir")).unwrap();
        assert_eq!(store.get("k").await.unwrap(), Some(b"v".to_vec()));
        assert_eq!(store.increment("n", 1).await.unwrap(), 3);
        assert_eq!(
            store.pop("q", 10).await.unwrap(),
            [b"1".to_vec(), b"2".to_vec()]
        );
        assert_eq!(store.set_members("s").await.unwrap(), ["m"]);
        assert!(!store
            .try_lease("l", "you", Duration::from_secs(60))
            .await
            .unwrap());
        assert!(store
            .try_lease("l", "me", Duration::from_secs(60))
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn unsynced_writes_may_be_lost_but_the_store_reopens() {
        let dir = TempDir::new().unwrap();
        let store = Store::open_file(dir.path()).unwrap();
        store.set("synced", b"1").await.unwrap();
        store.sync().await.unwrap();
        store.set("unsynced", b"2").await.unwrap();
        drop(store);
        let store = Store::open_file(dir.path()).unwrap();
        assert_eq!(store.get("synced").await.unwrap(), Some(b"1".to_vec()));
        // Allowed either way; it must only read cleanly.
        let _ = store.get("unsynced").await.unwrap();
    }

    #[tokio::test]
    async fn a_second_opener_is_refused_clearly() {
        let dir = TempDir::new().unwrap();
        let first = Store::open_file(dir.path()).unwrap();
        match Store::open_file(dir.path()) {
            Err(StoreError::Other(msg)) => {
                assert!(msg.contains("already open"), "{msg}");
                assert!(msg.contains("store.redb"), "{msg}");
            }
            other => panic!("expected Other, got {other:?}"),
        }
        drop(first);
        Store::open_file(dir.path()).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_syncs_share_fsyncs() {
        let dir = TempDir::new().unwrap();
        let store = Store::open_file(dir.path()).unwrap();
        let before = file_store(&store).durable_commits();
        store.sync().await.unwrap();
        assert_eq!(
            file_store(&store).durable_commits(),
            before,
            "nothing new to flush"
        );
        let tasks: Vec<_> = (0..64)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    store.set(&format!("k{i}"), b"v").await.unwrap();
                    store.sync().await.unwrap();
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let fsyncs = file_store(&store).durable_commits() - before;
        assert!((1..32).contains(&fsyncs), "{fsyncs} fsyncs for 64 syncs");
    }

    #[tokio::test]
    async fn many_unsynced_writes_commit_durably_by_themselves() {
        let dir = TempDir::new().unwrap();
        let store = Store::open_file(dir.path()).unwrap();
        for i in 0..super::AUTO_SYNC_EVERY + 10 {
            store.set(&format!("k{}", i % 16), b"v").await.unwrap();
        }
        assert!(file_store(&store).durable_commits() >= 1);
    }

    #[tokio::test]
    async fn expired_leases_are_swept() {
        use redb::ReadableTableMetadata;
        let dir = TempDir::new().unwrap();
        let store = Store::open_file(dir.path()).unwrap();
        let count = || {
            let tx = file_store(&store).shared.db.begin_read().unwrap();
            tx.open_table(super::LEASES).unwrap().len().unwrap()
        };
        store
            .try_lease("keep", "o", Duration::from_secs(60))
            .await
            .unwrap();
        for i in 0..1500 {
            let ttl = Duration::from_millis(1);
            store.try_lease(&format!("l{i}"), "o", ttl).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        for _ in 0..=super::LEASE_SWEEP_EVERY {
            store
                .try_lease("last", "o", Duration::from_secs(60))
                .await
                .unwrap();
        }
        assert_eq!(count(), 2, "only the unexpired leases are left");
    }

    const KILL9_DIR: &str = "GOM_KV_KILL9_DIR";

    /// Not a test by itself: the child of `every_acknowledged_write_survives_kill_9`, which
    /// re-executes this test binary with `GOM_KV_KILL9_DIR` set. Four tasks write, sync and
    /// print `ack TASK I` until killed (or for 60 s at most).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn kill9_child_writer() {
        let Ok(dir) = std::env::var(KILL9_DIR) else {
            return;
        };
        let store = Store::open_file(Path::new(&dir)).unwrap();
        let started = Instant::now();
        let tasks: Vec<_> = (0..4)
            .map(|t| {
                let store = store.clone();
                tokio::spawn(async move {
                    let mut i = 0u64;
                    while started.elapsed() < Duration::from_secs(60) {
                        i += 1;
                        let item = format!("{t}/{i}");
                        store
                            .set(&format!("acked/{item}"), item.as_bytes())
                            .await
                            .unwrap();
                        store.increment("acked/count", 1).await.unwrap();
                        store
                            .push("acked", &[item.clone().into_bytes()])
                            .await
                            .unwrap();
                        store.set_add("acked", &item).await.unwrap();
                        store.sync().await.unwrap();
                        let mut out = std::io::stdout().lock();
                        writeln!(out, "ack {item}").unwrap();
                        out.flush().unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    }

    /// Runs the child writer, kills it with SIGKILL mid-flight, and checks every write it
    /// acknowledged (printed after `sync`) is in the reopened store. Twice on one database.
    #[tokio::test]
    async fn every_acknowledged_write_survives_kill_9() {
        let dir = TempDir::new().unwrap();
        let mut acked: Vec<String> = Vec::new();
        for round in 0..2 {
            let mut child = Child::new(
                Command::new(std::env::current_exe().unwrap())
                    .args(["kill9_child_writer", "--nocapture", "--test-threads=1"])
                    .env(KILL9_DIR, dir.path())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap(),
            );
            let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut this_round = 0;
            while this_round < 400 && Instant::now() < deadline {
                match lines.next() {
                    Some(line) => {
                        if let Some(item) = line.unwrap().strip_prefix("ack ") {
                            acked.push(item.to_string());
                            this_round += 1;
                        }
                    }
                    None => panic!("the child writer ended by itself in round {round}"),
                }
            }
            assert!(this_round > 0, "no acknowledgement within 20 s");
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            // Whatever it printed before dying was acknowledged too.
            for line in lines {
                if let Some(item) = line.unwrap().strip_prefix("ack ") {
                    acked.push(item.to_string());
                }
            }

            let store = Store::open_file(dir.path()).unwrap();
            for item in &acked {
                let got = store.get(&format!("acked/{item}")).await.unwrap();
                assert_eq!(
                    got.as_deref(),
                    Some(item.as_bytes()),
                    "lost acked write {item}"
                );
            }
            let count = store.get("acked/count").await.unwrap().unwrap();
            let count: usize = String::from_utf8(count).unwrap().parse().unwrap();
            assert!(
                count >= acked.len(),
                "counter {count} < {} acks",
                acked.len()
            );
            let members = store.set_members("acked").await.unwrap();
            for item in &acked {
                assert!(members.binary_search(item).is_ok(), "set lost {item}");
            }
            // Peek at the queue without consuming it: pop all, check, push back.
            let queued = store.pop("acked", usize::MAX).await.unwrap();
            let queued: std::collections::BTreeSet<String> = queued
                .iter()
                .map(|i| String::from_utf8(i.clone()).unwrap())
                .collect();
            for item in &acked {
                assert!(queued.contains(item), "queue lost {item}");
            }
            let back: Vec<Vec<u8>> = queued.into_iter().map(String::into_bytes).collect();
            store.push("acked", &back).await.unwrap();
            store.sync().await.unwrap();
            eprintln!(
                "round {round}: {} acknowledged writes all present",
                acked.len()
            );
        }
    }
}
