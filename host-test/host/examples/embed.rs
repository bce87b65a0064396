//! The smallest useful embedding of genesys-om-handover: compile the component, link
//! standard WASI plus the host's `wasi:keyvalue` and `wasi:config`, call one hook.
//!
//! `cargo run -p genesys-om-host --example embed -- target/genesys-om-handover.wasm`
//!
//! The linking happens in `Plugin::from_component` (`bindings.rs` holds the `bindgen!`):
//! `wasmtime_wasi::p2::add_to_linker_async`, `wasmtime_wasi_http::p2::add_only_http_to_linker_async`,
//! then `keyvalue::add_to_linker` (`wasi:keyvalue/store` and `atomics`, reached through a
//! view of the call's key-value context), the generated `add_to_linker` of
//! `wasi:config/store`, and an `InstancePre` that every call instantiates from.

// The async `main` of a wasmtime embedding nests deep enough that a from-scratch `cargo
// clippy` (no incremental cache) overflows rustc's default query depth of 128.
#![recursion_limit = "256"]

use genesys_om_host::bindings::types::{Error, Webhook};
use genesys_om_host::{engine, Egress, Plugin, Store, Tenant};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let wasm = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/genesys-om-handover.wasm".into());
    // One engine per process; the component is compiled once and linked.
    let plugin = Plugin::load(&engine()?, wasm.as_ref(), Egress::Genesys, Store::memory())?;
    // A tenant: a name that scopes its stored data, and its provider settings.
    let tenant = Tenant::from_pairs(
        "example",
        &[
            ("host", "mypurecloud.de"),
            ("deployment-name", "MyDeployment"),
            ("client-id", "client-id"),
            ("client-secret", "client-secret"),
            ("webhook-secret", "the-integration-signature-secret"),
        ],
    );
    println!("component version {}", plugin.version(&tenant).await?);
    // One hook: an unsigned webhook is refused with a typed error, without any request.
    let webhook = Webhook {
        headers: vec![("content-type".into(), "application/json".into())],
        body: br#"{"id":"m1","type":"Text","text":"hi","channel":{"to":{"id":"u1"}}}"#.to_vec(),
    };
    match plugin.agent_message(&tenant, &webhook).await? {
        Ok(outcome) => println!("actions: {:?}", outcome.actions),
        Err(Error::BadSignature(problem)) => println!("refused: signature {problem:?}"),
        Err(e) => println!("error: {e:?}"),
    }
    Ok(())
}
