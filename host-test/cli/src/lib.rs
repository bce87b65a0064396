//! The command-line side of genesys-om-handover's host: a scripted demo, a scenario runner
//! and a benchmark, over the reference host (`genesys-om-host`) and the Genesys simulator
//! (`genesys-sim`).

#![deny(missing_docs)]

pub mod bench;
pub mod demo;
pub mod scenario;
pub mod show;
