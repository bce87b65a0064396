//! Plain Rust mirrors of the WIT types (`wit/handover.wit`). The domain code speaks only
//! these; `component/convert.rs` converts them to and from the generated bindings, so the
//! hooks run natively in tests without any bindings.

mod error;
mod input;
mod output;

pub use error::*;
pub use input::*;
pub use output::*;
