//! The thin binding layer (wasm32 only): the generated WIT bindings, the exported hooks
//! over the domain code (`shims.rs`), and the bucket opened for each call. The ports over
//! WASI are in `ports.rs`, the conversions of the hooks' arguments from the bindings in
//! `convert.rs`, and the one lowering of the hooks' results in `lower.rs`.

mod convert;
mod lower;
mod ports;
mod shims;

use crate::model as m;
use crate::ports::Env;
use crate::state::keys::BUCKET;
use ports::{kv_err, WasiClock, WasiConfig, WasiHttp, WasiKv};

wit_bindgen::generate!({
    path: "wit",
    world: "handover",
    generate_all,
    features: ["clocks-timezone"],
});

use handover::genesys_om::types as t;

/// Run `f` over the WASI ports, with the tenant's bucket open for the call.
fn run<T>(f: impl FnOnce(&Env) -> Result<T, m::Error>) -> Result<T, m::Error> {
    // Hosts that only offer their default store (the wasmtime CLI) get the empty name.
    let bucket = match wasi::keyvalue::store::open(BUCKET) {
        Err(wasi::keyvalue::store::Error::NoSuchStore) => wasi::keyvalue::store::open(""),
        other => other,
    }
    .map_err(|e| m::Error::Storage(kv_err(e)))?;
    let kv = WasiKv(bucket);
    let env = Env {
        http: &WasiHttp,
        kv: &kv,
        config: &WasiConfig,
        clock: &WasiClock,
    };
    f(&env)
}

/// As [`run`], with the result in the WIT's types.
fn with_env<T, U: From<T>>(f: impl FnOnce(&Env) -> Result<T, m::Error>) -> Result<U, t::Error> {
    run(f).map(Into::into).map_err(Into::into)
}
