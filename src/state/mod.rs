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
pub mod seen;
pub mod sent;

pub use handover::{Agent, Handover};

use crate::json::{self, Reader, Value};
use crate::model::Error;
use crate::ports::Kv;

/// A value stored as JSON, written and read by hand: the field names are the stored
/// format, kept as they were when these records were derived with serde. Reading goes
/// member by member (no tree), since records are read on every hook call.
pub(crate) trait Record: Sized {
    /// The stored form.
    fn to_json(&self) -> Value;
    /// Read back; the error says what is wrong and where.
    fn read(r: &mut Reader) -> Result<Self, String>;
}

fn decode<T: Record>(b: &[u8]) -> Result<T, String> {
    let mut r = Reader::new(b).map_err(|e| e.to_string())?;
    let t = T::read(&mut r)?;
    r.finish().map_err(|e| e.to_string())?;
    Ok(t)
}

/// Read a record's object, giving `f` each member's key.
fn members(
    r: &mut Reader,
    f: impl FnMut(&mut Reader, &str) -> Result<(), json::Error>,
) -> Result<(), String> {
    r.record(f).map_err(|e| e.to_string())
}

/// A required member.
fn need<T>(v: Option<T>, key: &str) -> Result<T, String> {
    v.ok_or_else(|| format!("`{key}` is missing"))
}

fn get(kv: &dyn Kv, key: &str) -> Result<Option<Vec<u8>>, Error> {
    kv.get(key).map_err(Error::Storage)
}

fn set(kv: &dyn Kv, key: &str, value: &[u8]) -> Result<(), Error> {
    kv.set(key, value).map_err(Error::Storage)
}

fn delete(kv: &dyn Kv, key: &str) -> Result<(), Error> {
    kv.delete(key).map_err(Error::Storage)
}

fn increment(kv: &dyn Kv, key: &str, delta: u64) -> Result<u64, Error> {
    kv.increment(key, delta).map_err(Error::Storage)
}

/// A JSON value; `what` names it when it does not parse.
fn get_json<T: Record>(kv: &dyn Kv, key: &str, what: &str) -> Result<Option<T>, Error> {
    match get(kv, key)? {
        None => Ok(None),
        Some(b) => decode(&b)
            .map(Some)
            .map_err(|e| Error::Storage(format!("{what} is corrupt: {e}"))),
    }
}

/// A JSON value of a cache: one that does not parse counts as absent.
fn get_json_lenient<T: Record>(kv: &dyn Kv, key: &str) -> Result<Option<T>, Error> {
    Ok(get(kv, key)?.and_then(|b| decode(&b).ok()))
}

fn set_json<T: Record>(kv: &dyn Kv, key: &str, value: &T) -> Result<(), Error> {
    set(kv, key, &json::to_vec(&value.to_json()))
}

/// A number stored as decimal text by [`set_u64`] (not a counter).
fn get_u64(kv: &dyn Kv, key: &str) -> Result<Option<u64>, Error> {
    Ok(get(kv, key)?.and_then(|b| std::str::from_utf8(&b).ok()?.trim().parse().ok()))
}

fn set_u64(kv: &dyn Kv, key: &str, value: u64) -> Result<(), Error> {
    set(kv, key, value.to_string().as_bytes())
}

fn get_text(kv: &dyn Kv, key: &str) -> Result<Option<String>, Error> {
    Ok(get(kv, key)?.and_then(|b| String::from_utf8(b).ok()))
}

#[cfg(test)]
mod records_tests;
