//! A batch of writes and the read after it, in one script: a call's held-back writes with
//! its next read, and the host's batches of keys and sets. On a cluster, one script per
//! run of writes that share a slot (and a set cleared with its keys is read first).

use super::conn::map_err;
use super::increment_error;
use super::tags::{self, Ns};
use super::{scripts, RedisStore, Retry};
use crate::kv::counter::{not_a_number, overflow};
use crate::kv::{Answer, StoreError, Then, Write};
use ::redis::FromRedisValue;

impl RedisStore {
    /// The namespace a batch's write is in.
    fn ns_of(w: &Write) -> Ns {
        if w.is_set() {
            Ns::Set
        } else {
            Ns::Kv
        }
    }

    /// See [`crate::kv::Store::write_then`]: one script ([`static@super::scripts::WRITE_THEN`]), retried
    /// after a lost connection unless it increments.
    pub async fn write_then(&self, writes: &[Write], then: Then<'_>) -> Result<Answer, StoreError> {
        // A cluster runs a script on one slot: writes of several slots (the host's sets
        // beside a tenant's keys) go as one script per run of writes sharing a slot, in order.
        if self.is_cluster() {
            // A set's members name keys of another slot: the writes before it go first,
            // then the set is read, and its keys and it are removed as plain writes.
            let cleared = writes.iter().enumerate().find_map(|(at, w)| match w {
                Write::SetClearWithKeys(set, prefix) => Some((at, set, prefix)),
                _ => None,
            });
            if let Some((at, set, prefix)) = cleared {
                if at > 0 {
                    Box::pin(self.write_then(&writes[..at], Then::Nothing)).await?;
                }
                let members = self.set_members(set).await?;
                let mut plain: Vec<Write> = (members.iter())
                    .map(|m| Write::Delete(format!("{prefix}{m}")))
                    .collect();
                plain.push(Write::SetClear(set.clone()));
                plain.extend_from_slice(&writes[at + 1..]);
                return Box::pin(self.write_then(&plain, then)).await;
            }
            fn slot(w: &Write) -> std::borrow::Cow<'_, str> {
                tags::tag(RedisStore::ns_of(w), w.key())
            }
            if let Some(first) = writes.first().map(slot) {
                if let Some(at) = writes.iter().position(|w| slot(w) != first) {
                    Box::pin(self.write_then(&writes[..at], Then::Nothing)).await?;
                    return Box::pin(self.write_then(&writes[at..], then)).await;
                }
                let read = match then {
                    Then::Nothing => None,
                    Then::Get(k) | Then::Exists(k) | Then::Increment(k, _) => Some(k),
                    Then::GetMany(keys) => keys.first().map(String::as_str),
                };
                if read.is_some_and(|k| tags::tag(Ns::Kv, k) != first) {
                    Box::pin(self.write_then(writes, Then::Nothing)).await?;
                    return Box::pin(self.write_then(&[], then)).await;
                }
            }
        }
        let (kind, read, delta): (&str, Vec<&str>, u64) = match then {
            Then::Nothing => ("none", Vec::new(), 0),
            Then::Get(k) => ("get", vec![k], 0),
            Then::Exists(k) => ("exists", vec![k], 0),
            Then::GetMany(keys) => ("many", keys.iter().map(String::as_str).collect(), 0),
            Then::Increment(k, d) => ("incr", vec![k], d),
        };
        let mut cmd = scripts::WRITE_THEN.cmd();
        cmd.arg(writes.len() + read.len());
        for w in writes {
            cmd.arg(self.key(Self::ns_of(w), w.key()));
        }
        for k in &read {
            cmd.arg(self.key(Ns::Kv, k));
        }
        let delta = i64::try_from(delta).map_err(|_| overflow(read.first().unwrap_or(&"")))?;
        cmd.arg(writes.len()).arg(kind).arg(delta);
        for w in writes {
            match w {
                Write::Set(_, v) => cmd.arg("s").arg(v.as_slice()),
                Write::Delete(_) => cmd.arg("d").arg(""),
                Write::DeleteIfEqual(_, v) => cmd.arg("e").arg(v.as_slice()),
                Write::SetAdd(_, m) => cmd.arg("a").arg(m.as_str()),
                Write::SetRemove(_, m) => cmd.arg("r").arg(m.as_str()),
                Write::SetClear(_) => cmd.arg("c").arg(""),
                Write::SetClearWithKeys(_, prefix) => cmd.arg("k").arg(self.key(Ns::Kv, prefix)),
            };
        }
        let what = "write-then";
        let first = match writes.first() {
            Some(w) => self.key(Self::ns_of(w), w.key()),
            None => self.key(Ns::Kv, ""),
        };
        let decode = |e| map_err(what, e);
        if let Then::Increment(k, _) = then {
            let n = self
                .run_raw::<i64>(what, &cmd, Retry::Never, Some(&first))
                .await;
            let n = n.map_err(|f| increment_error(k, f))?;
            return Ok(Answer::Count(
                u64::try_from(n).map_err(|_| not_a_number(k))?,
            ));
        }
        let value = self
            .run_raw::<::redis::Value>(what, &cmd, Retry::Safe, Some(&first))
            .await
            .map_err(|f| f.into_store_error(what))?;
        Ok(match then {
            Then::Get(_) => {
                Answer::Value(FromRedisValue::from_redis_value(&value).map_err(decode)?)
            }
            Then::Exists(_) => Answer::Exists(i64::from_redis_value(&value).map_err(decode)? > 0),
            Then::GetMany(_) => {
                Answer::Values(FromRedisValue::from_redis_value(&value).map_err(decode)?)
            }
            Then::Nothing | Then::Increment(..) => Answer::Nothing,
        })
    }
}
