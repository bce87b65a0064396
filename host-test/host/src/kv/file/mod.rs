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
//! - `queues`: `(stream, seq: u64)` → `&[u8]`, a stream's entries in order (the name is
//!   that of earlier releases' queues, whose items are read as entries);
//! - `streams`: `stream` → `(gen, last, delivered, lease_until, expires)`, the bookkeeping
//!   of [`super::stream`] (wall-clock milliseconds), see `streams.rs`;
//! - `sets`: a multimap `set` → `member`;
//! - `leases`: `key` → `(owner, expires_at_unix_ms: u64)`, wall-clock so they survive restarts;
//! - `meta`: `"format"` → 1.
//!
//! Writers take an async gate before redb's write lock, so they wait for each other and
//! for an fsync in flight without blocking a runtime thread; the commit itself (no fsync,
//! ~0.1 ms) then runs inline. The fsync runs on tokio's blocking pool. Reads run inline
//! (MVCC, never blocked by writers).

mod commit;
mod error;
mod streams;
#[cfg(test)]
mod tests;

use super::counter::add_to_counter;
use super::{Answer, StoreError, Then, Write};
use error::{from_redb, DbError};
use redb::{Database, Durability, MultimapTableDefinition, ReadableTable, TableDefinition};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const KV: TableDefinition<&str, &[u8]> = TableDefinition::new("kv");
const ENTRIES: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("queues");
const STREAMS: TableDefinition<&str, (u64, u64, u64, u64, u64)> = TableDefinition::new("streams");
const SETS: MultimapTableDefinition<&str, &str> = MultimapTableDefinition::new("sets");
const LEASES: TableDefinition<&str, (&str, u64)> = TableDefinition::new("leases");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// The layout version written to `meta`.
const FORMAT: u64 = 1;

/// The database's file name inside the store's directory.
pub const FILE_NAME: &str = "store.redb";

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
            tx.open_table(ENTRIES)?;
            tx.open_table(STREAMS)?;
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

    /// See [`super::Store::get_many`]: one read transaction.
    pub async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.read(|tx| {
            let table = tx.open_table(KV)?;
            let mut out = Vec::with_capacity(keys.len());
            for k in keys {
                out.push(table.get(k.as_str())?.map(|v| v.value().to_vec()));
            }
            Ok(out)
        })
    }

    /// See [`super::Store::set_many`]: one write transaction.
    pub async fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        self.write(|tx| {
            let mut table = tx.open_table(KV)?;
            for (k, v) in entries {
                table.insert(k.as_str(), v.as_slice())?;
            }
            Ok(Ok(()))
        })
        .await
    }

    /// See [`super::Store::delete_many`]: one write transaction.
    pub async fn delete_many(&self, keys: &[String]) -> Result<(), StoreError> {
        self.write(|tx| {
            let mut table = tx.open_table(KV)?;
            for k in keys {
                table.remove(k.as_str())?;
            }
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
            let stored = table.get(key)?;
            let next = match add_to_counter(key, stored.as_ref().map(|v| v.value()), delta) {
                Ok(next) => next,
                Err(e) => return Ok(Err(e)),
            };
            drop(stored);
            table.insert(key, next.to_string().as_bytes())?;
            Ok(Ok(next))
        })
        .await
    }

    /// See [`super::Store::write_then`]: one write transaction.
    pub async fn write_then(&self, writes: &[Write], then: Then<'_>) -> Result<Answer, StoreError> {
        self.write(|tx| {
            // The keys each set cleared with its keys names, removed in the key pass below
            // at that write's place in the batch.
            let mut indexed: Vec<Vec<String>> = Vec::new();
            if writes.iter().any(Write::is_set) {
                let mut sets = tx.open_multimap_table(SETS)?;
                for w in writes {
                    match w {
                        Write::SetAdd(set, m) => drop(sets.insert(set.as_str(), m.as_str())?),
                        Write::SetRemove(set, m) => drop(sets.remove(set.as_str(), m.as_str())?),
                        Write::SetClear(set) => drop(sets.remove_all(set.as_str())?),
                        Write::SetClearWithKeys(set, prefix) => {
                            let mut keys = Vec::new();
                            for m in sets.remove_all(set.as_str())? {
                                keys.push(format!("{prefix}{}", m?.value()));
                            }
                            indexed.push(keys);
                        }
                        Write::Set(..) | Write::Delete(_) | Write::DeleteIfEqual(..) => {}
                    }
                }
            }
            let mut table = tx.open_table(KV)?;
            let mut indexed = indexed.into_iter();
            for w in writes {
                match w {
                    Write::Set(k, v) => drop(table.insert(k.as_str(), v.as_slice())?),
                    Write::Delete(k) => drop(table.remove(k.as_str())?),
                    Write::DeleteIfEqual(k, v) => {
                        let holds = table.get(k.as_str())?.is_some_and(|x| x.value() == v);
                        if holds {
                            table.remove(k.as_str())?;
                        }
                    }
                    Write::SetClearWithKeys(..) => {
                        for k in indexed.next().unwrap_or_default() {
                            table.remove(k.as_str())?;
                        }
                    }
                    Write::SetAdd(..) | Write::SetRemove(..) | Write::SetClear(_) => {}
                }
            }
            let get = |k: &str| Ok::<_, DbError>(table.get(k)?.map(|v| v.value().to_vec()));
            Ok(Ok(match then {
                Then::Nothing => Answer::Nothing,
                Then::Get(k) => Answer::Value(get(k)?),
                Then::Exists(k) => Answer::Exists(get(k)?.is_some()),
                Then::GetMany(keys) => {
                    let mut out = Vec::with_capacity(keys.len());
                    for k in keys {
                        out.push(get(k)?);
                    }
                    Answer::Values(out)
                }
                Then::Increment(k, delta) => {
                    let next = match add_to_counter(k, get(k)?.as_deref(), delta) {
                        Ok(next) => next,
                        Err(e) => return Ok(Err(e)),
                    };
                    table.insert(k, next.to_string().as_bytes())?;
                    Answer::Count(next)
                }
            }))
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

    /// See [`super::Store::set_clear`].
    pub async fn set_clear(&self, set: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.open_multimap_table(SETS)?.remove_all(set)?;
            Ok(Ok(()))
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

    /// See [`super::Store::release_lease`]: the check and the removal in one transaction.
    pub async fn release_lease(&self, key: &str, owner: &str) -> Result<bool, StoreError> {
        self.write(|tx| {
            let mut table = tx.open_table(LEASES)?;
            let held = table.get(key)?.is_some_and(|v| {
                let (holder, expires) = v.value();
                holder == owner && expires > unix_ms()
            });
            if held {
                table.remove(key)?;
            }
            Ok(Ok(held))
        })
        .await
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
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
