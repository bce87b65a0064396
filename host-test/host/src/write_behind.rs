//! A call's writes, held back until something needs them: the guest's `set`s and `delete`s
//! are kept in order and go to the store with its next read ([`Store::write_then`]: one
//! round trip for both), before its next outgoing request, and at the end of the call,
//! before the answer. So a write costs no round trip of its own, as a Node.js client's
//! auto-pipelining makes it, and nothing the guest wrote is missing where it could matter:
//! its own reads see its writes, Genesys is not called before the writes that protect the
//! request are in the store, and no answer is given before every write is.
//!
//! When a batch fails, whether its writes were made is unknown: from then on the call's
//! store operations and requests fail, and the call ends with a `storage` error.

use crate::egress::{IoFuture, SendResult};
use crate::kv::{Answer, Store, StoreError, Then, Write};
use crate::round_trips::{self, RoundTrips};
use std::future::Future;
use std::sync::Arc;
use tokio::sync::Mutex;
use wasmtime_wasi_http::{WasiBody, WasiHttpHooks};

/// Held-back writes past this many are sent at once (a guest that only writes holds
/// nothing unbounded).
const MAX_HELD: usize = 256;
/// Held-back bytes (keys and values) past this are sent at once.
const MAX_HELD_BYTES: usize = 1 << 20;

/// The held-back writes of one call; clones share them.
#[derive(Clone)]
pub struct WriteBehind {
    store: Store,
    round_trips: Option<RoundTrips>,
    held: Arc<Mutex<Held>>,
}

#[derive(Default)]
struct Held {
    writes: Vec<Write>,
    bytes: usize,
    /// Why a batch failed, once one has.
    failed: Option<String>,
}

impl WriteBehind {
    /// Nothing held, over `store`, counting each request on `round_trips`.
    pub fn new(store: Store, round_trips: Option<RoundTrips>) -> Self {
        Self {
            store,
            round_trips,
            held: Arc::default(),
        }
    }

    /// The store written to.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Holds `writes` back (sends them, with any held before, when too many are held).
    pub async fn write(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let mut held = self.held.lock().await;
        check(&held)?;
        for w in writes {
            held.bytes += w.bytes();
            held.writes.push(w);
        }
        if held.writes.len() > MAX_HELD || held.bytes > MAX_HELD_BYTES {
            self.send(&mut held, Then::Nothing).await?;
        }
        Ok(())
    }

    /// `then`, after every held write, in one round trip.
    pub async fn then(&self, then: Then<'_>) -> Result<Answer, StoreError> {
        let mut held = self.held.lock().await;
        check(&held)?;
        self.send(&mut held, then).await
    }

    /// Sends the held writes, if any; fails if a batch of this call ever failed.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let mut held = self.held.lock().await;
        check(&held)?;
        if !held.writes.is_empty() {
            self.send(&mut held, Then::Nothing).await?;
        }
        Ok(())
    }

    async fn send(&self, held: &mut Held, then: Then<'_>) -> Result<Answer, StoreError> {
        round_trips::one(self.round_trips.as_ref());
        let writes = std::mem::take(&mut held.writes);
        held.bytes = 0;
        let r = self.store.write_then(&writes, then).await;
        if let (Err(e), false) = (&r, writes.is_empty()) {
            held.failed = Some(e.to_string());
        }
        r
    }
}

/// A call whose writes may be lost goes no further.
fn check(held: &Held) -> Result<(), StoreError> {
    match &held.failed {
        None => Ok(()),
        Some(e) => Err(StoreError::Unavailable(format!(
            "an earlier write of this call failed: {e}"
        ))),
    }
}

/// `wasi:http` hooks that send the call's held-back writes before each outgoing request,
/// then let `inner` (the egress policy) send it; the request fails, and goes nowhere, if
/// they cannot be sent.
pub struct WritesFirst<H> {
    /// The hooks that send the request.
    pub inner: H,
    /// The call's held-back writes.
    pub writes: WriteBehind,
}

impl<H: WasiHttpHooks> WasiHttpHooks for WritesFirst<H> {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<wasmtime_wasi_http::RequestOptions>,
        fut: IoFuture,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        let writes = self.writes.clone();
        let send = Box::into_pin(self.inner.send_request(request, options, fut));
        Box::new(async move {
            if let Err(e) = writes.flush().await {
                tracing::warn!(error = %e, "refused an outgoing request: the call's writes are not in the store");
                return Err(wasmtime_wasi_http::Error::InternalError(Some(format!(
                    "the call's writes could not be stored: {e}"
                ))));
            }
            send.await
        })
    }

    fn forbidden_header_filter(&mut self) -> wasmtime_wasi_http::ForbiddenHeaderFilter {
        self.inner.forbidden_header_filter()
    }

    fn p2_error_from_tls(
        &mut self,
        err: &std::io::Error,
    ) -> wasmtime_wasi_http::p2::bindings::http::types::ErrorCode {
        self.inner.p2_error_from_tls(err)
    }
}

#[cfg(test)]
mod tests;
