//! The Genesys Cloud Platform API client over the [`Http`](crate::ports::Http) port: OAuth
//! client credentials with a cached token, retries inside a deadline, one token renewal
//! after a 401, typed errors. The typed calls built on it are in `api.rs`.

use super::{paths, Failure};
use crate::model::{ApiError, Error};
use crate::ports::{Env, HttpRequest, HttpResponse};
use crate::settings::ProviderSettings;
use crate::state::cache::{self, Token};
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// At most this many attempts per request, whatever the deadline.
pub const MAX_ATTEMPTS: u32 = 8;
/// A token is renewed this long before Genesys says it expires.
pub const TOKEN_MARGIN_MS: u64 = 60_000;

/// Exponential backoff: 100 ms, 200 ms, 400 ms, ... capped at 2 s.
pub fn backoff_ms(attempt: u32) -> u64 {
    (100u64 << attempt.saturating_sub(1).min(5)).min(2000)
}

/// Genesys client for one hook call.
pub struct Client<'a> {
    /// The host's ports.
    pub env: &'a Env<'a>,
    /// The tenant's provider settings.
    pub settings: &'a ProviderSettings,
    /// The token this call got, so its next request does not read the cache again.
    token: std::cell::Cell<Option<String>>,
}

/// The members of an error answer we show: Platform API's `ErrorBody` (`code`, `message`)
/// or an OAuth error (`error`, `error_description`).
#[derive(Deserialize, Default)]
struct ErrorBody {
    code: Option<String>,
    message: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The typed error of a non-2xx answer (`ErrorBody` or an OAuth error); a body that is
/// neither still gives its status.
pub(super) fn api_error(resp: &HttpResponse) -> ApiError {
    let e: ErrorBody = serde_json::from_slice(&resp.body).unwrap_or_default();
    ApiError {
        status: resp.status,
        code: e.code.or(e.error).unwrap_or_default(),
        message: e
            .message
            .or(e.error_description)
            .unwrap_or_else(|| format!("HTTP {}", resp.status)),
    }
}

fn is_retried(status: u16) -> bool {
    !(200..300).contains(&status) && Failure::of_status(status) == Failure::Retryable
}

impl<'a> Client<'a> {
    /// A client for one hook call.
    pub fn new(env: &'a Env<'a>, settings: &'a ProviderSettings) -> Self {
        Self {
            env,
            settings,
            token: Default::default(),
        }
    }

