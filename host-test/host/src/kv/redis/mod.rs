//! The Redis backend: any number of host processes share one Redis (or one of its
//! numbered databases, `redis://HOST:PORT/DB`).
//!
//! Keys, all under the prefix [`PREFIX`] (`gom:`) so one Redis can hold other data too,
//! with one letter per namespace so they never collide:
//!
//! | namespace | Redis key          | Redis type | commands |
//! |-----------|--------------------|------------|----------|
//! | kv        | `gom:k:<key>`      | string     | GET, SET, DEL, EXISTS, SCAN MATCH; increment: a Lua check + INCRBY |
//! | streams   | `gom:x:<stream>`   | stream, consumer group `bot`, a TTL | Lua scripts: XADD (after SADD for add-once); XPENDING, XACK + XDEL, XAUTOCLAIM, XREADGROUP |
//! | sets      | `gom:s:<set>`      | set        | SADD, SREM, SMEMBERS |
//! | leases    | `gom:l:<key>`      | string (the owner) with a TTL | SET NX PX, renew-if-owner in the same Lua script |
//!
//! Every operation is one command or one script, so it is atomic across processes; a
//! stream's consumer group hands each batch to one reader at a time.
//!
//! `keys_with_prefix` follows SCAN (pattern `gom:k:<escaped prefix>*`): each page is
//! sorted, pages come in SCAN order, and a key present throughout the listing is returned
//! at least once. A SCAN batch larger than the page's room is split: the rest is kept in
//! this process for 60 s under a token in the cursor's high 16 bits (the low 48 bits are
//! the SCAN cursor the batch started at). Presented to another process, or later, such a
//! cursor reads that batch again: a few keys may come twice, none is skipped.
//!
//! Connection: redis's `ConnectionManager`, made on first use (opening only checks the
//! URL): one multiplexed connection shared by all callers, with a 2 s connect timeout, a
//! 2 s response timeout and a 5 s bound on a whole operation. A broken connection is remade
//! by the manager, one connect attempt at a time: while Redis is unreachable, calls fail
//! fast with [`StoreError::Unavailable`]. A connection idle for over a second is PINGed
//! before use, so a Redis restart does not cost the first command after it. A command whose
//! connection broke under it is tried again (at most three tries in all) only if repeating
//! it is harmless (reads, SET, DEL, set changes, leases, stream reads, adding once);
//! increment and a plain stream add are not, since Redis may have run them, and return
//! `Unavailable`.

mod conn;
mod scan;
mod scripts;
#[cfg(test)]
mod tests;
mod wake;

use super::counter::{not_a_number, overflow};
use super::stream::{millis, Entry, EntryId};

/// The longest TTL or visibility given to Redis (PEXPIRE takes at most a signed 64-bit
/// count of milliseconds, less the current time).
const MAX_MS: u64 = 1 << 50;
use super::StoreError;
use ::redis::aio::ConnectionManagerConfig;
use ::redis::{Client, ErrorKind};
use conn::{map_err, Failure, Retry, State};
use scan::Leftovers;
use std::sync::Mutex;
use std::time::Duration;

/// The prefix of every key this store writes.
pub const PREFIX: &str = "gom:";

/// A store on one Redis server; see the module doc.
pub struct RedisStore {
    client: Client,
    config: ConnectionManagerConfig,
    /// `host:port/db`, for messages (never the password).
    target: String,
    state: Mutex<State>,
    /// Held while the connection manager is made, so concurrent callers wait for one attempt.
    connect_lock: tokio::sync::Mutex<()>,
    leftovers: Mutex<Leftovers>,
    /// The channel this database's stream adds are announced on, and their feed.
    wake_channel: String,
    feed: wake::Feed,
}

impl RedisStore {
    /// Checks `url` (`redis://[:PASSWORD@]HOST:PORT[/DB]`) without connecting.
    pub fn open(url: &str) -> Result<RedisStore, StoreError> {
        // Redis's own messages never echo the URL, which may hold a password.
        let client =
            Client::open(url).map_err(|e| StoreError::Other(format!("invalid redis URL: {e}")))?;
        let info = client.get_connection_info();
        let target = format!("{}/{}", info.addr, info.redis.db);
        let wake_channel = wake::channel(info.redis.db);
        let config = conn::config();
        Ok(RedisStore {
            client,
            config,
            target,
            state: Mutex::new(State::default()),
            connect_lock: tokio::sync::Mutex::new(()),
            leftovers: Mutex::new(Leftovers::default()),
            wake_channel,
            feed: wake::Feed::new(),
        })
    }

