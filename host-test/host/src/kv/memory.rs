//! The in-memory backend: one mutex over the four namespaces, gone with the process.
//! For tests, the demo and the bench. Keys are hashed (every hook call makes several
//! lookups) and sorted only when listed (rare: `list-keys` and operators' checks).

use super::counter::add_to_counter;
use super::stream::{millis, Entry, EntryId, Meta};
use super::{Answer, StoreError, Then, Write};
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Keys, streams, sets and leases in maps behind one mutex (never held across an await).
pub struct MemoryStore {
    inner: Mutex<Inner>,
    /// Stream times are milliseconds since then (monotonic).
    epoch: Instant,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore {
            inner: Mutex::default(),
            epoch: Instant::now(),
        }
    }
}

/// A stream: its entries by sequence number, and its bookkeeping.
struct Stream {
    entries: VecDeque<(u64, Vec<u8>)>,
    meta: Meta,
}

#[derive(Default)]
struct Inner {
    kv: HashMap<String, Vec<u8>>,
    streams: HashMap<String, Stream>,
    sets: HashMap<String, BTreeSet<String>>,
    /// key → (owner, expiry).
    leases: HashMap<String, (String, Instant)>,
    lease_calls: u64,
}

/// Every this many `try_lease` calls, expired leases are dropped.
const LEASE_SWEEP_EVERY: u64 = 1024;

