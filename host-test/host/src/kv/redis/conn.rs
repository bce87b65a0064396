//! The Redis store's connection: redis's `ConnectionManager` (one multiplexed connection,
//! remade after it breaks), made on first use, with a thin layer for what it does not do:
//! a PING before a command on a connection idle a while (a dead idle connection is found out
//! before a command that must not go twice), one more try only where that is harmless, and
//! a new manager after a silent connection's timeout; and how Redis's errors become
//! [`StoreError`]s.

use super::StoreError;
use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::{Client, Cmd, ErrorKind, FromRedisValue, RedisError};
use std::sync::MutexGuard;
use std::time::{Duration, Instant};

pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
pub(super) const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
pub(super) const OP_TIMEOUT: Duration = Duration::from_secs(5);
pub(super) const IDLE_PING: Duration = Duration::from_secs(1);

/// The connect and response timeouts. One connect attempt per reconnect, without backoff:
/// while Redis is unreachable, calls fail fast (each failed call starts the next attempt).
pub(super) fn config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(CONNECT_TIMEOUT)
        .set_response_timeout(RESPONSE_TIMEOUT)
        .set_number_of_retries(0)
}

/// One Redis server's connection: the client (URL checked) and the manager made from it.
pub(super) struct Single {
    client: Client,
    config: ConnectionManagerConfig,
    /// `host:port/db`, for messages (never the password).
    pub(super) target: String,
    state: std::sync::Mutex<State>,
    /// Held while the connection manager is made, so concurrent callers wait for one attempt.
    connect_lock: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct State {
    live: Option<Live>,
    next_id: u64,
}

struct Live {
    manager: ConnectionManager,
    id: u64,
    last_reply: Instant,
}

/// Whether a command may be sent again after its connection broke.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Retry {
    Safe,
    Never,
}

impl Single {
    /// Checks `url` (`redis://[:PASSWORD@]HOST:PORT[/DB]`) without connecting.
    pub(super) fn open(url: &str) -> Result<Single, StoreError> {
        // Redis's own messages never echo the URL, which may hold a password.
        let client =
            Client::open(url).map_err(|e| StoreError::Other(format!("invalid redis URL: {e}")))?;
        let info = client.get_connection_info();
        let target = format!("{}/{}", info.addr, info.redis.db);
        Ok(Single {
            client,
            config: config(),
            target,
            state: std::sync::Mutex::new(State::default()),
            connect_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// The client connections are made with (pub/sub makes its own from it).
    pub(super) fn client(&self) -> &Client {
        &self.client
    }

    /// Sends `cmd` through the connection manager (made as needed), within [`OP_TIMEOUT`].
    pub(super) async fn run_raw<T: FromRedisValue>(
        &self,
        what: &'static str,
        cmd: &Cmd,
        retry: Retry,
    ) -> Result<T, Failure> {
        match tokio::time::timeout(OP_TIMEOUT, self.attempt(what, cmd, retry)).await {
            Ok(result) => result,
            Err(_) => {
                self.state().live = None;
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
            let (mut con, id, idle) = self.manager().await?;
            if idle >= IDLE_PING {
                match ::redis::cmd("PING").query_async::<()>(&mut con).await {
                    Ok(()) => self.replied(id),
                    Err(e) if is_connection_error(&e) => {
                        // Stale (Redis restarted, or a middlebox dropped it): nothing was
                        // sent yet, so any command may go on the remade connection.
                        self.lost(id, &e);
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
                    self.lost(id, &e);
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

    /// The manager, its id and how long since a command last had an answer.
    fn cached(&self) -> Option<(ConnectionManager, u64, Duration)> {
        let state = self.state();
        let live = state.live.as_ref()?;
        Some((live.manager.clone(), live.id, live.last_reply.elapsed()))
    }

    /// The manager, made on first use (concurrent callers wait for one attempt).
    async fn manager(&self) -> Result<(ConnectionManager, u64, Duration), Failure> {
        if let Some(m) = self.cached() {
            return Ok(m);
        }
        let _connecting = self.connect_lock.lock().await;
        if let Some(m) = self.cached() {
            return Ok(m);
        }
        let manager = ConnectionManager::new_with_config(self.client.clone(), self.config.clone())
            .await
            .map_err(|e| {
                Failure::Unavailable(format!("cannot connect to redis at {}: {e}", self.target))
            })?;
        let mut state = self.state();
        state.next_id += 1;
        let id = state.next_id;
        state.live = Some(Live {
            manager: manager.clone(),
            id,
            last_reply: Instant::now(),
        });
        Ok((manager, id, Duration::ZERO))
    }

    fn replied(&self, id: u64) {
        if let Some(live) = self.state().live.as_mut().filter(|l| l.id == id) {
            live.last_reply = Instant::now();
        }
    }

    /// After a connection error: the manager reconnects by itself after a broken
    /// connection's I/O error; after any other (a timeout on a silent connection, a failed
    /// reconnect it would not try again) it is dropped, and the next call makes a new one.
    fn lost(&self, id: u64, e: &RedisError) {
        if e.is_io_error() && e.is_unrecoverable_error() {
            return;
        }
        let mut state = self.state();
        if state.live.as_ref().is_some_and(|l| l.id == id) {
            state.live = None;
        }
    }
}

/// How a command failed: no usable connection, or an answer from Redis.
pub(super) enum Failure {
    Unavailable(String),
    Redis(RedisError),
}

impl Failure {
    pub(super) fn into_store_error(self, what: &str) -> StoreError {
        match self {
            Failure::Unavailable(msg) => StoreError::Unavailable(msg),
            Failure::Redis(e) => map_err(what, e),
        }
    }
}

pub(super) fn is_connection_error(e: &RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_timeout()
        || e.is_unrecoverable_error()
}

/// Maps an error Redis answered with. Reply type errors are reported without the reply,
/// which could hold a stored value.
pub(super) fn map_err(what: &str, e: RedisError) -> StoreError {
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
