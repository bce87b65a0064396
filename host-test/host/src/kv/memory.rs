//! The in-memory backend: one mutex over the four namespaces, gone with the process.
//! For tests, the demo and the bench. Keys are hashed (every hook call makes several
//! lookups) and sorted only when listed (rare: `list-keys` and operators' checks).

use super::counter::add_to_counter;
use super::StoreError;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Keys, queues, sets and leases in maps behind one mutex (never held across an await).
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    kv: HashMap<String, Vec<u8>>,
    queues: HashMap<String, VecDeque<Vec<u8>>>,
    sets: HashMap<String, BTreeSet<String>>,
    /// key → (owner, expiry).
    leases: HashMap<String, (String, Instant)>,
    lease_calls: u64,
}

/// Every this many `try_lease` calls, expired leases are dropped.
const LEASE_SWEEP_EVERY: u64 = 1024;

/// Set `key` to `value`, reusing the key (and the value's buffer) when it is there.
fn put(kv: &mut HashMap<String, Vec<u8>>, key: &str, value: &[u8]) {
    match kv.get_mut(key) {
        Some(v) => {
            v.clear();
            v.extend_from_slice(value);
        }
        None => {
            kv.insert(key.to_string(), value.to_vec());
        }
    }
}

impl MemoryStore {
    /// A new, empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a map half-updated (each operation
        // is one map call or checks before it writes), so poisoning is ignored.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// See [`super::Store::get`].
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock().kv.get(key).cloned())
    }

    /// See [`super::Store::set`].
    pub fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        put(&mut self.lock().kv, key, value);
        Ok(())
    }

    /// See [`super::Store::delete`].
    pub fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.lock().kv.remove(key);
        Ok(())
    }

    /// See [`super::Store::exists`].
    pub fn exists(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self.lock().kv.contains_key(key))
    }

    /// See [`super::Store::increment`].
    pub fn increment(&self, key: &str, delta: u64) -> Result<u64, StoreError> {
        let mut inner = self.lock();
        let next = add_to_counter(key, inner.kv.get(key).map(Vec::as_slice), delta)?;
        put(&mut inner.kv, key, next.to_string().as_bytes());
        Ok(next)
    }

    /// See [`super::Store::keys_with_prefix`]: the cursor is the number of matching keys
    /// before the page.
    pub fn keys_with_prefix(
        &self,
        prefix: &str,
        cursor: Option<u64>,
        limit: usize,
    ) -> Result<(Vec<String>, Option<u64>), StoreError> {
        let mut keys: Vec<String> = {
            let inner = self.lock();
            let matching = inner.kv.keys().filter(|k| k.starts_with(prefix));
            matching.cloned().collect()
        };
        keys.sort_unstable();
        let skip = usize::try_from(cursor.unwrap_or(0)).unwrap_or(usize::MAX);
        // One more than the page holds tells whether another page follows.
        let mut page: Vec<String> = keys
            .into_iter()
            .skip(skip)
            .take(limit.saturating_add(1))
            .collect();
        let more = page.len() > limit;
        page.truncate(limit);
        let next = more.then(|| (skip + page.len()) as u64);
        Ok((page, next))
    }

    /// See [`super::Store::push`].
    pub fn push(&self, queue: &str, items: &[Vec<u8>]) -> Result<(), StoreError> {
        self.lock()
            .queues
            .entry(queue.to_string())
            .or_default()
            .extend(items.iter().cloned());
        Ok(())
    }

    /// See [`super::Store::pop`].
    pub fn pop(&self, queue: &str, max: usize) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut inner = self.lock();
        let Some(q) = inner.queues.get_mut(queue) else {
            return Ok(Vec::new());
        };
        let n = max.min(q.len());
        let items: Vec<Vec<u8>> = q.drain(..n).collect();
        if q.is_empty() {
            inner.queues.remove(queue);
        }
        Ok(items)
    }

    /// See [`super::Store::set_add`].
    pub fn set_add(&self, set: &str, member: &str) -> Result<(), StoreError> {
        self.lock()
            .sets
            .entry(set.to_string())
            .or_default()
            .insert(member.to_string());
        Ok(())
    }

    /// See [`super::Store::set_remove`].
    pub fn set_remove(&self, set: &str, member: &str) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if let Some(s) = inner.sets.get_mut(set) {
            s.remove(member);
            if s.is_empty() {
                inner.sets.remove(set);
            }
        }
        Ok(())
    }

    /// See [`super::Store::push_once`]: one lock around the check and both writes.
    pub fn push_once(
        &self,
        queue: &str,
        set: &str,
        member: &str,
        items: &[Vec<u8>],
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        if !inner
            .sets
            .entry(set.to_string())
            .or_default()
            .insert(member.to_string())
        {
            return Ok(false);
        }
        inner
            .queues
            .entry(queue.to_string())
            .or_default()
            .extend(items.iter().cloned());
        Ok(true)
    }

    /// See [`super::Store::set_clear`].
    pub fn set_clear(&self, set: &str) -> Result<(), StoreError> {
        self.lock().sets.remove(set);
        Ok(())
    }

    /// See [`super::Store::set_members`].
    pub fn set_members(&self, set: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .lock()
            .sets
            .get(set)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default())
    }

    /// See [`super::Store::try_lease`].
    pub fn try_lease(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        let now = Instant::now();
        let mut inner = self.lock();
        inner.lease_calls += 1;
        if inner.lease_calls.is_multiple_of(LEASE_SWEEP_EVERY) {
            inner.leases.retain(|_, (_, expiry)| *expiry > now);
        }
        match inner.leases.get_mut(key) {
            Some((holder, expiry)) if *expiry > now && holder != owner => Ok(false),
            Some((holder, expiry)) => {
                if holder != owner {
                    *holder = owner.to_string();
                }
                *expiry = now + ttl;
                Ok(true)
            }
            None => {
                inner
                    .leases
                    .insert(key.to_string(), (owner.to_string(), now + ttl));
                Ok(true)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{conformance, Store};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn memory_store_passes_the_conformance_suite() {
        conformance::run_all(&Store::memory()).await;
    }

    #[test]
    fn expired_leases_are_swept() {
        use std::time::Duration;
        let store = super::MemoryStore::new();
        let (short, long) = (Duration::from_millis(1), Duration::from_secs(60));
        store.try_lease("keep", "o", long).unwrap();
        for i in 0..1500 {
            store.try_lease(&format!("l{i}"), "o", short).unwrap();
        }
        std::thread::sleep(Duration::from_millis(5));
        for _ in 0..=super::LEASE_SWEEP_EVERY {
            store.try_lease("last", "o", long).unwrap();
        }
        let left = store.lock().leases.len();
        assert_eq!(left, 2, "only the unexpired leases are left");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn memory_store_pages_keys_in_one_sorted_order() {
        conformance::pages_in_one_sorted_order(&Store::memory()).await;
    }
}
