//! The Redis backend: any number of host processes share one Redis (or one of its
//! numbered databases, `redis://HOST:PORT/DB`).
//!
//! Keys, all under the prefix [`PREFIX`] (`gom:`) so one Redis can hold other data too,
//! with one letter per namespace so they never collide:
//!
//! | namespace | Redis key          | Redis type | commands |
//! |-----------|--------------------|------------|----------|
//! | kv        | `gom:k:<key>`      | string     | GET, SET, DEL, EXISTS, SCAN MATCH; increment: a Lua check + INCRBY |
//! | queues    | `gom:q:<queue>`    | list       | RPUSH, LPOP with a count |
//! | sets      | `gom:s:<set>`      | set        | SADD, SREM, SMEMBERS |
//! | leases    | `gom:l:<key>`      | string (the owner) with a TTL | SET NX PX, renew-if-owner in the same Lua script |
//!
//! Every operation is one command or one script, so it is atomic across processes; LPOP
//! hands each item to exactly one caller.
//!
//! `keys_with_prefix` follows SCAN (pattern `gom:k:<escaped prefix>*`): each page is
//! sorted, pages come in SCAN order, and a key present throughout the listing is returned
//! at least once. A SCAN batch larger than the page's room is split: the rest is kept in
//! this process for 60 s under a token in the cursor's high 16 bits (the low 48 bits are
//! the SCAN cursor the batch started at). Presented to another process, or later, such a
//! cursor reads that batch again: a few keys may come twice, none is skipped.
//!
//! Connection: made on first use (opening only checks the URL), one multiplexed
//! connection shared by all callers, with a 2 s connect timeout, a 2 s response timeout
//! and a 5 s bound on a whole operation. A lost connection is dropped and remade by the
//! next call; while Redis is unreachable, calls fail fast with
//! [`StoreError::Unavailable`] (after a failed connect, further calls within 200 ms do
//! not retry it). A connection idle for over a second is PINGed before use, so a Redis
//! restart does not cost the first command after it. A command whose connection broke
//! under it is retried once on a new connection only if repeating it is harmless (reads,
//! SET, DEL, set changes, leases); increment, push and pop are not retried, since Redis may
//! have run them, and return `Unavailable`.

use super::{overflow, StoreError};
use ::redis::aio::MultiplexedConnection;
use ::redis::{AsyncConnectionConfig, Client, Cmd, ErrorKind, FromRedisValue, RedisError};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The prefix of every key this store writes.
pub const PREFIX: &str = "gom:";

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
const OP_TIMEOUT: Duration = Duration::from_secs(5);
const RECONNECT_BACKOFF: Duration = Duration::from_millis(200);
const IDLE_PING: Duration = Duration::from_secs(1);
/// Bounds the SCAN round trips of one `keys_with_prefix` call (a sparse prefix on a big
/// keyspace then returns a short page and a cursor to go on from).
const MAX_SCANS_PER_PAGE: usize = 16;
/// `keys_with_prefix` cursors: the low bits hold Redis's SCAN cursor, the high 16 bits a
/// token for the rest of a SCAN batch that did not fit in the page (see [`Leftovers`]).
const SCAN_CURSOR_BITS: u32 = 48;
const SCAN_CURSOR_MASK: u64 = (1 << SCAN_CURSOR_BITS) - 1;
/// How long, and how many, leftover SCAN batches are kept for the next page.
const LEFTOVER_TTL: Duration = Duration::from_secs(60);
const LEFTOVER_MAX: usize = 1024;

/// `KEYS[1]` += `ARGV[1]` if it is missing or holds decimal digits; else a NOTANUMBER error.
const INCREMENT: &str = r"
local v = redis.call('GET', KEYS[1])
if v and not string.match(v, '^[0-9]+$') then
  return redis.error_reply('NOTANUMBER not a decimal number')
end
return redis.call('INCRBY', KEYS[1], ARGV[1])
";

/// Takes the lease `KEYS[1]` for owner `ARGV[1]` for `ARGV[2]` ms if free, renews it if
/// the owner holds it; 1 if held by the owner afterwards, else 0.
const LEASE: &str = r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
";

