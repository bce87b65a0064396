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
            url: format!("{}/oauth/token", self.settings.region.login_base()),
            headers: vec![
                ("authorization".into(), format!("Basic {basic}")),
                (
                    "content-type".into(),
                    "application/x-www-form-urlencoded".into(),
                ),
                ("accept".into(), "application/json".into()),
            ],
            body: b"grant_type=client_credentials".to_vec(),
        };
        let resp = self.env.http.send(&req).map_err(Error::Transport)?;
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

    /// Call the Platform API (`path` starts with `/api/v2`); on a 401 the token is renewed
    /// and the call retried once. Any non-2xx answer is a typed error.
    pub fn api(
        &self,
        method: &'static str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, Error> {
        let mut refreshed = false;
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
                url: format!("{}{}", self.settings.region.api_base(), path),
                headers,
                body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
            };
            let resp = self.env.http.send(&req).map_err(Error::Transport)?;
            match resp.status {
                200..=299 => {
                    if resp.body.iter().all(u8::is_ascii_whitespace) {
                        return Ok(Value::Null);
                    }
                    return serde_json::from_slice(&resp.body).map_err(|e| {
                        Error::Transport(format!("Genesys answered {path} with invalid JSON: {e}"))
                    });
                }
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
