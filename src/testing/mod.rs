//! Test support (cargo feature `testing`, and this crate's own tests): thread-safe
//! in-memory ports, an in-process fake Genesys, and the shared fixtures. Never part of the
//! release component.

pub mod fakes;
pub mod fixtures;
pub mod genesys;

pub use fakes::{Fakes, FixedClock, MapConfig, MemKv, NoHttp};
pub use genesys::{FakeGenesys, Inbound};
