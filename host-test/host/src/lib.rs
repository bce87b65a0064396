//! The reference host for genesys-om-handover: a wasmtime embedding that implements the
//! component's imports over a shared store (memory, an on-disk file, or Redis for many
//! replicas), an egress policy that lets credentials reach only Genesys, and `serve`.

#![deny(missing_docs)]

pub mod admission;
pub mod api;
#[allow(missing_docs)]
pub mod bindings;
pub mod body;
pub mod bus;
mod bus_wake;
pub mod drain;
pub mod egress;
pub mod engine;
pub mod flags;
pub mod genesys_api;
pub mod http;
pub mod idempotency;
pub mod keyvalue;
pub mod kv;
pub mod metrics;
pub mod notifications;
pub mod pool;
pub mod records;
pub mod round_trips;
pub mod routes;
pub mod runtime;
pub mod serve;
pub mod server;
pub mod sweeper;
pub mod tenant;
pub mod tenants;
pub mod webhook;
pub mod write_behind;

pub use egress::Egress;
pub use engine::{engine, engine_for};
pub use kv::Store;
pub use runtime::Plugin;
pub use tenant::Tenant;
