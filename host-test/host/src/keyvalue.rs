//! `wasi:keyvalue` (store, atomics and batch) over the shared [`Store`], as wasmtime's own
//! `wasi-keyvalue` crate is built: a context per call ([`WasiKeyValueCtx`]), a view of it
//! and the resource table ([`WasiKeyValue`]) implementing the interfaces, and
//! [`add_to_linker`]. Buckets are scoped to the context's tenant, so one tenant can never
//! open another's data, and every instance and replica sees the same writes.

use crate::kv::{Store, StoreError};
use crate::round_trips::{self, RoundTrips};
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

/// The `wasi:keyvalue` interfaces the component imports, generated here with the bucket
/// resource as this module's [`Bucket`]; the world's bindings take them from here (`with:`),
/// as they take `wasi:http` from wasmtime's crate.
#[allow(missing_docs)]
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit/deps/keyvalue",
        inline: "
            package host:keyvalue;
            world imports {
                import wasi:keyvalue/store@0.2.0-draft;
                import wasi:keyvalue/atomics@0.2.0-draft;
                import wasi:keyvalue/batch@0.2.0-draft;
            }
        ",
        imports: { default: async | trappable },
        with: {
            "wasi:keyvalue/store.bucket": crate::keyvalue::Bucket,
        },
    });
}

pub use bindings::wasi::keyvalue::{atomics, batch, store};

/// An open bucket: the tenant comes from the call's context, never from the guest.
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

/// What `wasi:keyvalue` needs for one call: the shared store, the tenant that scopes
/// every bucket opened in it, and the call's tally of store round trips, if it is counted
/// (each store operation of the guest is one).
pub struct WasiKeyValueCtx {
    store: Store,
    tenant: String,
    round_trips: Option<RoundTrips>,
}

impl WasiKeyValueCtx {
    /// A context over `store` whose buckets belong to `tenant`.
    pub fn new(store: Store, tenant: &str) -> Self {
        Self {
            store,
            tenant: tenant.to_string(),
            round_trips: None,
        }
    }

    /// The same context, counting every store operation of the guest on `trips`.
    pub fn counting(mut self, trips: Option<RoundTrips>) -> Self {
        self.round_trips = trips;
        self
    }

    /// The store behind the buckets.
    pub fn store(&self) -> &Store {
        &self.store
    }
}

/// A view of a [`WasiKeyValueCtx`] and the resource table its buckets live in; what the
/// linker's closure returns.
pub struct WasiKeyValue<'a> {
    ctx: &'a WasiKeyValueCtx,
    table: &'a mut ResourceTable,
}

impl<'a> WasiKeyValue<'a> {
    /// A view of `ctx` with its buckets in `table`.
    pub fn new(ctx: &'a WasiKeyValueCtx, table: &'a mut ResourceTable) -> Self {
        Self { ctx, table }
    }

    /// The store, for one operation: counted as one round trip.
    fn store(&self) -> &Store {
        round_trips::one(self.ctx.round_trips.as_ref());
        &self.ctx.store
    }

    fn key(&self, b: &Resource<Bucket>, key: &str) -> wasmtime::Result<String> {
        let prefix = &self.table.get(b)?.prefix;
        let mut scoped = String::with_capacity(prefix.len() + key.len());
        scoped.push_str(prefix);
        scoped.push_str(key);
        Ok(scoped)
    }
}

/// Link `wasi:keyvalue/store`, `wasi:keyvalue/atomics` and `wasi:keyvalue/batch`, reached
/// through `f`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    f: fn(&mut T) -> WasiKeyValue<'_>,
) -> wasmtime::Result<()> {
    store::add_to_linker::<T, HasWasiKeyValue>(linker, f)?;
    atomics::add_to_linker::<T, HasWasiKeyValue>(linker, f)?;
    batch::add_to_linker::<T, HasWasiKeyValue>(linker, f)?;
    Ok(())
}

struct HasWasiKeyValue;

impl HasData for HasWasiKeyValue {
    type Data<'a> = WasiKeyValue<'a>;
}

impl store::Host for WasiKeyValue<'_> {
    async fn open(&mut self, identifier: String) -> KvResult<Resource<Bucket>> {
        if identifier.is_empty() || identifier.len() > 256 || identifier.contains('/') {
            return Ok(Err(store::Error::NoSuchStore));
        }
        let prefix = bucket_prefix(&self.ctx.tenant, &identifier);
        Ok(Ok(self.table.push(Bucket { prefix })?))
    }
}

impl store::HostBucket for WasiKeyValue<'_> {
    async fn get(&mut self, b: Resource<Bucket>, key: String) -> KvResult<Option<Vec<u8>>> {
        let key = self.key(&b, &key)?;
        Ok(self.store().get(&key).await.map_err(kv_error))
    }

    async fn set(&mut self, b: Resource<Bucket>, key: String, value: Vec<u8>) -> KvResult<()> {
        let key = self.key(&b, &key)?;
        Ok(self.store().set(&key, &value).await.map_err(kv_error))
    }

    async fn delete(&mut self, b: Resource<Bucket>, key: String) -> KvResult<()> {
        let key = self.key(&b, &key)?;
        Ok(self.store().delete(&key).await.map_err(kv_error))
    }

    async fn exists(&mut self, b: Resource<Bucket>, key: String) -> KvResult<bool> {
        let key = self.key(&b, &key)?;
        Ok(self.store().exists(&key).await.map_err(kv_error))
    }

    async fn list_keys(
        &mut self,
        b: Resource<Bucket>,
        cursor: Option<u64>,
    ) -> KvResult<store::KeyResponse> {
        let prefix = self.key(&b, "")?;
        Ok(
            match self.store().keys_with_prefix(&prefix, cursor, 1000).await {
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

impl atomics::Host for WasiKeyValue<'_> {
    async fn increment(&mut self, b: Resource<Bucket>, key: String, delta: u64) -> KvResult<u64> {
        let key = self.key(&b, &key)?;
        Ok(self.store().increment(&key, delta).await.map_err(kv_error))
    }
}

/// Each call is one store round trip: `MGET`, `MSET` or one `DEL` on Redis, one redb
/// transaction, one lock in memory.
impl batch::Host for WasiKeyValue<'_> {
    async fn get_many(
        &mut self,
        b: Resource<Bucket>,
        keys: Vec<String>,
    ) -> KvResult<Vec<Option<(String, Vec<u8>)>>> {
        let scoped = keys
            .iter()
            .map(|k| self.key(&b, k))
            .collect::<wasmtime::Result<Vec<_>>>()?;
        Ok(match self.store().get_many(&scoped).await {
            Ok(values) => Ok(keys
                .into_iter()
                .zip(values)
                .map(|(k, v)| v.map(|v| (k, v)))
                .collect()),
            Err(e) => Err(kv_error(e)),
        })
    }

    async fn set_many(
        &mut self,
        b: Resource<Bucket>,
        key_values: Vec<(String, Vec<u8>)>,
    ) -> KvResult<()> {
        let mut scoped = Vec::with_capacity(key_values.len());
        for (k, v) in key_values {
            scoped.push((self.key(&b, &k)?, v));
        }
        Ok(self.store().set_many(&scoped).await.map_err(kv_error))
    }

    async fn delete_many(&mut self, b: Resource<Bucket>, keys: Vec<String>) -> KvResult<()> {
        let scoped = keys
            .iter()
            .map(|k| self.key(&b, k))
            .collect::<wasmtime::Result<Vec<_>>>()?;
        Ok(self.store().delete_many(&scoped).await.map_err(kv_error))
    }
}
