//! Genesys Cloud Open Messaging handover provider, as a WebAssembly component. The domain
//! logic is plain Rust over the traits in [`ports`] and the WIT types wit-bindgen generates
//! ([`model`]), so it runs natively in tests and in the component alike; `component/`
//! exports the hooks and binds the ports to WASI (wasm32 only).

#![deny(missing_docs)]

mod bindings;
pub mod flatten;
pub mod genesys;
pub mod hooks;
pub mod model;
pub mod outbox;
pub mod ports;
pub mod settings;
pub mod state;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod time;
pub mod transcript;
pub mod url_policy;

#[cfg(target_arch = "wasm32")]
mod component;

pub use genesys::{region, signature};
pub use model::*;
pub use ports::{Clock, Config, Env, Http, HttpRequest, HttpResponse, Kv};
