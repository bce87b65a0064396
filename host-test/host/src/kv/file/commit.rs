//! How the file store's operations meet redb: each read in its own read transaction,
//! each write in its own unsynced write transaction behind the async gate, and `sync` as
//! one shared fsync for every write before it (group commit).

use super::error::DbError;
use super::{FileStore, StoreError};
use redb::{Durability, WriteTransaction};
use std::sync::atomic::Ordering;
use tokio::sync::OwnedMutexGuard;

/// After this many commits without a durable one, the next write commits durably by
/// itself, so a caller that never syncs cannot grow the file without bound (redb frees
/// pages only in durable commits).
pub(super) const AUTO_SYNC_EVERY: u64 = 4096;

impl FileStore {
    /// See [`crate::kv::Store::sync`]: one durable commit for everything committed before it
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

    pub(super) fn read<T>(
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
    pub(super) async fn write<T>(
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

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(StoreError::Other(format!("file store task failed: {e}"))))
}
