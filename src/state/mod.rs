//! What the component remembers between hook calls, in the tenant's KV bucket. The only
//! module that reads or writes the store: [`keys`] knows every key, the submodules give each
//! kind of state typed functions built on per-key get/set/delete and atomic increment.

pub mod cache;
pub mod claim;
pub mod ending;
pub mod handover;
pub mod joined;
pub mod keys;
pub mod outbox;
#[cfg(test)]
mod records_tests;
pub mod seen;
pub mod sent;
pub mod warned;

pub use handover::{Agent, Handover};

use crate::model::Error;
use crate::ports::Kv;
use serde::de::DeserializeOwned;
use serde::Serialize;

fn get(kv: &dyn Kv, key: &str) -> Result<Option<Vec<u8>>, Error> {
    kv.get(key).map_err(Error::Storage)
}

fn set(kv: &dyn Kv, key: &str, value: &[u8]) -> Result<(), Error> {
    kv.set(key, value).map_err(Error::Storage)
}

fn delete(kv: &dyn Kv, key: &str) -> Result<(), Error> {
    kv.delete(key).map_err(Error::Storage)
}

fn get_many(kv: &dyn Kv, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, Error> {
    kv.get_many(keys).map_err(Error::Storage)
}

fn delete_many(kv: &dyn Kv, keys: &[String]) -> Result<(), Error> {
    kv.delete_many(keys).map_err(Error::Storage)
}

fn increment(kv: &dyn Kv, key: &str, delta: u64) -> Result<u64, Error> {
    kv.increment(key, delta).map_err(Error::Storage)
}

/// A JSON value; `what` names it when it does not parse.
fn get_json<T: DeserializeOwned>(kv: &dyn Kv, key: &str, what: &str) -> Result<Option<T>, Error> {
    match get(kv, key)? {
        None => Ok(None),
        Some(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| Error::Storage(format!("{what} is corrupt: {e}"))),
    }
}

/// A JSON value of a cache: one that does not parse counts as absent.
fn get_json_lenient<T: DeserializeOwned>(kv: &dyn Kv, key: &str) -> Result<Option<T>, Error> {
    Ok(get(kv, key)?.and_then(|b| serde_json::from_slice(&b).ok()))
}

fn set_json<T: Serialize>(kv: &dyn Kv, key: &str, value: &T) -> Result<(), Error> {
    let b = serde_json::to_vec(value).map_err(|e| Error::Storage(e.to_string()))?;
    set(kv, key, &b)
}

/// A number stored as decimal text by [`set_u64`] (not a counter).
fn get_u64(kv: &dyn Kv, key: &str) -> Result<Option<u64>, Error> {
    Ok(get(kv, key)?.and_then(|b| decimal(&b)))
}

/// A counter's value as `get` read it (`raw`): decimal text as the number (how the
/// reference host stores counters), absent as 0, any other encoding (the host's own) read
/// again through `increment` by 0.
fn counter(kv: &dyn Kv, key: &str, raw: Option<Vec<u8>>) -> Result<u64, Error> {
    match raw.map(|b| decimal(&b)) {
        None => Ok(0),
        Some(Some(n)) => Ok(n),
        Some(None) => increment(kv, key, 0),
    }
}

/// Several counters in one `get-many` (see [`counter`]).
fn counters<const N: usize>(kv: &dyn Kv, keys: [String; N]) -> Result<[u64; N], Error> {
    let mut out = [0; N];
    for ((o, key), raw) in out.iter_mut().zip(&keys).zip(get_many(kv, &keys)?) {
        *o = counter(kv, key, raw)?;
    }
    Ok(out)
}

/// Decimal text as a number, if it is that.
fn decimal(b: &[u8]) -> Option<u64> {
    std::str::from_utf8(b).ok()?.trim().parse().ok()
}

fn set_u64(kv: &dyn Kv, key: &str, value: u64) -> Result<(), Error> {
    set(kv, key, value.to_string().as_bytes())
}

fn get_text(kv: &dyn Kv, key: &str) -> Result<Option<String>, Error> {
    Ok(get(kv, key)?.and_then(text))
}

/// A stored value as text, if it is UTF-8.
fn text(b: Vec<u8>) -> Option<String> {
    String::from_utf8(b).ok()
}
