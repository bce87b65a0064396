//! `wasi:keyvalue` implemented by the host: one in-memory store shared by every instance,
//! with each bucket scoped to its tenant, so writes are never lost between calls and one
//! tenant can never open another's data.

use crate::bindings::wasi::keyvalue::{atomics, store};
use crate::runtime::State;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use wasmtime::component::Resource;

/// All buckets of all tenants: `(tenant, bucket)` → key → value.
/// `(tenant, bucket)` → key → value.
type Buckets = HashMap<(String, String), HashMap<String, Vec<u8>>>;

#[derive(Clone, Default)]
pub struct KvStore {
    data: Arc<Mutex<Buckets>>,
}

impl KvStore {
    /// A snapshot of one tenant's bucket (for tests and tools).
    pub fn dump(&self, tenant: &str, bucket: &str) -> HashMap<String, Vec<u8>> {
        let data = self.data.lock().unwrap();
        data.get(&(tenant.to_string(), bucket.to_string()))
            .cloned()
            .unwrap_or_default()
    }

    fn with<R>(&self, b: &Bucket, f: impl FnOnce(&mut HashMap<String, Vec<u8>>) -> R) -> R {
        let mut data = self.data.lock().unwrap();
        f(data.entry((b.tenant.clone(), b.name.clone())).or_default())
    }
}

/// An open bucket: the tenant comes from the store the instance runs in, never the guest.
pub struct Bucket {
    tenant: String,
    name: String,
}

type KvResult<T> = wasmtime::Result<Result<T, store::Error>>;

impl store::Host for State {
    fn open(&mut self, identifier: String) -> KvResult<Resource<Bucket>> {
        if identifier.is_empty() || identifier.len() > 256 {
            return Ok(Err(store::Error::NoSuchStore));
        }
        let b = Bucket {
            tenant: self.tenant.clone(),
            name: identifier,
        };
        Ok(Ok(self.table.push(b)?))
    }
}

impl store::HostBucket for State {
    fn get(&mut self, b: Resource<Bucket>, key: String) -> KvResult<Option<Vec<u8>>> {
        let b = self.table.get(&b)?;
        Ok(Ok(self.kv.with(b, |m| m.get(&key).cloned())))
    }

    fn set(&mut self, b: Resource<Bucket>, key: String, value: Vec<u8>) -> KvResult<()> {
        let b = self.table.get(&b)?;
        self.kv.with(b, |m| m.insert(key, value));
        Ok(Ok(()))
    }

    fn delete(&mut self, b: Resource<Bucket>, key: String) -> KvResult<()> {
        let b = self.table.get(&b)?;
        self.kv.with(b, |m| m.remove(&key));
        Ok(Ok(()))
    }

    fn exists(&mut self, b: Resource<Bucket>, key: String) -> KvResult<bool> {
        let b = self.table.get(&b)?;
        Ok(Ok(self.kv.with(b, |m| m.contains_key(&key))))
    }

    fn list_keys(
        &mut self,
        b: Resource<Bucket>,
        cursor: Option<u64>,
    ) -> KvResult<store::KeyResponse> {
        let b = self.table.get(&b)?;
        let mut keys: Vec<String> = self.kv.with(b, |m| m.keys().cloned().collect());
        keys.sort();
        let start = cursor.unwrap_or(0) as usize;
        const PAGE: usize = 1000;
        let page: Vec<String> = keys.iter().skip(start).take(PAGE).cloned().collect();
        let next = (start + PAGE < keys.len()).then_some((start + PAGE) as u64);
        Ok(Ok(store::KeyResponse {
            keys: page,
            cursor: next,
        }))
    }

    fn drop(&mut self, b: Resource<Bucket>) -> wasmtime::Result<()> {
        self.table.delete(b)?;
        Ok(())
    }
}

impl atomics::Host for State {
    fn increment(&mut self, b: Resource<Bucket>, key: String, delta: u64) -> KvResult<u64> {
        let b = self.table.get(&b)?;
        Ok(self.kv.with(b, |m| {
            let cur = match m.get(&key) {
                None => 0,
                Some(v) => match std::str::from_utf8(v)
                    .ok()
                    .and_then(|s| s.parse::<u64>().ok())
                {
                    Some(n) => n,
                    None => {
                        return Err(store::Error::Other(format!(
                            "value of {key:?} is not a number"
                        )))
                    }
                },
            };
            let next = cur.wrapping_add(delta);
            m.insert(key, next.to_string().into_bytes());
            Ok(next)
        }))
    }
}