    /// `host:port/db`.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// See [`super::Store::get`].
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut cmd = ::redis::cmd("GET");
        cmd.arg(kv_key(key));
        self.run("GET", &cmd, Retry::Safe).await
    }

    /// See [`super::Store::set`].
    pub async fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let mut cmd = ::redis::cmd("SET");
        cmd.arg(kv_key(key)).arg(value);
        self.run("SET", &cmd, Retry::Safe).await
    }

    /// See [`super::Store::delete`].
    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let mut cmd = ::redis::cmd("DEL");
        cmd.arg(kv_key(key));
        self.run::<i64>("DEL", &cmd, Retry::Safe).await.map(drop)
    }

    /// See [`super::Store::get_many`]: one `MGET`.
    pub async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let mut cmd = ::redis::cmd("MGET");
        for k in keys {
            cmd.arg(kv_key(k));
        }
        self.run("MGET", &cmd, Retry::Safe).await
    }

    /// See [`super::Store::set_many`]: one `MSET` (atomic on the server).
    pub async fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        let mut cmd = ::redis::cmd("MSET");
        for (k, v) in entries {
            cmd.arg(kv_key(k)).arg(v.as_slice());
        }
        self.run("MSET", &cmd, Retry::Safe).await
    }

    /// See [`super::Store::delete_many`]: one `DEL` of every key.
    pub async fn delete_many(&self, keys: &[String]) -> Result<(), StoreError> {
        let mut cmd = ::redis::cmd("DEL");
        for k in keys {
            cmd.arg(kv_key(k));
        }
        self.run::<i64>("DEL", &cmd, Retry::Safe).await.map(drop)
    }

    /// See [`super::Store::exists`].
    pub async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        let mut cmd = ::redis::cmd("EXISTS");
        cmd.arg(kv_key(key));
        Ok(self.run::<i64>("EXISTS", &cmd, Retry::Safe).await? > 0)
    }

    /// See [`super::Store::increment`]; counters end at `i64::MAX` here.
    pub async fn increment(&self, key: &str, delta: u64) -> Result<u64, StoreError> {
        let delta = i64::try_from(delta).map_err(|_| overflow(key))?;
        let mut cmd = ::redis::cmd("EVAL");
        cmd.arg(scripts::INCREMENT)
            .arg(1)
            .arg(kv_key(key))
            .arg(delta);
        match self.run_raw::<i64>("INCRBY", &cmd, Retry::Never).await {
            Ok(n) => u64::try_from(n).map_err(|_| not_a_number(key)),
            Err(Failure::Redis(e)) if e.code() == Some("NOTANUMBER") => Err(not_a_number(key)),
            Err(Failure::Redis(e)) if e.kind() == ErrorKind::ResponseError => {
                let detail = e.detail().unwrap_or_default();
                if detail.contains("not an integer") {
                    Err(not_a_number(key))
                } else if detail.contains("overflow") {
                    Err(overflow(key))
                } else {
                    Err(map_err("INCRBY", e))
                }
            }
            Err(f) => Err(f.into_store_error("INCRBY")),
        }
    }

    /// See [`super::Store::keys_with_prefix`]: pages follow SCAN, each sorted.
    pub async fn keys_with_prefix(
        &self,
        prefix: &str,
        cursor: Option<u64>,
        limit: usize,
    ) -> Result<(Vec<String>, Option<u64>), StoreError> {
        if limit == 0 {
            return Ok((Vec::new(), Some(cursor.unwrap_or(0))));
        }
        let (mut page, next) = self.scan_page(prefix, cursor.unwrap_or(0), limit).await?;
        page.sort();
        page.dedup();
        Ok((page, next))
    }
    /// See [`super::Store::set_add`].
    pub async fn set_add(&self, set: &str, member: &str) -> Result<(), StoreError> {
        let mut cmd = ::redis::cmd("SADD");
        cmd.arg(set_key(set)).arg(member);
        self.run::<i64>("SADD", &cmd, Retry::Safe).await.map(drop)
    }

    /// See [`super::Store::set_remove`].
    pub async fn set_remove(&self, set: &str, member: &str) -> Result<(), StoreError> {
        let mut cmd = ::redis::cmd("SREM");
        cmd.arg(set_key(set)).arg(member);
        self.run::<i64>("SREM", &cmd, Retry::Safe).await.map(drop)
    }

    /// See [`super::Store::stream_add`]: one script, atomic on the server. Repeating it
    /// after a lost reply is harmless only with `once` (the set remembers the member), so
    /// only then is it tried again.
    pub async fn stream_add(
        &self,
        stream: &str,
        once: Option<(&str, &str)>,
        items: &[Vec<u8>],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let (set, member) = once.unwrap_or(("", ""));
        let mut cmd = ::redis::cmd("EVAL");
        cmd.arg(scripts::STREAM_ADD)
            .arg(2)
            .arg(stream_key(stream))
            .arg(set_key(set))
            .arg(member)
            .arg(millis(ttl).min(MAX_MS))
            .arg(&self.wake_channel)
            .arg(stream);
        for item in items {
            cmd.arg(item.as_slice());
        }
        let retry = if once.is_some() {
            Retry::Safe
        } else {
            Retry::Never
        };
        Ok(self.run::<i64>("stream-add", &cmd, retry).await? == 1)
    }

    /// See [`super::Store::stream_adds`]: the streams the add script announced.
    pub fn stream_adds(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.feed.reader(&self.client, self.wake_channel.clone())
    }

    /// See [`super::Store::stream_read`]: one script over the stream's consumer group
    /// (`XPENDING`, `XACK` + `XDEL`, `XAUTOCLAIM`, `XREADGROUP`). Repeating it after a
    /// lost reply loses nothing: the batch the first run handed out comes again once its
    /// visibility ends.
    pub async fn stream_read(
        &self,
        stream: &str,
        ack: Option<EntryId>,
        max: usize,
        visibility: Duration,
        ttl: Duration,
    ) -> Result<Vec<Entry>, StoreError> {
        let mut cmd = ::redis::cmd("EVAL");
        cmd.arg(scripts::STREAM_READ)
            .arg(1)
            .arg(stream_key(stream))
            .arg(ack.map(|a| a.to_string()).unwrap_or_default())
            .arg(max.min(1000))
            .arg(millis(visibility).min(MAX_MS))
            .arg(millis(ttl).min(MAX_MS));
        let raw: Vec<(String, Vec<Vec<u8>>)> = self.run("stream-read", &cmd, Retry::Safe).await?;
        raw.into_iter()
            .map(|(id, mut fields)| {
                let id = id.parse().map_err(|_| {
                    StoreError::Corrupt(format!("stream {stream}: entry id {id:?}"))
                })?;
                match (fields.len(), fields.pop()) {
                    (2, Some(item)) => Ok(Entry { id, item }),
                    _ => Err(StoreError::Corrupt(format!(
                        "stream {stream}: entry {id} is not one item"
                    ))),
                }
            })
            .collect()
    }

    /// See [`super::Store::set_clear`].
    pub async fn set_clear(&self, set: &str) -> Result<(), StoreError> {
        let mut cmd = ::redis::cmd("DEL");
        cmd.arg(set_key(set));
        self.run::<i64>("DEL", &cmd, Retry::Safe).await.map(drop)
    }

    /// See [`super::Store::set_members`]: sorted here (Redis keeps no order).
    pub async fn set_members(&self, set: &str) -> Result<Vec<String>, StoreError> {
        let mut cmd = ::redis::cmd("SMEMBERS");
        cmd.arg(set_key(set));
        let raw: Vec<Vec<u8>> = self.run("SMEMBERS", &cmd, Retry::Safe).await?;
        let mut members: Vec<String> = raw
            .into_iter()
            .map(|m| String::from_utf8_lossy(&m).into_owned())
            .collect();
        members.sort();
        Ok(members)
    }

    /// See [`super::Store::release_lease`]: one script (delete if the owner holds it).
    pub async fn release_lease(&self, key: &str, owner: &str) -> Result<bool, StoreError> {
        let mut cmd = ::redis::cmd("EVAL");
        cmd.arg(scripts::RELEASE)
            .arg(1)
            .arg(lease_key(key))
            .arg(owner);
        Ok(self.run::<i64>("release", &cmd, Retry::Safe).await? == 1)
    }

    /// See [`super::Store::try_lease`].
    pub async fn try_lease(
        &self,
        key: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX).max(1);
        let mut cmd = ::redis::cmd("EVAL");
        cmd.arg(scripts::LEASE)
            .arg(1)
            .arg(lease_key(key))
            .arg(owner)
            .arg(ttl_ms);
        // Repeating it is harmless: the owner then holds the lease and renews it.
        Ok(self.run::<i64>("lease", &cmd, Retry::Safe).await? == 1)
    }
}

fn kv_key(key: &str) -> String {
    format!("{PREFIX}k:{key}")
}

fn stream_key(stream: &str) -> String {
    format!("{PREFIX}x:{stream}")
}

fn set_key(set: &str) -> String {
    format!("{PREFIX}s:{set}")
}

fn lease_key(key: &str) -> String {
    format!("{PREFIX}l:{key}")
}
