//! Host-side bindings of `wit/handover.wit`: the WASI interfaces come from wasmtime's
//! crates; `wasi:keyvalue` and `wasi:config` are implemented in this crate.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "handover:genesys-om/handover",
    imports: { default: trappable },
    exports: { default: async },
    with: {
        "wasi:io": wasmtime_wasi::p2::bindings::io,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
        "wasi:http": wasmtime_wasi_http::p2::bindings::http,
        "wasi:keyvalue/store.bucket": crate::kv::Bucket,
    },
    additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
});

pub use exports::handover::genesys_om::hooks;
pub use handover::genesys_om::types;
