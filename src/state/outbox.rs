//! The stored side of the handover's outbox: user messages waiting for Genesys, one key per
//! item, numbered by an atomic counter so concurrent calls never rewrite a shared list. The
//! delivery rules (order, retries, exactly once) are in `crate::outbox`.

use super::keys::Scope;
use super::{delete, get_json, get_u64, increment, set_json, set_u64};
use crate::genesys::inbound::Kind;
use crate::model::{ApiError, Error};
use crate::ports::Kv;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A user message or event waiting to reach Genesys, with the exact body it is sent with
/// (and so the same message id on every attempt, whichever call makes it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Item {
    /// Inbound endpoint.
    pub kind: Kind,
    /// The request body.
    pub body: Value,
    /// Whether an attempt may have reached Genesys.
    pub tried: bool,
    /// When the item was queued (ms).
    pub created_ms: u64,
}

/// An item slot: pending, or a tombstone saying how it was settled.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum Slot {
    /// Waiting for Genesys.
    Pending(Item),
    /// Genesys has it.
    Done,
    /// Genesys refused it for good; its owner answers with this error.
    Refused(Refusal),
}

/// Why Genesys refused an item (the typed `api` error its owner returns).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Refusal {
    /// HTTP status (0: the call that queued it gave it up without an answer).
    pub status: u16,
    /// Genesys error code.
    pub code: String,
    /// Genesys error message.
    pub message: String,
}

impl From<&ApiError> for Refusal {
    fn from(e: &ApiError) -> Self {
        Refusal {
            status: e.status,
            code: e.code.clone(),
            message: e.message.clone(),
        }
    }
}

impl From<&Refusal> for ApiError {
    fn from(r: &Refusal) -> Self {
        ApiError {
            status: r.status,
            code: r.code.clone(),
            message: r.message.clone(),
        }
    }
}

/// Queue `item`: take the next sequence number, then store the item under it.
pub fn push(kv: &dyn Kv, scope: Scope, item: &Item) -> Result<u64, Error> {
    let n = increment(kv, &scope.out_seq(), 1)?;
    put(kv, scope, n, &Slot::Pending(item.clone()))?;
    Ok(n)
}

/// Item `n`: absent when settled and cleaned, or not stored yet by the call that numbered it.
pub fn slot(kv: &dyn Kv, scope: Scope, n: u64) -> Result<Option<Slot>, Error> {
    get_json(kv, &scope.out_item(n), "outbox item")
}

/// Store item `n`.
pub fn put(kv: &dyn Kv, scope: Scope, n: u64, slot: &Slot) -> Result<(), Error> {
    set_json(kv, &scope.out_item(n), slot)
}

/// Remove item `n`.
pub fn clean(kv: &dyn Kv, scope: Scope, n: u64) -> Result<(), Error> {
    delete(kv, &scope.out_item(n))
}

/// The head hint: every item below it is settled and cleaned (1 when none is).
pub fn head(kv: &dyn Kv, scope: Scope) -> Result<u64, Error> {
    Ok(get_u64(kv, &scope.out_head())?.unwrap_or(1).max(1))
}

/// Move the head hint.
pub fn set_head(kv: &dyn Kv, scope: Scope, n: u64) -> Result<(), Error> {
    set_u64(kv, &scope.out_head(), n)
}

/// The head hint and the sequence number of the newest item, in one read.
pub fn head_and_seq(kv: &dyn Kv, scope: Scope) -> Result<(u64, u64), Error> {
    let mut read = super::get_many(kv, &[scope.out_head(), scope.out_seq()])?;
    let seq = super::counter(kv, &scope.out_seq(), read.pop().flatten())?;
    let head = read.pop().flatten().and_then(|b| super::decimal(&b));
    Ok((head.unwrap_or(1).max(1), seq))
}

/// The sequence number of the newest item (0 when none).
pub fn seq(kv: &dyn Kv, scope: Scope) -> Result<u64, Error> {
    increment(kv, &scope.out_seq(), 0)
}

/// Every item numbered up to `seq` (stray tombstones below the head included), the head
/// and the counter last.
pub(super) fn keys_upto(out: &mut Vec<String>, scope: Scope, seq: u64) {
    for n in 1..=seq {
        out.push(scope.out_item(n));
    }
    out.push(scope.out_head());
    out.push(scope.out_seq());
}
