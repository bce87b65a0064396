//! `wasi:keyvalue` (store and atomics) implemented by the host over the shared [`Store`]:
//! each bucket is scoped to the tenant of the running call, so one tenant can never open
//! another's data, and every instance and replica sees the same writes.

use crate::bindings::wasi::keyvalue::{atomics, store};
use crate::kv::{Store, StoreError};
use crate::runtime::State;
use wasmtime::component::Resource;

/// An open bucket: the tenant comes from the call's store, never from the guest.
pub struct Bucket {
    prefix: String,
}

/// Where the component's data of `tenant` lives in the store.
pub fn tenant_prefix(tenant: &str) -> String {
    format!("c/{tenant}/")
}

/// Where the component's data of `tenant` in `bucket` lives in the store.
pub fn bucket_prefix(tenant: &str, bucket: &str) -> String {
    format!("{}{bucket}/", tenant_prefix(tenant))
}

/// Every key the component stored for `tenant` (any bucket), without the scoping prefix;
/// for tests and operators checking what is left.
pub async fn component_keys(kv: &Store, tenant: &str) -> Result<Vec<String>, StoreError> {
    let prefix = tenant_prefix(tenant);
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let (page, next) = kv.keys_with_prefix(&prefix, cursor, 1000).await?;
        out.extend(page.into_iter().map(|k| k[prefix.len()..].to_string()));
        match next {
            Some(c) => cursor = Some(c),
            None => {
                // A store may list a key twice across pages (Redis SCAN); never skips one.
                out.sort();
                out.dedup();
                return Ok(out);
            }
        }
    }
}

fn kv_error(e: StoreError) -> store::Error {
    store::Error::Other(e.to_string())
}

type KvResult<T> = wasmtime::Result<Result<T, store::Error>>;

impl store::Host for State {
    async fn open(&mut self, identifier: String) -> KvResult<Resource<Bucket>> {
        if identifier.is_empty() || identifier.len() > 256 || identifier.contains('/') {
            return Ok(Err(store::Error::NoSuchStore));
        }
        let prefix = bucket_prefix(&self.tenant.name, &identifier);
        Ok(Ok(self.table.push(Bucket { prefix })?))
    }
}

impl State {
    fn key(&self, b: &Resource<Bucket>, key: &str) -> wasmtime::Result<String> {
        let prefix = &self.table.get(b)?.prefix;
        let mut scoped = String::with_capacity(prefix.len() + key.len());
        scoped.push_str(prefix);
        scoped.push_str(key);
        Ok(scoped)
    }
}

impl store::HostBucket for State {
    async fn get(&mut self, b: Resource<Bucket>, key: String) -> KvResult<Option<Vec<u8>>> {
        let key = self.key(&b, &key)?;
        Ok(self.kv.get(&key).await.map_err(kv_error))
    }

    async fn set(&mut self, b: Resource<Bucket>, key: String, value: Vec<u8>) -> KvResult<()> {
        let key = self.key(&b, &key)?;
        Ok(self.kv.set(&key, &value).await.map_err(kv_error))
    }

    async fn delete(&mut self, b: Resource<Bucket>, key: String) -> KvResult<()> {
        let key = self.key(&b, &key)?;
        Ok(self.kv.delete(&key).await.map_err(kv_error))
    }

    async fn exists(&mut self, b: Resource<Bucket>, key: String) -> KvResult<bool> {
        let key = self.key(&b, &key)?;
        Ok(self.kv.exists(&key).await.map_err(kv_error))
    }

    async fn list_keys(
        &mut self,
        b: Resource<Bucket>,
        cursor: Option<u64>,
    ) -> KvResult<store::KeyResponse> {
        let prefix = self.key(&b, "")?;
        Ok(
            match self.kv.keys_with_prefix(&prefix, cursor, 1000).await {
                Ok((keys, cursor)) => Ok(store::KeyResponse {
                    keys: keys
                        .into_iter()
                        .map(|k| k[prefix.len()..].to_string())
                        .collect(),
                    cursor,
                }),
                Err(e) => Err(kv_error(e)),
            },
        )
    }

    async fn drop(&mut self, b: Resource<Bucket>) -> wasmtime::Result<()> {
        self.table.delete(b)?;
        Ok(())
    }
}

impl atomics::Host for State {
    async fn increment(&mut self, b: Resource<Bucket>, key: String, delta: u64) -> KvResult<u64> {
        let key = self.key(&b, &key)?;
        Ok(self.kv.increment(&key, delta).await.map_err(kv_error))
    }
}