/// A store on one Redis server; see the module doc.
pub struct RedisStore {
    client: Client,
    config: AsyncConnectionConfig,
    /// `host:port/db`, for messages (never the password).
    target: String,
    state: Mutex<State>,
    /// Held while connecting, so concurrent callers wait for one attempt.
    connect_lock: tokio::sync::Mutex<()>,
    leftovers: Mutex<Leftovers>,
}

#[derive(Default)]
struct State {
    live: Option<Live>,
    last_failure: Option<Instant>,
    next_id: u64,
}

struct Live {
    con: MultiplexedConnection,
    id: u64,
    last_reply: Instant,
}

/// Whether a command may be sent again after its connection broke.
#[derive(Clone, Copy, PartialEq)]
enum Retry {
    Safe,
    Never,
}

impl RedisStore {
    /// Checks `url` (`redis://[:PASSWORD@]HOST:PORT[/DB]`) without connecting.
    pub fn open(url: &str) -> Result<RedisStore, StoreError> {
        // Redis's own messages never echo the URL, which may hold a password.
        let client =
            Client::open(url).map_err(|e| StoreError::Other(format!("invalid redis URL: {e}")))?;
        let info = client.get_connection_info();
        let target = format!("{}/{}", info.addr, info.redis.db);
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(CONNECT_TIMEOUT)
            .set_response_timeout(RESPONSE_TIMEOUT);
        Ok(RedisStore {
            client,
            config,
            target,
            state: Mutex::new(State::default()),
            connect_lock: tokio::sync::Mutex::new(()),
            leftovers: Mutex::new(Leftovers::default()),
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
        cmd.arg(INCREMENT).arg(1).arg(kv_key(key)).arg(delta);
        match self.run_raw::<i64>("INCRBY", &cmd, Retry::Never).await {
            Ok(n) => u64::try_from(n).map_err(|_| super::not_a_number(key)),
            Err(Failure::Redis(e)) if e.code() == Some("NOTANUMBER") => {
                Err(super::not_a_number(key))
            }
            Err(Failure::Redis(e)) if e.kind() == ErrorKind::ResponseError => {
                let detail = e.detail().unwrap_or_default();
                if detail.contains("not an integer") {
                    Err(super::not_a_number(key))
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

    /// Up to `limit` keys (unsorted) from SCAN batches, starting at the packed `cursor`.
    async fn scan_page(
        &self,
        prefix: &str,
        cursor: u64,
        limit: usize,
    ) -> Result<(Vec<String>, Option<u64>), StoreError> {
        let namespace = kv_key("");
        let pattern = format!("{}{}*", glob_escape(&namespace), glob_escape(prefix));
        let count = limit.clamp(16, 1000);
        let mut scan = cursor & SCAN_CURSOR_MASK;
        let token = (cursor >> SCAN_CURSOR_BITS) as u16;
        if token != 0 {
            // The rest of the batch that started at `scan`, if this process still has it;
            // if not, that batch is read again (a few keys may come twice, none is lost).
            let left = self.leftovers().take(token, prefix, scan);
            if let Some((keys, next)) = left {
                return Ok(self.page_of(prefix, scan, keys, next, limit));
            }
        }
        let mut page = Vec::new();
        for _ in 0..MAX_SCANS_PER_PAGE {
            let mut cmd = ::redis::cmd("SCAN");
            cmd.arg(scan)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(count);
            let (next, raw): (u64, Vec<Vec<u8>>) = self.run("SCAN", &cmd, Retry::Safe).await?;
            if next > SCAN_CURSOR_MASK {
                return Err(StoreError::Other(format!(
                    "Redis SCAN cursor {next} exceeds {SCAN_CURSOR_BITS} bits"
                )));
            }
            let mut batch: Vec<String> = raw
                .iter()
                .filter_map(|k| k.strip_prefix(namespace.as_bytes()))
                .map(|k| String::from_utf8_lossy(k).into_owned())
                .collect();
            batch.sort();
            batch.dedup();
            let room = limit - page.len();
            if batch.len() > room {
                let (mut rest, more) = self.page_of(prefix, scan, batch, next, room);
                page.append(&mut rest);
                return Ok((page, more));
            }
            page.append(&mut batch);
            if next == 0 {
                return Ok((page, None));
            }
            scan = next;
            if page.len() == limit {
                break;
            }
        }
        Ok((page, Some(scan)))
    }

    /// The first `limit` of `keys` (the batch that started at SCAN cursor `scan` and went
    /// on at `next`); what does not fit is kept under a token for the next page.
    fn page_of(
        &self,
        prefix: &str,
        scan: u64,
        mut keys: Vec<String>,
        next: u64,
        limit: usize,
    ) -> (Vec<String>, Option<u64>) {
        if keys.len() <= limit {
            return (keys, (next != 0).then_some(next));
        }
        let rest = keys.split_off(limit);
        let token = self.leftovers().put(prefix, scan, rest, next);
        (keys, Some(u64::from(token) << SCAN_CURSOR_BITS | scan))
    }

    fn leftovers(&self) -> MutexGuard<'_, Leftovers> {
        self.leftovers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// See [`super::Store::push`].
    pub async fn push(&self, queue: &str, items: &[Vec<u8>]) -> Result<(), StoreError> {
        if items.is_empty() {
            return Ok(());
        }
        let mut cmd = ::redis::cmd("RPUSH");
        cmd.arg(queue_key(queue));
        for item in items {
            cmd.arg(item.as_slice());
        }
        self.run::<i64>("RPUSH", &cmd, Retry::Never).await.map(drop)
    }

    /// See [`super::Store::pop`].
    pub async fn pop(&self, queue: &str, max: usize) -> Result<Vec<Vec<u8>>, StoreError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let mut cmd = ::redis::cmd("LPOP");
        cmd.arg(queue_key(queue)).arg(max.min(i64::MAX as usize));
        let items: Option<Vec<Vec<u8>>> = self.run("LPOP", &cmd, Retry::Never).await?;
        Ok(items.unwrap_or_default())
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

    /// See [`super::Store::try_lease`].
    pub async fn try_lease(
        &self,
        key: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX).max(1);
        let mut cmd = ::redis::cmd("EVAL");
        cmd.arg(LEASE)
            .arg(1)
            .arg(lease_key(key))
            .arg(owner)
            .arg(ttl_ms);
        // Repeating it is harmless: the owner then holds the lease and renews it.
        Ok(self.run::<i64>("lease", &cmd, Retry::Safe).await? == 1)
    }

    async fn run<T: FromRedisValue>(
        &self,
        what: &'static str,
        cmd: &Cmd,
        retry: Retry,
    ) -> Result<T, StoreError> {
        self.run_raw(what, cmd, retry)
            .await
            .map_err(|f| f.into_store_error(what))
    }

    /// Sends `cmd` on the shared connection (made or remade as needed), within
    /// [`OP_TIMEOUT`].
    async fn run_raw<T: FromRedisValue>(
        &self,
        what: &'static str,
        cmd: &Cmd,
        retry: Retry,
    ) -> Result<T, Failure> {
        match tokio::time::timeout(OP_TIMEOUT, self.attempt(what, cmd, retry)).await {
            Ok(result) => result,
            Err(_) => {
                self.forget_all();
                Err(Failure::Unavailable(format!(
                    "redis at {} did not complete {what} within {OP_TIMEOUT:?}",
                    self.target
                )))
            }
        }
    }

    async fn attempt<T: FromRedisValue>(
        &self,
        what: &'static str,
        cmd: &Cmd,
        retry: Retry,
    ) -> Result<T, Failure> {
        let mut lost = None;
        for _ in 0..3 {
            let (mut con, id, idle) = self.connection().await?;
            if idle >= IDLE_PING {
                match ::redis::cmd("PING").query_async::<()>(&mut con).await {
                    Ok(()) => self.replied(id),
                    Err(e) if is_connection_error(&e) => {
                        // Stale (Redis restarted, or a middlebox dropped it): nothing was
                        // sent yet, so any command may go on a new connection.
                        self.forget(id);
                        lost = Some(e);
                        continue;
                    }
                    Err(e) => return Err(Failure::Redis(e)),
                }
            }
            match cmd.query_async::<T>(&mut con).await {
                Ok(v) => {
                    self.replied(id);
                    return Ok(v);
                }
                Err(e) if is_connection_error(&e) => {
                    self.forget(id);
                    if retry == Retry::Never {
                        return Err(Failure::Unavailable(format!(
                            "redis at {}: connection lost during {what} (it may or may not \
                             have been applied): {e}",
                            self.target
                        )));
                    }
                    lost = Some(e);
                }
                Err(e) => {
                    self.replied(id);
                    return Err(Failure::Redis(e));
                }
            }
        }
        Err(Failure::Unavailable(format!(
            "redis at {}: connection keeps failing: {}",
            self.target,
            lost.map(|e| e.to_string()).unwrap_or_default()
        )))
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The live connection, its id and how long it has been idle; `Ok(None)` if there is
    /// none and a connect may be tried now.
    fn cached(&self) -> Result<Option<(MultiplexedConnection, u64, Duration)>, Failure> {
        let state = self.state();
        if let Some(live) = &state.live {
            return Ok(Some((live.con.clone(), live.id, live.last_reply.elapsed())));
        }
        match state.last_failure {
            Some(at) if at.elapsed() < RECONNECT_BACKOFF => Err(Failure::Unavailable(format!(
                "redis at {} is unreachable (last tried {} ms ago)",
                self.target,
                at.elapsed().as_millis()
            ))),
            _ => Ok(None),
        }
    }

    async fn connection(&self) -> Result<(MultiplexedConnection, u64, Duration), Failure> {
        if let Some(c) = self.cached()? {
            return Ok(c);
        }
        let _connecting = self.connect_lock.lock().await;
        if let Some(c) = self.cached()? {
            return Ok(c);
        }
        let result = tokio::time::timeout(
            CONNECT_TIMEOUT + Duration::from_millis(500),
            self.client
                .get_multiplexed_async_connection_with_config(&self.config),
        )
        .await;
        let mut state = self.state();
        match result {
            Ok(Ok(con)) => {
                state.next_id += 1;
                let id = state.next_id;
                state.live = Some(Live {
                    con: con.clone(),
                    id,
                    last_reply: Instant::now(),
                });
                state.last_failure = None;
                Ok((con, id, Duration::ZERO))
            }
            Ok(Err(e)) => {
                state.last_failure = Some(Instant::now());
                Err(Failure::Unavailable(format!(
                    "cannot connect to redis at {}: {e}",
                    self.target
                )))
            }
            Err(_) => {
                state.last_failure = Some(Instant::now());
                Err(Failure::Unavailable(format!(
                    "cannot connect to redis at {}: timed out",
                    self.target
                )))
            }
        }
    }

    fn replied(&self, id: u64) {
        if let Some(live) = self.state().live.as_mut().filter(|l| l.id == id) {
            live.last_reply = Instant::now();
        }
    }

    fn forget(&self, id: u64) {
        let mut state = self.state();
        if state.live.as_ref().is_some_and(|l| l.id == id) {
            state.live = None;
        }
    }

    fn forget_all(&self) {
        self.state().live = None;
    }
}

/// The keys of SCAN batches that did not fit in their page, by token, for the next page
/// in this process (kept for [`LEFTOVER_TTL`], at most [`LEFTOVER_MAX`]).
#[derive(Default)]
struct Leftovers {
    next_token: u16,
    batches: HashMap<u16, Leftover>,
}

struct Leftover {
    prefix: String,
    scan: u64,
    keys: Vec<String>,
    next: u64,
    at: Instant,
}

impl Leftovers {
    fn put(&mut self, prefix: &str, scan: u64, keys: Vec<String>, next: u64) -> u16 {
        self.batches.retain(|_, b| b.at.elapsed() < LEFTOVER_TTL);
        if self.batches.len() >= LEFTOVER_MAX {
            let oldest = self
                .batches
                .iter()
                .min_by_key(|(_, b)| b.at)
                .map(|(t, _)| *t);
            if let Some(t) = oldest {
                self.batches.remove(&t);
            }
        }
        self.next_token = self.next_token.checked_add(1).unwrap_or(1);
        let token = self.next_token;
        let leftover = Leftover {
            prefix: prefix.to_string(),
            scan,
            keys,
            next,
            at: Instant::now(),
        };
        self.batches.insert(token, leftover);
        token
    }

    /// The keys and next SCAN cursor kept under `token`, if they belong to this listing.
    fn take(&mut self, token: u16, prefix: &str, scan: u64) -> Option<(Vec<String>, u64)> {
        let b = self.batches.remove(&token)?;
        (b.prefix == prefix && b.scan == scan && b.at.elapsed() < LEFTOVER_TTL)
            .then_some((b.keys, b.next))
    }
}

/// How a command failed: no usable connection, or an answer from Redis.
enum Failure {
    Unavailable(String),
    Redis(RedisError),
}

impl Failure {
    fn into_store_error(self, what: &str) -> StoreError {
        match self {
            Failure::Unavailable(msg) => StoreError::Unavailable(msg),
            Failure::Redis(e) => map_err(what, e),
        }
    }
}

fn is_connection_error(e: &RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_timeout()
        || e.is_unrecoverable_error()
}

/// Maps an error Redis answered with. Reply type errors are reported without the reply,
/// which could hold a stored value.
fn map_err(what: &str, e: RedisError) -> StoreError {
    if is_connection_error(&e) {
        return StoreError::Unavailable(format!("redis {what}: {e}"));
    }
    match e.kind() {
        ErrorKind::BusyLoadingError
        | ErrorKind::TryAgain
        | ErrorKind::MasterDown
        | ErrorKind::ClusterDown
        | ErrorKind::ReadOnly => StoreError::Unavailable(format!("redis {what}: {e}")),
        ErrorKind::TypeError | ErrorKind::ParseError => {
            StoreError::Corrupt(format!("redis gave an unexpected reply to {what}"))
        }
        _ if e.code() == Some("WRONGTYPE") => StoreError::Corrupt(format!(
            "redis {what}: the key holds another kind of value than this store writes"
        )),
        _ => StoreError::Other(format!("redis {what}: {e}")),
    }
}

fn kv_key(key: &str) -> String {
    format!("{PREFIX}k:{key}")
}

fn queue_key(queue: &str) -> String {
    format!("{PREFIX}q:{queue}")
}

fn set_key(set: &str) -> String {
    format!("{PREFIX}s:{set}")
}

fn lease_key(key: &str) -> String {
    format!("{PREFIX}l:{key}")
}

/// Escapes Redis glob characters (`* ? [ ] \`), so the text matches only itself.
fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '^' | '-') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{conformance, Store, StoreError};
    use handover_testkit::{free_port, RedisServer};
    use std::time::{Duration, Instant};

    /// A private redis-server, or None (with a notice) where none is installed.
    fn server() -> Option<RedisServer> {
        if !RedisServer::available() {
            eprintln!(
                "SKIPPED: redis-server is not installed; run `apt-get install -y redis-server`"
            );
            return None;
        }
        Some(RedisServer::start().expect("starting a private redis-server"))
    }

    /// Every key on the server, through a plain connection.
    async fn raw_keys(url: &str) -> Vec<String> {
        let client = ::redis::Client::open(url).unwrap();
        let mut con = client.get_multiplexed_async_connection().await.unwrap();
        let mut keys: Vec<String> = ::redis::cmd("KEYS")
            .arg("*")
            .query_async(&mut con)
            .await
            .unwrap();
        keys.sort();
        keys
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_store_passes_the_conformance_suite() {
        let Some(server) = server() else { return };
        let store = Store::open_redis(&server.url()).await.unwrap();
        assert_eq!(store.kind(), "redis");
        conformance::run_all(&store).await;
        let keys = raw_keys(&server.url()).await;
        assert!(keys.iter().all(|k| k.starts_with("gom:")), "{keys:?}");
    }

    #[tokio::test]
    async fn namespaces_map_to_prefixed_redis_keys() {
        let Some(server) = server() else { return };
        let store = Store::open_redis(&format!("{}/3", server.url()))
            .await
            .unwrap();
        store.set("a", b"1").await.unwrap();
        store.push("a", &[b"x".to_vec()]).await.unwrap();
        store.set_add("a", "m").await.unwrap();
        store
            .try_lease("a", "o", Duration::from_secs(9))
            .await
            .unwrap();
        assert!(
            raw_keys(&server.url()).await.is_empty(),
            "database 0 untouched"
        );
        assert_eq!(
            raw_keys(&format!("{}/3", server.url())).await,
            ["gom:k:a", "gom:l:a", "gom:q:a", "gom:s:a"]
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_handles_on_one_server_share_everything() {
        let Some(server) = server() else { return };
        let a = Store::open_redis(&server.url()).await.unwrap();
        let b = Store::open_redis(&server.url()).await.unwrap();
        a.set("shared", b"from a").await.unwrap();
        assert_eq!(b.get("shared").await.unwrap(), Some(b"from a".to_vec()));
        b.delete("shared").await.unwrap();
        assert!(!a.exists("shared").await.unwrap());
        assert_eq!(a.increment("n", 1).await.unwrap(), 1);
        assert_eq!(b.increment("n", 1).await.unwrap(), 2);
        a.set_add("s", "x").await.unwrap();
        assert_eq!(b.set_members("s").await.unwrap(), ["x"]);
        assert!(a
            .try_lease("l", "a", Duration::from_secs(30))
            .await
            .unwrap());
        assert!(!b
            .try_lease("l", "b", Duration::from_secs(30))
            .await
            .unwrap());

        // Items pushed through one handle are popped exactly once across both.
        let items: Vec<Vec<u8>> = (0..600).map(|i: u32| i.to_string().into_bytes()).collect();
        a.push("q", &items).await.unwrap();
        let poppers: Vec<_> = (0..8)
            .map(|i| {
                let store = if i % 2 == 0 { a.clone() } else { b.clone() };
                tokio::spawn(async move {
                    let mut got = Vec::new();
                    loop {
                        let batch = store.pop("q", 5).await.unwrap();
                        if batch.is_empty() {
                            return got;
                        }
                        got.extend(batch);
                    }
                })
            })
            .collect();
        let mut all = Vec::new();
        for p in poppers {
            all.extend(p.await.unwrap());
        }
        all.sort();
        let mut expected = items.clone();
        expected.sort();
        assert_eq!(all, expected);
    }

    /// Asserts `result` is Unavailable.
    fn unavailable<T: std::fmt::Debug>(what: &str, result: Result<T, StoreError>) {
        match result {
            Err(StoreError::Unavailable(msg)) => assert!(msg.contains("redis"), "{msg}"),
            other => panic!("{what}: expected Unavailable, got {other:?}"),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unreachable_redis_is_unavailable_then_recovers() {
        let Some(mut server) = server() else { return };
        let store = Store::open_redis(&server.url()).await.unwrap();
        store.set("k", b"v").await.unwrap();

        server.stop();
        for _ in 0..3 {
            let started = Instant::now();
            unavailable("get", store.get("k").await);
            unavailable("set", store.set("k", b"w").await);
            unavailable("increment", store.increment("n", 1).await);
            unavailable("push", store.push("q", &[b"x".to_vec()]).await);
            unavailable("pop", store.pop("q", 1).await);
            unavailable("keys", store.keys_with_prefix("", None, 10).await);
            unavailable(
                "lease",
                store.try_lease("l", "o", Duration::from_secs(1)).await,
            );
            assert!(
                started.elapsed() < Duration::from_secs(3),
                "{:?}",
                started.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }

        server.restart().unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match store.set("k", b"back").await {
                Ok(()) => break,
                Err(StoreError::Unavailable(_)) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await
                }
                Err(e) => panic!("no recovery: {e}"),
            }
        }
        assert_eq!(store.get("k").await.unwrap(), Some(b"back".to_vec()));
        assert_eq!(store.increment("n", 1).await.unwrap(), 1);
        store.push("q", &[b"x".to_vec()]).await.unwrap();
        assert_eq!(store.pop("q", 5).await.unwrap(), [b"x".to_vec()]);
    }

    /// Sends `signal` (e.g. `-STOP`) to `pid` with kill(1).
    fn signal(pid: u32, signal: &str) {
        let status = std::process::Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_frozen_redis_times_out_as_unavailable_then_recovers() {
        let Some(server) = server() else { return };
        let pid = server.pid().unwrap();
        let store = Store::open_redis(&server.url()).await.unwrap();
        store.set("k", b"v").await.unwrap();
        signal(pid, "-STOP");
        let started = Instant::now();
        let result = store.get("k").await;
        let waited = started.elapsed();
        signal(pid, "-CONT");
        unavailable("get", result);
        assert!(waited < Duration::from_secs(6), "waited {waited:?}");
        let deadline = Instant::now() + Duration::from_secs(5);
        while store.get("k").await.is_err() {
            assert!(Instant::now() < deadline, "no recovery after SIGCONT");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(store.get("k").await.unwrap(), Some(b"v".to_vec()));
    }

    #[tokio::test]
    async fn a_server_that_never_answers_is_unavailable_within_seconds() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("redis://{}", listener.local_addr().unwrap());
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let holder = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                // Accept and hold connections without a word until told to stop.
                listener.set_nonblocking(true).unwrap();
                let mut held = Vec::new();
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    if let Ok((s, _)) = listener.accept() {
                        held.push(s);
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            })
        };
        let store = Store::open_redis(&url).await.unwrap();
        let started = Instant::now();
        unavailable("get", store.get("k").await);
        let waited = started.elapsed();
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        holder.join().unwrap();
        assert!(waited < Duration::from_secs(6), "waited {waited:?}");
    }

    #[tokio::test]
    async fn many_keys_page_without_loss() {
        let Some(server) = server() else { return };
        let store = Store::open_redis(&server.url()).await.unwrap();
        let expected: Vec<String> = (0..1500).map(|i| format!("many/{i:04}")).collect();
        for k in &expected {
            store.set(k, b"v").await.unwrap();
        }
        for i in 0..500 {
            store.set(&format!("other/{i}"), b"v").await.unwrap();
            store.set_add(&format!("many/{i}"), "m").await.unwrap();
        }
        for limit in [1, 13, 100, 5000] {
            let pages = conformance::all_pages(&store, "many/", limit).await;
            let mut all = pages.concat();
            all.sort();
            let returned = all.len();
            all.dedup();
            assert_eq!(all, expected, "limit {limit}");
            // SCAN may return a key twice if Redis resizes its table mid-listing; the split
            // batches themselves must not add any.
            assert!(
                returned - all.len() < 15,
                "limit {limit}: {returned} returned"
            );
        }
    }

    #[tokio::test]
    async fn a_cursor_another_process_continues_skips_no_key() {
        let Some(server) = server() else { return };
        let a = Store::open_redis(&server.url()).await.unwrap();
        let b = Store::open_redis(&server.url()).await.unwrap();
        let expected: Vec<String> = (0..300).map(|i| format!("x/{i:03}")).collect();
        for k in &expected {
            a.set(k, b"v").await.unwrap();
        }
        // Alternate handles: half the cursors carry a token the other handle never issued.
        let mut seen = Vec::new();
        let mut cursor = None;
        for turn in 0.. {
            let store = if turn % 2 == 0 { &a } else { &b };
            let (page, next) = store.keys_with_prefix("x/", cursor, 3).await.unwrap();
            assert!(page.len() <= 3);
            seen.extend(page);
            match next {
                Some(n) => cursor = Some(n),
                None => break,
            }
            assert!(turn < 10_000);
        }
        seen.sort();
        seen.dedup();
        assert_eq!(seen, expected);
    }

    #[tokio::test]
    async fn a_restart_under_an_idle_connection_costs_no_error() {
        let Some(mut server) = server() else { return };
        let store = Store::open_redis(&server.url()).await.unwrap();
        store.set("k", b"v").await.unwrap();
        server.restart().unwrap();
        tokio::time::sleep(super::IDLE_PING + Duration::from_millis(100)).await;
        // Not retried if the connection broke under it, so this passes only because the
        // stale connection was found out by a PING first.
        assert_eq!(store.increment("n", 7).await.unwrap(), 7);
    }

    #[tokio::test]
    async fn opening_does_not_need_redis_up() {
        let url = format!("redis://127.0.0.1:{}", free_port());
        let store = Store::open_redis(&url).await.unwrap();
        let started = Instant::now();
        unavailable("get", store.get("k").await);
        unavailable("get again", store.get("k").await);
        assert!(started.elapsed() < Duration::from_secs(3));
        assert!(matches!(
            Store::open_redis("redis://host:notaport").await,
            Err(StoreError::Other(_))
        ));
    }

    #[tokio::test]
    async fn messages_do_not_show_the_password() {
        let url = format!("redis://:hunter2@127.0.0.1:{}/1", free_port());
        let store = Store::open_redis(&url).await.unwrap();
        match store.get("k").await {
            Err(e) => assert!(!e.to_string().contains("hunter2"), "{e}"),
            Ok(v) => panic!("{v:?}"),
        }
    }

    #[test]
    fn glob_characters_are_escaped() {
        assert_eq!(super::glob_escape("a*b?c[d]e\\f"), "a\\*b\\?c\\[d\\]e\\\\f");
        assert_eq!(super::glob_escape("plain/key:1"), "plain/key:1");
    }
}
