//! Test support (cargo feature `testing`, and this crate's own tests): thread-safe
//! in-memory ports, an in-process fake Genesys, and the shared fixtures. Never part of the
//! release component.

pub mod fakes;
pub mod fixtures;

pub use fakes::{FakeGenesys, Fakes, FixedClock, Inbound, MapConfig, MemKv, NoHttp};
