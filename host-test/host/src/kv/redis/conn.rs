//! The Redis store's one shared connection: made on first use, remade after a loss,
//! PINGed when idle, every command bounded by timeouts and retried only when harmless;
//! and how Redis's errors become [`StoreError`]s.

use super::{RedisStore, StoreError};
use ::redis::aio::MultiplexedConnection;
use ::redis::{AsyncConnectionConfig, Cmd, ErrorKind, FromRedisValue, RedisError};
use std::sync::MutexGuard;
use std::time::{Duration, Instant};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
const OP_TIMEOUT: Duration = Duration::from_secs(5);
const RECONNECT_BACKOFF: Duration = Duration::from_millis(200);
pub(super) const IDLE_PING: Duration = Duration::from_secs(1);

/// The client's connect and response timeouts.
pub(super) fn config() -> AsyncConnectionConfig {
    AsyncConnectionConfig::new()
        .set_connection_timeout(CONNECT_TIMEOUT)
        .set_response_timeout(RESPONSE_TIMEOUT)
}

#[derive(Default)]
pub(super) struct State {
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
pub(super) enum Retry {
    Safe,
    Never,
}

impl RedisStore {
    pub(super) async fn run<T: FromRedisValue>(
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
    pub(super) async fn run_raw<T: FromRedisValue>(
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

fn is_connection_error(e: &RedisError) -> bool {
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
