//! Genesys Cloud Open Messaging handover provider.
//!
//! The domain logic is plain Rust over the small traits in [`ports`], so it runs natively in
//! unit tests and inside the WebAssembly component alike; `component.rs` binds it to WASI.

pub mod flatten;
pub mod genesys;
pub mod hooks;
pub mod model;
pub mod ports;
pub mod region;
pub mod settings;
pub mod signature;
pub mod state;
pub mod testing;
pub mod time;
pub mod transcript;

#[cfg(target_arch = "wasm32")]
mod component;

pub use model::*;
pub use ports::{Clock, Config, Env, Http, HttpRequest, HttpResponse, Kv};
