//! Every integration suite of the host in one test binary, so the release component is
//! compiled once per run (`support::compiled`). Each module is one suite.

mod support;

mod bot_delivery;
mod bot_messages;
mod bursts;
mod cluster;
mod concurrency;
mod connections_tls;
mod delivery;
mod deployment;
mod drain;
mod durability;
mod earlier_handover;
mod end_detection;
mod ending;
mod from_genesys;
mod handover;
mod idempotency;
mod inactivity;
mod isolation;
mod keeps_serving;
mod load;
mod lowering;
mod reliability;
mod replicas;
mod rolling;
mod round_trips;
mod serving;
mod setup_guide;
mod structured;
mod to_genesys;
