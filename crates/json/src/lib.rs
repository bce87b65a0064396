//! A small, dependency-free JSON implementation replacing serde/serde_json to
//! keep the WebAssembly component small: a [`Value`] tree, a strict RFC 8259
//! parser and a compact writer whose output matches `serde_json::to_string`.
//! A crate of its own so that the component can be built for size while this,
//! its hot path, is built for speed (per-package opt-level).
//!
//! # Overview
//!
//! * [`from_str`] / [`from_slice`] parse a document into a [`Value`]; errors
//!   carry an [`ErrorKind`] and a byte offset. Nesting deeper than
//!   [`MAX_DEPTH`] is rejected instead of overflowing the stack.
//! * [`to_string`], [`to_vec`], [`write`](fn@write) and the `Display` impl of [`Value`]
//!   produce compact JSON (no whitespace), byte-identical to serde_json with
//!   its `arbitrary_precision` feature.
//! * [`Map`] keeps its keys sorted (like serde_json's default `BTreeMap`
//!   backed map), so iteration and output order are deterministic.
//! * [`Number`] stores the number's JSON text, so no precision is ever lost
//!   and no floating point code is needed. The parser normalises the text the
//!   way serde_json (`arbitrary_precision`) does: an exponent is written as
//!   `e` followed by an explicit sign (`1E5` becomes `1e+5`); everything
//!   else is kept exactly as written.
//! * The `json!` macro builds values with JSON-like syntax; values are
//!   converted with `Value::from`.
//!
//! ```text
//! use genesys_om_json::{self as json, Value};
//! let v = json::from_str(r#"{"b":[1,"x"],"a":null}"#).unwrap();
//! assert_eq!(v["b"][1], "x");
//! assert_eq!(json::to_string(&v), r#"{"a":null,"b":[1,"x"]}"#);
//! assert_eq!(v.pointer("/b/0").and_then(Value::as_u64), Some(1));
//! ```

#![deny(missing_docs)]

mod macros;
mod map;
mod parse;
mod read;
mod scan;
mod to_value;
mod value;
mod write;

#[cfg(test)]
mod tests;

pub use map::{Map, MapIter};
pub use parse::{from_slice, from_str, Error, ErrorKind, MAX_DEPTH};
pub use read::Reader;
pub use to_value::ToValue;
pub use value::{Number, Value};
pub use write::{write, write_str};

/// Serialises `v` as compact JSON (same bytes as `serde_json::to_string`).
pub fn to_string(v: &Value) -> String {
    let mut out = String::with_capacity(128);
    write(v, &mut out);
    out
}

/// `s` as a quoted JSON string: how messages and logs show a text that came from outside,
/// with quotes and control characters escaped (and no `Debug` formatting code).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    write_str(s, &mut out);
    out
}

/// Serialises `v` as compact JSON bytes (same bytes as `serde_json::to_vec`).
pub fn to_vec(v: &Value) -> Vec<u8> {
    to_string(v).into_bytes()
}