    fn token_request(&self) -> HttpRequest {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            self.settings.client_id, self.settings.client_secret
        ));
        HttpRequest {
            method: "POST",
            url: format!("{}{}", self.settings.login_base(), paths::TOKEN),
            headers: vec![
                ("authorization".into(), format!("Basic {basic}")),
                (
                    "content-type".into(),
                    "application/x-www-form-urlencoded".into(),
                ),
                ("accept".into(), "application/json".into()),
            ],
            body: b"grant_type=client_credentials".to_vec(),
            timeout_ms: self.settings.request_timeout_ms,
        }
    }

    fn cached_token(&self, now: u64) -> Result<Option<String>, Error> {
        Ok(cache::token(self.env.kv)?
            .filter(|t| {
                t.client_id == self.settings.client_id
                    && t.region == self.settings.region.domain()
                    && now + TOKEN_MARGIN_MS < t.expires_at_ms
            })
            .map(|t| t.access_token))
    }

    /// A valid access token: this call's, else the cached one, or a fresh one when
    /// `refresh` or expired.
    pub fn token(&self, refresh: bool) -> Result<String, Error> {
        let t = match self.token.take() {
            Some(t) if !refresh => t,
            _ => self.new_token(refresh)?,
        };
        self.token.set(Some(t.clone()));
        Ok(t)
    }

    fn new_token(&self, refresh: bool) -> Result<String, Error> {
        let now = self.env.clock.now_ms();
        if !refresh {
            if let Some(t) = self.cached_token(now)? {
                return Ok(t);
            }
        }
        let resp = self.send_retrying(&self.token_request())?.0;
        if (400..500).contains(&resp.status) {
            let e = api_error(&resp);
            return Err(Error::Auth(format!(
                "Genesys refused the client credentials of client id '{}' in region {} ({} {}: {})",
                self.settings.client_id,
                self.settings.region.domain(),
                resp.status,
                e.code,
                e.message
            )));
        }
        if resp.status != 200 {
            return Err(Error::Api(api_error(&resp)));
        }
        #[derive(Deserialize)]
        struct TokenResponse {
            access_token: String,
            expires_in: u64,
        }
        let t: TokenResponse = serde_json::from_slice(&resp.body)
            .map_err(|e| Error::Transport(format!("token response is not valid: {e}")))?;
        let cached = Token {
            access_token: t.access_token.clone(),
            expires_at_ms: now + t.expires_in.saturating_mul(1000),
            client_id: self.settings.client_id.clone(),
            region: self.settings.region.domain().to_string(),
        };
        cache::set_token(self.env.kv, &cached)?;
        Ok(t.access_token)
    }

    /// Send `req`, retrying what [`Failure::of_status`] calls retryable (and transport
    /// failures), honouring `Retry-After` up to `max-retry-after-ms`, with backoff inside
    /// `retry-deadline-ms`. Returns the final answer and how many attempts it took; the
    /// request (and so its message id) is identical on every attempt.
    pub fn send_retrying(&self, req: &HttpRequest) -> Result<(HttpResponse, u32), Error> {
        let clock = self.env.clock;
        let deadline = clock.now_ms() + self.settings.retry_deadline_ms;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let (wait_ms, last) = match self.env.http.send(req) {
                Ok(resp) if !is_retried(resp.status) => return Ok((resp, attempt)),
                Ok(resp) => {
                    let retry_after = resp
                        .header("retry-after")
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(|secs| {
                            secs.saturating_mul(1000)
                                .min(self.settings.max_retry_after_ms)
                        });
                    (
                        retry_after.unwrap_or_else(|| backoff_ms(attempt)),
                        Error::Api(api_error(&resp)),
                    )
                }
                Err(e) => (backoff_ms(attempt), Error::Transport(e)),
            };
            if clock.now_ms() + wait_ms >= deadline || attempt >= MAX_ATTEMPTS {
                return Err(last);
            }
            clock.sleep_ms(wait_ms);
        }
    }

    fn request(
        &self,
        method: &'static str,
        path: &str,
        body: &[u8],
        json: bool,
        token: &str,
    ) -> HttpRequest {
        let mut headers = vec![
            ("authorization".to_string(), format!("Bearer {token}")),
            ("accept".to_string(), "application/json".to_string()),
        ];
        if json {
            headers.push(("content-type".into(), "application/json".into()));
        }
        HttpRequest {
            method,
            url: format!("{}{}", self.settings.api_base(), path),
            headers,
            body: body.to_vec(),
            timeout_ms: self.settings.request_timeout_ms,
        }
    }

    /// `GET` from the Platform API (`path` starts with `/api/v2`): the answer as `T`, see
    /// [`Client::send`].
    pub fn get<T: DeserializeOwned + Default>(&self, path: &str) -> Result<T, Error> {
        let answer = self.call("GET", path, None, false)?;
        parse_body(path, answer.as_deref())
    }

    /// Call the Platform API (`path` starts with `/api/v2`) with `body` as JSON; on a 401
    /// the token is renewed and the call retried once. Any non-2xx answer is a typed error,
    /// except a 409 when `resent` (an earlier attempt or call sent this exact body: Genesys
    /// already has it) or when this call itself had to send it more than once. The answer
    /// is read as `T`: an empty one (or an accepted 409) is `T::default()`, one that is not
    /// JSON or not a `T` is a transport error.
    pub fn send<T, B>(
        &self,
        method: &'static str,
        path: &str,
        body: &B,
        resent: bool,
    ) -> Result<T, Error>
    where
        T: DeserializeOwned + Default,
        B: Serialize + ?Sized,
    {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Error::InvalidInput(format!("the body for {path} is not JSON: {e}")))?;
        let answer = self.call(method, path, Some(&bytes), resent)?;
        parse_body(path, answer.as_deref())
    }

    /// The request itself, the same whatever answer is expected (so compiled once): the
    /// body of a 2xx answer, or none for an accepted 409.
    fn call(
        &self,
        method: &'static str,
        path: &str,
        body: Option<&[u8]>,
        resent: bool,
    ) -> Result<Option<Vec<u8>>, Error> {
        let mut refreshed = false;
        loop {
            let token = self.token(refreshed)?;
            let bytes = body.unwrap_or_default();
            let req = self.request(method, path, bytes, body.is_some(), &token);
            let (resp, attempts) = self.send_retrying(&req)?;
            match resp.status {
                200..=299 => return Ok(Some(resp.body)),
                409 if attempts > 1 || resent => return Ok(None),
                401 if !refreshed => refreshed = true,
                401 => {
                    let e = api_error(&resp);
                    return Err(Error::Auth(format!(
                        "Genesys refused a fresh token ({}: {})",
                        e.code, e.message
                    )));
                }
                _ => return Err(Error::Api(api_error(&resp))),
            }
        }
    }
}

/// An answer as `T`; members `T` does not name are ignored. None (an accepted 409) or an
/// empty body is `T::default()`.
fn parse_body<T: DeserializeOwned + Default>(path: &str, body: Option<&[u8]>) -> Result<T, Error> {
    let body = body.unwrap_or_default();
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Data => "an answer of the wrong shape",
            _ => "invalid JSON",
        };
        Error::Transport(format!("Genesys answered {path} with {what}: {e}"))
    })
}
