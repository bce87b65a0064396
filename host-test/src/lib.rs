//! The reference host for genesys-om-handover: a wasmtime embedding that implements the
//! component's imports, a faithful local Genesys Cloud simulator, and the CLI's commands.

pub mod bench;
pub mod bindings;
pub mod demo;
pub mod kv;
pub mod runtime;
pub mod scenario;
pub mod serve;
pub mod show;
pub mod simulator;
pub mod webhook;
