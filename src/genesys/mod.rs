//! A small Genesys Cloud Platform API client over the [`Http`](crate::ports::Http) port:
//! OAuth client credentials with a KV-cached token, one retry after a 401, typed errors.

pub mod events;
pub mod inbound;
pub mod outbound;

use crate::model::{ApiError, Error};
use crate::ports::{Env, HttpRequest, HttpResponse};
use crate::settings::ProviderSettings;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// At most this many attempts per request, whatever the deadline.
pub const MAX_ATTEMPTS: u32 = 8;

/// Statuses worth sending the same request again for.
pub fn is_retryable(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// Exponential backoff: 100 ms, 200 ms, 400 ms, ... capped at 2 s.
pub fn backoff_ms(attempt: u32) -> u64 {
    (100u64 << attempt.saturating_sub(1).min(5)).min(2000)
}

/// KV key of the cached access token.
pub const TOKEN_KEY: &str = "token";
/// A token is renewed this long before Genesys says it expires.
pub const TOKEN_MARGIN_MS: u64 = 60_000;

#[derive(Serialize, Deserialize)]
struct CachedToken {
    access_token: String,
    expires_at_ms: u64,
    /// The token is only reused for the same client and region.
    client_id: String,
    region: String,
}

/// Genesys client for one hook call.
pub struct Client<'a> {
    pub env: &'a Env<'a>,
    pub settings: &'a ProviderSettings,
}

fn api_error(resp: &HttpResponse) -> ApiError {
    let v: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    ApiError {
        status: resp.status,
        code: s("code").or_else(|| s("error")).unwrap_or_default(),
        message: s("message")
            .or_else(|| s("error_description"))
            .unwrap_or_else(|| format!("HTTP {}", resp.status)),
    }
}

impl<'a> Client<'a> {
    pub fn new(env: &'a Env<'a>, settings: &'a ProviderSettings) -> Self {
        Self { env, settings }
    }

    fn kv_get<T: for<'de> Deserialize<'de>>(&self, key: &str) -> Result<Option<T>, Error> {
        match self.env.kv.get(key).map_err(Error::Storage)? {
            None => Ok(None),
            Some(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
        }
    }

    /// A valid access token: the cached one, or a fresh one when `refresh` or expired.
    pub fn token(&self, refresh: bool) -> Result<String, Error> {
        let now = self.env.clock.now_ms();
        if !refresh {
            if let Some(t) = self.kv_get::<CachedToken>(TOKEN_KEY)? {
                if t.client_id == self.settings.client_id
                    && t.region == self.settings.region.domain()
                    && now + TOKEN_MARGIN_MS < t.expires_at_ms
                {
                    return Ok(t.access_token);
                }
            }
        }
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            self.settings.client_id, self.settings.client_secret
        ));
        let req = HttpRequest {
            method: "POST",
            url: format!("{}/oauth/token", self.settings.login_base()),
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
        };
        let resp = self.send_retrying(&req)?.0;
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
        let cached = CachedToken {
            access_token: t.access_token.clone(),
            expires_at_ms: now + t.expires_in.saturating_mul(1000),
            client_id: self.settings.client_id.clone(),
            region: self.settings.region.domain().to_string(),
        };
        let bytes = serde_json::to_vec(&cached).map_err(|e| Error::Storage(e.to_string()))?;
        self.env.kv.set(TOKEN_KEY, &bytes).map_err(Error::Storage)?;
        Ok(t.access_token)
    }

    /// Send `req`, retrying transport failures, timeouts, 429 (honouring `Retry-After` up to
    /// `max-retry-after-ms`) and 5xx with backoff inside `retry-deadline-ms`. Returns the
    /// final answer and how many attempts it took; the request (and so its message id) is
    /// identical on every attempt.
    pub fn send_retrying(&self, req: &HttpRequest) -> Result<(HttpResponse, u32), Error> {
        let clock = self.env.clock;
        let deadline = clock.now_ms() + self.settings.retry_deadline_ms;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let (wait_ms, last) = match self.env.http.send(req) {
                Ok(resp) if !is_retryable(resp.status) => return Ok((resp, attempt)),
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

    /// Call the Platform API (`path` starts with `/api/v2`); on a 401 the token is renewed
    /// and the call retried once. Any non-2xx answer is a typed error. A 409 on a request
    /// that had to be re-sent means Genesys already has it, and counts as success.
    pub fn api(
        &self,
        method: &'static str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, Error> {
        self.api_sent(method, path, body, false)
    }

    /// As [`Client::api`]; `resent` says an earlier hook call already sent this exact body.
    pub fn api_sent(
        &self,
        method: &'static str,
        path: &str,
        body: Option<&Value>,
        resent: bool,
    ) -> Result<Value, Error> {
        let mut refreshed = false;
        let body_bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        loop {
            let token = self.token(refreshed)?;
            let mut headers = vec![
                ("authorization".to_string(), format!("Bearer {token}")),
                ("accept".to_string(), "application/json".to_string()),
            ];
            if body.is_some() {
                headers.push(("content-type".into(), "application/json".into()));
            }
            let req = HttpRequest {
                method,
                url: format!("{}{}", self.settings.api_base(), path),
                headers,
                body: body_bytes.clone(),
                timeout_ms: self.settings.request_timeout_ms,
            };
            let (resp, attempts) = self.send_retrying(&req)?;
            match resp.status {
                200..=299 => {
                    if resp.body.iter().all(u8::is_ascii_whitespace) {
                        return Ok(Value::Null);
                    }
                    return serde_json::from_slice(&resp.body).map_err(|e| {
                        Error::Transport(format!("Genesys answered {path} with invalid JSON: {e}"))
                    });
                }
                409 if attempts > 1 || resent => return Ok(Value::Null),
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

    /// Drop the cached integration id (Genesys answered 404 for it).
    pub fn forget_integration(&self) -> Result<(), Error> {
        let key = format!("integration/{}", self.settings.deployment_name);
        self.env.kv.delete(&key).map_err(Error::Storage)
    }

    /// The id of the open-messaging integration named by `deployment-name`, looked up
    /// through every page of the integrations list and cached in KV.
    pub fn integration_id(&self) -> Result<String, Error> {
        let name = &self.settings.deployment_name;
        let key = format!("integration/{name}");
        if let Some(id) = self.env.kv.get(&key).map_err(Error::Storage)? {
            if let Ok(id) = String::from_utf8(id) {
                return Ok(id);
            }
        }
        let mut page = 1u32;
        let mut seen = 0usize;
        loop {
            let v = self.api(
                "GET",
                &format!("/api/v2/conversations/messaging/integrations/open?pageSize=25&pageNumber={page}"),
                None,
            )?;
            let entities = v
                .get("entities")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            seen += entities.len();
            if let Some(id) = entities.iter().find_map(|e| {
                (e.get("name").and_then(Value::as_str) == Some(name.as_str()))
                    .then(|| e.get("id").and_then(Value::as_str))
                    .flatten()
            }) {
                self.env
                    .kv
                    .set(&key, id.as_bytes())
                    .map_err(Error::Storage)?;
                return Ok(id.to_string());
            }
            let page_count = v.get("pageCount").and_then(Value::as_u64).unwrap_or(0);
            let has_next = v.get("nextUri").and_then(Value::as_str).is_some();
            if entities.is_empty() || (u64::from(page) >= page_count && !has_next) || page >= 1000 {
                return Err(Error::Config(format!(
                    "setting 'deployment-name' ({name:?}) matches none of the {seen} open messaging integrations"
                )));
            }
            page += 1;
        }
    }
}
