//! Host-side bindings of `wit/handover.wit`. The WASI interfaces come from wasmtime's crates,
//! and `wasi:keyvalue` from [`crate::keyvalue`], which owns its bucket resource; `wasi:config`
//! is implemented where the store's state is. Imports are asynchronous, because the store behind
//! them may be a Redis server across the network.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "handover:genesys-om/handover",
    imports: { default: async | trappable },
    exports: { default: async },
    with: {
        "wasi:io": wasmtime_wasi::p2::bindings::io,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
        "wasi:random": wasmtime_wasi::p2::bindings::random,
        "wasi:http": wasmtime_wasi_http::p2::bindings::http,
        "wasi:keyvalue": crate::keyvalue::bindings::wasi::keyvalue,
    },
    additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
});

pub use exports::handover::genesys_om::hooks;
pub use handover::genesys_om::types;