/// Set `key` to `value`, reusing the key (and the value's buffer) when it is there.
/// Remove `member` from `set`; a set left empty is gone.
fn remove_member(sets: &mut HashMap<String, BTreeSet<String>>, set: &str, member: &str) {
    if let Some(members) = sets.get_mut(set) {
        members.remove(member);
        if members.is_empty() {
            sets.remove(set);
        }
    }
}

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

    /// See [`super::Store::get_many`]: under one lock.
    pub fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let inner = self.lock();
        Ok(keys.iter().map(|k| inner.kv.get(k).cloned()).collect())
    }

    /// See [`super::Store::set_many`]: under one lock.
    pub fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        let mut inner = self.lock();
        for (k, v) in entries {
            put(&mut inner.kv, k, v);
        }
        Ok(())
    }

    /// See [`super::Store::delete_many`]: under one lock.
    pub fn delete_many(&self, keys: &[String]) -> Result<(), StoreError> {
        let mut inner = self.lock();
        for k in keys {
            inner.kv.remove(k);
        }
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

    /// See [`super::Store::write_then`]: under one lock.
    pub fn write_then(&self, writes: &[Write], then: Then<'_>) -> Result<Answer, StoreError> {
        let mut inner = self.lock();
        for w in writes {
            match w {
                Write::Set(k, v) => put(&mut inner.kv, k, v),
                Write::Delete(k) => {
                    inner.kv.remove(k);
                }
                Write::DeleteIfEqual(k, v) => {
                    if inner.kv.get(k) == Some(v) {
                        inner.kv.remove(k);
                    }
                }
                Write::SetAdd(set, m) => {
                    inner.sets.entry(set.clone()).or_default().insert(m.clone());
                }
                Write::SetRemove(set, m) => remove_member(&mut inner.sets, set, m),
                Write::SetClear(set) => {
                    inner.sets.remove(set);
                }
                Write::SetClearWithKeys(set, prefix) => {
                    for m in inner.sets.remove(set).unwrap_or_default() {
                        inner.kv.remove(&format!("{prefix}{m}"));
                    }
                }
            }
        }
        let kv = &mut inner.kv;
        Ok(match then {
            Then::Nothing => Answer::Nothing,
            Then::Get(k) => Answer::Value(kv.get(k).cloned()),
            Then::Exists(k) => Answer::Exists(kv.contains_key(k)),
            Then::GetMany(keys) => {
                Answer::Values(keys.iter().map(|k| kv.get(k).cloned()).collect())
            }
            Then::Increment(k, delta) => {
                let next = add_to_counter(k, kv.get(k).map(Vec::as_slice), delta)?;
                put(kv, k, next.to_string().as_bytes());
                Answer::Count(next)
            }
        })
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
        remove_member(&mut self.lock().sets, set, member);
        Ok(())
    }

    fn now(&self) -> u64 {
        millis(self.epoch.elapsed())
    }

    /// See [`super::Store::stream_add`]: one lock around the check and both writes.
    pub fn stream_add(
        &self,
        stream: &str,
        once: Option<(&str, &str)>,
        items: &[Vec<u8>],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let now = self.now();
        let mut inner = self.lock();
        if let Some((set, member)) = once {
            let set = inner.sets.entry(set.to_string()).or_default();
            if !set.insert(member.to_string()) {
                return Ok(false);
            }
        }
        let s = live(&mut inner.streams, stream, now);
        for item in items {
            s.meta.last += 1;
            s.entries.push_back((s.meta.last, item.clone()));
        }
        s.meta.expires = now.saturating_add(millis(ttl));
        Ok(true)
    }

    /// See [`super::Store::stream_read`].
    pub fn stream_read(
        &self,
        stream: &str,
        ack: Option<EntryId>,
        max: usize,
        visibility: Duration,
        ttl: Duration,
    ) -> Result<Vec<Entry>, StoreError> {
        let now = self.now();
        let mut inner = self.lock();
        match inner.streams.get(stream) {
            Some(s) if s.meta.expires > now => {}
            Some(_) => {
                // Expired: gone as if purged.
                inner.streams.remove(stream);
                return Ok(Vec::new());
            }
            None => return Ok(Vec::new()),
        }
        let s = live(&mut inner.streams, stream, now);
        s.meta.expires = now.saturating_add(millis(ttl));
        if let Some(ack) = ack {
            let bound = s.meta.ack_bound(ack);
            while s.entries.front().is_some_and(|(seq, _)| *seq <= bound) {
                s.entries.pop_front();
            }
            s.meta.acked(s.entries.front().map(|e| e.0));
        }
        let first = s.entries.front().map(|e| e.0);
        if max == 0 || first.is_none() || s.meta.in_flight(first, now) {
            return Ok(Vec::new());
        }
        let batch: Vec<Entry> = s
            .entries
            .iter()
            .take(max)
            .map(|(seq, item)| Entry {
                id: s.meta.id(*seq),
                item: item.clone(),
            })
            .collect();
        if let Some(last) = batch.last() {
            s.meta.handed_out(last.id.seq, now, millis(visibility));
        }
        Ok(batch)
    }

    /// See [`super::Store::purge_expired`].
    pub fn purge_expired(&self) -> usize {
        let now = self.now();
        let mut inner = self.lock();
        let before = inner.streams.len();
        inner.streams.retain(|_, s| s.meta.expires > now);
        before - inner.streams.len()
    }

    /// How many streams are held (expired or not), for the tests.
    #[cfg(test)]
    pub(crate) fn streams_held(&self) -> usize {
        self.lock().streams.len()
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

    /// See [`super::Store::release_lease`].
    pub fn release_lease(&self, key: &str, owner: &str) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let held = inner
            .leases
            .get(key)
            .is_some_and(|(holder, expiry)| holder == owner && *expiry > Instant::now());
        if held {
            inner.leases.remove(key);
        }
        Ok(held)
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

/// The stream named `name`, made anew when it is missing or expired.
fn live<'a>(streams: &'a mut HashMap<String, Stream>, name: &str, now: u64) -> &'a mut Stream {
    let fresh = |before| Stream {
        entries: VecDeque::new(),
        meta: Meta::new(now, before),
    };
    let s = streams
        .entry(name.to_string())
        .or_insert_with(|| fresh(None));
    if s.meta.expires <= now && s.meta.last > 0 {
        *s = fresh(Some(s.meta.gen));
    }
    s
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

    /// 1 000 sessions' streams that no bot ever reads are dropped once their TTL ran out
    /// (what `serve`'s sweeper does every quarter TTL); a stream read in time stays.
    #[test]
    fn streams_nobody_collects_are_dropped_after_their_ttl() {
        use std::time::{Duration, Instant};
        let store = super::MemoryStore::new();
        let (short, day) = (Duration::from_millis(300), Duration::from_secs(86_400));
        let added = Instant::now();
        for i in 0..1000 {
            let once = Some(("done", "key"));
            let name = format!("bus/acme/s{i}");
            assert!(store
                .stream_add(&name, once.filter(|_| i == 0), &[vec![7; 200]], short)
                .unwrap());
        }
        store
            .stream_add("collected", None, &[vec![1]], short)
            .unwrap();
        store.stream_read("collected", None, 0, day, day).unwrap();
        assert_eq!(store.purge_expired(), 0, "nothing expired yet");
        assert_eq!(store.streams_held(), 1001);
        std::thread::sleep((added + short * 2).saturating_duration_since(Instant::now()));
        assert_eq!(store.purge_expired(), 1000);
        assert_eq!(store.streams_held(), 1, "only the stream read in time");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn memory_store_pages_keys_in_one_sorted_order() {
        conformance::pages_in_one_sorted_order(&Store::memory()).await;
    }
}
