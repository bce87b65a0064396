//! In-memory ports for native tests, fuzzing and benchmarks: a KV map, a config map, a
//! clock that only moves when told, and (in `genesys.rs`) an in-process fake Genesys. All
//! thread-safe, so tests can call hooks from several threads on one shared store.

use super::fixtures;
use super::genesys::FakeGenesys;
use crate::ports::{Clock, Config, Env, Http, HttpRequest, HttpResponse, Kv};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A KV bucket in a `HashMap`; counters are decimal text, as in Redis and the host.
#[derive(Default)]
pub struct MemKv {
    /// The entries.
    pub entries: Mutex<HashMap<String, Vec<u8>>>,
    /// Yield the thread around every operation, to shake out interleavings.
    pub jitter: AtomicBool,
    /// Every call, as `op key…` (one entry per call: what a host pays one round trip for).
    pub calls: Mutex<Vec<String>>,
}

impl MemKv {
    /// A bucket that yields the thread around every operation.
    pub fn with_jitter() -> Self {
        let kv = MemKv::default();
        kv.jitter.store(true, Ordering::Relaxed);
        kv
    }

    /// Every key, sorted.
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = lock(&self.entries).keys().cloned().collect();
        keys.sort();
        keys
    }

    /// The calls made since the last `take_calls`.
    pub fn take_calls(&self) -> Vec<String> {
        std::mem::take(&mut *lock(&self.calls))
    }

    fn log(&self, op: &str, keys: &[&str]) {
        lock(&self.calls).push(format!("{op} {}", keys.join(" ")));
    }

    fn op<T>(&self, f: impl FnOnce(&mut HashMap<String, Vec<u8>>) -> T) -> T {
        let jitter = self.jitter.load(Ordering::Relaxed);
        if jitter {
            std::thread::yield_now();
        }
        let out = f(&mut lock(&self.entries));
        if jitter {
            std::thread::yield_now();
        }
        out
    }
}

impl Kv for MemKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.log("get", &[key]);
        Ok(self.op(|m| m.get(key).cloned()))
    }
    fn set(&self, key: &str, value: &[u8]) -> Result<(), String> {
        self.log("set", &[key]);
        self.op(|m| m.insert(key.to_string(), value.to_vec()));
        Ok(())
    }
    fn delete(&self, key: &str) -> Result<(), String> {
        self.log("delete", &[key]);
        self.op(|m| m.remove(key));
        Ok(())
    }
    fn increment(&self, key: &str, delta: u64) -> Result<u64, String> {
        self.log("increment", &[key]);
        self.op(|m| {
            let cur = match m.get(key) {
                None => 0,
                Some(v) => std::str::from_utf8(v)
                    .ok()
                    .and_then(|s| s.parse::<u64>().ok())
                    .ok_or_else(|| format!("value of {key:?} is not a number"))?,
            };
            let next = cur.wrapping_add(delta);
            m.insert(key.to_string(), next.to_string().into_bytes());
            Ok(next)
        })
    }
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, String> {
        let names: Vec<&str> = keys.iter().map(String::as_str).collect();
        self.log("get-many", &names);
        Ok(self.op(|m| keys.iter().map(|k| m.get(k).cloned()).collect()))
    }
    fn delete_many(&self, keys: &[String]) -> Result<(), String> {
        let names: Vec<&str> = keys.iter().map(String::as_str).collect();
        self.log("delete-many", &names);
        self.op(|m| keys.iter().for_each(|k| drop(m.remove(k))));
        Ok(())
    }
}

/// A host that stores counters as 8 little-endian bytes, not decimal text.
pub struct BinaryCounters(pub MemKv);

impl Kv for BinaryCounters {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.0.get(key)
    }
    fn set(&self, key: &str, value: &[u8]) -> Result<(), String> {
        self.0.set(key, value)
    }
    fn delete(&self, key: &str) -> Result<(), String> {
        self.0.delete(key)
    }
    fn increment(&self, key: &str, delta: u64) -> Result<u64, String> {
        let old = self.0.get(key)?.map_or(0, |v| {
            u64::from_le_bytes(v.try_into().expect("an 8-byte counter"))
        });
        self.0.set(key, &(old + delta).to_le_bytes())?;
        Ok(old + delta)
    }
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, String> {
        self.0.get_many(keys)
    }
}

/// Provider settings from a map.
#[derive(Default, Clone)]
pub struct MapConfig(pub HashMap<String, String>);

impl MapConfig {
    /// Settings that work with [`FakeGenesys`] ([`fixtures::tenant_config`]).
    pub fn working() -> Self {
        MapConfig(fixtures::tenant_config_map())
    }

    /// The same settings with `key` set to `value`.
    pub fn with(mut self, key: &str, value: &str) -> Self {
        self.0.insert(key.to_string(), value.to_string());
        self
    }
}

impl Config for MapConfig {
    fn get(&self, key: &str) -> Result<Option<String>, String> {
        Ok(self.0.get(key).cloned())
    }
}

/// A clock that only moves when told to (sleeping moves it), with sequential ids.
pub struct FixedClock {
    /// Milliseconds since the epoch.
    pub now: AtomicU64,
    /// The number in the next id.
    pub next: AtomicU64,
}

impl Default for FixedClock {
    fn default() -> Self {
        Self {
            now: AtomicU64::new(1_764_062_043_512),
            next: AtomicU64::new(1),
        }
    }
}

impl FixedClock {
    /// Move the clock forward.
    pub fn advance(&self, ms: u64) {
        self.now.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now_ms(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }
    fn new_id(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        format!("00000000-0000-4000-8000-{n:012x}")
    }
    fn sleep_ms(&self, ms: u64) {
        self.advance(ms);
    }
}

/// No network at all: every request fails.
pub struct NoHttp;

impl Http for NoHttp {
    fn send(&self, _: &HttpRequest) -> Result<HttpResponse, String> {
        Err("no network in this test".into())
    }
}

/// A fake Genesys, store, settings and clock together, shared by the threads of a test.
#[derive(Default)]
pub struct Fakes {
    /// The fake Genesys.
    pub genesys: FakeGenesys,
    /// The store.
    pub kv: MemKv,
    /// The settings ([`MapConfig::working`] unless replaced).
    pub config: MapConfig,
    /// The clock.
    pub clock: FixedClock,
}

impl Fakes {
    /// Fakes with working settings.
    pub fn working() -> Self {
        Fakes {
            config: MapConfig::working(),
            ..Fakes::default()
        }
    }

    /// The ports for one hook call.
    pub fn env(&self) -> Env<'_> {
        Env {
            http: &self.genesys,
            kv: &self.kv,
            config: &self.config,
            clock: &self.clock,
        }
    }
}
