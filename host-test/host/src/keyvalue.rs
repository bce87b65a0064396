//! `wasi:keyvalue` (store, atomics and batch) over the shared [`Store`], as wasmtime's own
//! `wasi-keyvalue` crate is built: a context per call ([`WasiKeyValueCtx`]), a view of it
//! and the resource table ([`WasiKeyValue`]) implementing the interfaces, and
//! [`add_to_linker`]. Buckets are scoped to the context's tenant, so one tenant can never
//! open another's data, and every instance and replica sees the same writes. Writes are
//! held back and sent with the call's next read ([`WriteBehind`]).

use crate::kv::{Answer, Store, StoreError, Then, Write};
use crate::round_trips::{self, RoundTrips};
use crate::write_behind::WriteBehind;
use std::future::Future;
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

/// A store answering a read with another kind of answer (never, with this host's stores).
fn mismatch(_: Answer) -> store::Error {
    store::Error::Other("the store answered another question".into())
}

type KvResult<T> = wasmtime::Result<Result<T, store::Error>>;

/// What `wasi:keyvalue` needs for one call: the shared store with the call's held-back
/// writes, the tenant that scopes every bucket opened in it, and the call's tally of store
/// round trips, if it is counted (each request to the store is one).
pub struct WasiKeyValueCtx {
    writes: WriteBehind,
    tenant: String,
    round_trips: Option<RoundTrips>,
}

impl WasiKeyValueCtx {
    /// A context over `store` whose buckets belong to `tenant`.
    pub fn new(store: Store, tenant: &str) -> Self {
        Self {
            writes: WriteBehind::new(store, None),
            tenant: tenant.to_string(),
            round_trips: None,
        }
    }

    /// The same context, counting every request to the store on `trips`.
    pub fn counting(mut self, trips: Option<RoundTrips>) -> Self {
        self.writes = WriteBehind::new(self.writes.store().clone(), trips.clone());
        self.round_trips = trips;
        self
    }

    /// The store behind the buckets.
    pub fn store(&self) -> &Store {
        self.writes.store()
    }

    /// The call's held-back writes: sent before its outgoing requests and its answer.
    pub fn writes(&self) -> &WriteBehind {
        &self.writes
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

    /// `then`, after the call's held-back writes, in one round trip.
    fn then<'t>(
        &self,
        then: Then<'t>,
    ) -> impl Future<Output = Result<Answer, store::Error>> + Send + 't
    where
        'a: 't,
    {
        let writes = &self.ctx.writes;
        async move { writes.then(then).await.map_err(kv_error) }
    }

    /// Holds `writes` back until the call's next read, request or answer.
    fn write(&self, writes: Vec<Write>) -> impl Future<Output = KvResult<()>> + Send + 'a {
        let held = &self.ctx.writes;
        async move { Ok(held.write(writes).await.map_err(kv_error)) }
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
        Ok(self.then(Then::Get(&key)).await.and_then(|a| match a {
            Answer::Value(v) => Ok(v),
            a => Err(mismatch(a)),
        }))
    }

    async fn set(&mut self, b: Resource<Bucket>, key: String, value: Vec<u8>) -> KvResult<()> {
        let key = self.key(&b, &key)?;
        self.write(vec![Write::Set(key, value)]).await
    }

    async fn delete(&mut self, b: Resource<Bucket>, key: String) -> KvResult<()> {
        let key = self.key(&b, &key)?;
        self.write(vec![Write::Delete(key)]).await
    }

    async fn exists(&mut self, b: Resource<Bucket>, key: String) -> KvResult<bool> {
        let key = self.key(&b, &key)?;
        Ok(self.then(Then::Exists(&key)).await.and_then(|a| match a {
            Answer::Exists(e) => Ok(e),
            a => Err(mismatch(a)),
        }))
    }

    async fn list_keys(
        &mut self,
        b: Resource<Bucket>,
        cursor: Option<u64>,
    ) -> KvResult<store::KeyResponse> {
        let prefix = self.key(&b, "")?;
        if let Err(e) = self.ctx.writes.flush().await {
            return Ok(Err(kv_error(e)));
        }
        round_trips::one(self.ctx.round_trips.as_ref());
        Ok(
            match self
                .ctx
                .store()
                .keys_with_prefix(&prefix, cursor, 1000)
                .await
            {
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
        Ok(self
            .then(Then::Increment(&key, delta))
            .await
            .and_then(|a| match a {
                Answer::Count(n) => Ok(n),
                a => Err(mismatch(a)),
            }))
    }
}

/// `get-many` is one store round trip (with the held-back writes): one script or `MGET` on
/// Redis, one redb transaction, one lock in memory; `set-many` and `delete-many` are held
/// back as the single writes are.
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
        Ok(match self.then(Then::GetMany(&scoped)).await {
            Ok(Answer::Values(values)) => Ok(keys
                .into_iter()
                .zip(values)
                .map(|(k, v)| v.map(|v| (k, v)))
                .collect()),
            Ok(a) => Err(mismatch(a)),
            Err(e) => Err(e),
        })
    }

    async fn set_many(
        &mut self,
        b: Resource<Bucket>,
        key_values: Vec<(String, Vec<u8>)>,
    ) -> KvResult<()> {
        let mut scoped = Vec::with_capacity(key_values.len());
        for (k, v) in key_values {
            scoped.push(Write::Set(self.key(&b, &k)?, v));
        }
        self.write(scoped).await
    }

    async fn delete_many(&mut self, b: Resource<Bucket>, keys: Vec<String>) -> KvResult<()> {
        let scoped = keys
            .iter()
            .map(|k| self.key(&b, k).map(Write::Delete))
            .collect::<wasmtime::Result<Vec<_>>>()?;
        self.write(scoped).await
    }
}
