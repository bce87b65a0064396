//! Genesys Cloud Open Messaging handover provider, as a WebAssembly component. The domain
//! logic is plain Rust over the traits in [`ports`], so it runs natively in tests and in the
//! component alike; `component/` binds it to WASI (wasm32 only).

#![deny(missing_docs)]

pub mod base64;
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
/// The JSON layer (its own crate, built for speed while the component is built for size).
pub use genesys_om_json as json;
#[doc(hidden)]
pub use genesys_om_json::json;
pub use model::*;
pub use ports::{Clock, Config, Env, Http, HttpRequest, HttpResponse, Kv};
