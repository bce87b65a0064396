//! Provider settings read through `wasi:config`: one set per tenant, supplied by the host,
//! checked before any request is made. Keys are documented in the README; values are never
//! echoed in errors.

use crate::genesys::region::Region;
use crate::model::Error;
use crate::ports::Config;

/// Default of `max-user-text-chars`: four Genesys messages' worth of text.
pub const DEFAULT_MAX_USER_TEXT_CHARS: usize = 4 * crate::transcript::MAX_TEXT_CHARS;

/// Config keys.
pub mod keys {
    /// Genesys Cloud region.
    pub const HOST: &str = "host";
    /// Name of the Open Messaging integration.
    pub const DEPLOYMENT_NAME: &str = "deployment-name";
    /// Queue sent as the `queueId` attribute.
    pub const QUEUE_ID: &str = "queue-id";
    /// Outbound webhook signature secret.
    pub const WEBHOOK_SECRET: &str = "webhook-secret";
    /// The previous secret, accepted during a rotation.
    pub const WEBHOOK_SECRET_PREVIOUS: &str = "webhook-secret-previous";
    /// OAuth client id.
    pub const CLIENT_ID: &str = "client-id";
    /// OAuth client secret.
    pub const CLIENT_SECRET: &str = "client-secret";
    /// Show the agent's display name (Users API) with the agent's messages to the user.
    pub const SEND_PROFILE: &str = "send-profile";
    /// Send the user's profile in `channel.from`.
    pub const SEND_USER_PROFILE: &str = "send-user-profile";
    /// Forward Genesys bot messages as `update` statuses.
    pub const HANDLE_BOT_MESSAGES: &str = "handle-bot-messages";
    /// Drop transcript lines with unsupported content.
    pub const FILTER_UNSUPPORTED: &str = "filter-unsupported-messages";
    /// Drop empty transcript lines.
    pub const FILTER_EMPTY: &str = "filter-empty-messages";
    /// Idle time after which an inactivity check ends the handover.
    pub const INACTIVITY_TIMEOUT_SECS: &str = "inactivity-timeout-secs";
    /// How long before that an inactivity check warns (`inactivity-warning`); 0: never.
    pub const INACTIVITY_WARNING_SECS: &str = "inactivity-warning-secs";
    /// An `acw` this soon after a transfer does not end the handover.
    pub const ACW_GRACE_MS: &str = "acw-after-transfer-grace-ms";
    /// Total time one request may spend on retries.
    pub const RETRY_DEADLINE_MS: &str = "retry-deadline-ms";
    /// Longest `Retry-After` honoured.
    pub const MAX_RETRY_AFTER_MS: &str = "max-retry-after-ms";
    /// Timeout of one attempt.
    pub const REQUEST_TIMEOUT_MS: &str = "request-timeout-ms";
    /// Longest user text (in characters) `user-message` relays; longer is `invalid-input`.
    pub const MAX_USER_TEXT_CHARS: &str = "max-user-text-chars";
    /// Only read by builds with the `loopback-genesys` feature.
    pub const TEST_BASE_URL: &str = "test-genesys-base-url";
}

/// The provider settings of one tenant.
#[derive(Clone)]
pub struct ProviderSettings {
    /// The region (checked against the known ones).
    pub region: Region,
    /// Name of the Open Messaging integration.
    pub deployment_name: String,
    /// Queue for the `queueId` attribute.
    pub queue_id: Option<String>,
    /// Webhook secrets, current first.
    pub webhook_secrets: Vec<String>,
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: String,
    /// Show the agent's display name to the user ("Send Profile information").
    pub send_profile: bool,
    /// Send the user's profile to Genesys.
    pub send_user_profile: bool,
    /// Forward bot messages.
    pub handle_bot_messages: bool,
    /// Drop unsupported transcript lines.
    pub filter_unsupported: bool,
    /// Drop empty transcript lines.
    pub filter_empty: bool,
    /// Inactivity timeout (a handover's own, from its node, takes its place).
    pub inactivity_timeout_secs: u64,
    /// Lead of the `inactivity-warning` before the inactivity timeout; 0: no warning.
    pub inactivity_warning_secs: u64,
    /// Grace period for `acw` after a transfer.
    pub acw_grace_ms: u64,
    /// Retry deadline of one request.
    pub retry_deadline_ms: u64,
    /// Longest `Retry-After` honoured.
    pub max_retry_after_ms: u64,
    /// Timeout of one attempt.
    pub request_timeout_ms: u64,
    /// Longest user text relayed, in characters (bounds the Genesys requests per message).
    pub max_user_text_chars: usize,
    /// Loopback stand-in for both Genesys hosts (`loopback-genesys` test builds only).
    pub base_override: Option<String>,
}

impl std::fmt::Debug for ProviderSettings {
    // Secrets stay out of debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderSettings")
            .field("region", &self.region)
            .field("deployment_name", &self.deployment_name)
            .field("queue_id", &self.queue_id)
            .field("webhook_secrets", &self.webhook_secrets.len())
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

fn get(config: &dyn Config, key: &str) -> Result<Option<String>, Error> {
    let v = config
        .get(key)
        .map_err(|e| Error::Config(format!("cannot read setting '{key}': {e}")))?;
    Ok(v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()))
}

fn required(config: &dyn Config, key: &str) -> Result<String, Error> {
    get(config, key)?.ok_or_else(|| Error::Config(format!("setting '{key}' is missing")))
}

fn flag(config: &dyn Config, key: &str, default: bool) -> Result<bool, Error> {
    match get(config, key)?
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None => Ok(default),
        Some("true" | "1" | "yes" | "on") => Ok(true),
        Some("false" | "0" | "no" | "off") => Ok(false),
        Some(_) => Err(Error::Config(format!(
            "setting '{key}' must be true or false"
        ))),
    }
}

fn number(config: &dyn Config, key: &str, default: u64) -> Result<u64, Error> {
    match get(config, key)? {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| Error::Config(format!("setting '{key}' must be a whole number"))),
    }
}

fn positive(config: &dyn Config, key: &str, default: usize) -> Result<usize, Error> {
    match get(config, key)? {
        None => Ok(default),
        Some(v) => v.parse().ok().filter(|&n| n > 0).ok_or_else(|| {
            Error::Config(format!("setting '{key}' must be a positive whole number"))
        }),
    }
}

#[cfg(feature = "loopback-genesys")]
fn loopback_override(config: &dyn Config) -> Result<Option<String>, Error> {
    let Some(url) = get(config, keys::TEST_BASE_URL)? else {
        return Ok(None);
    };
    let rest = url.strip_prefix("http://").unwrap_or("");
    let host = rest.split(['/', ':']).next().unwrap_or("");
    let host = if rest.starts_with("[::1]") {
        "[::1]"
    } else {
        host
    };
    if !matches!(host, "127.0.0.1" | "localhost" | "[::1]")
        || rest.trim_end_matches('/').contains('/')
    {
        return Err(Error::Config(format!(
            "setting '{}' must be a loopback http:// URL without a path",
            keys::TEST_BASE_URL
        )));
    }
    Ok(Some(url.trim_end_matches('/').to_string()))
}

#[cfg(not(feature = "loopback-genesys"))]
fn loopback_override(_: &dyn Config) -> Result<Option<String>, Error> {
    Ok(None)
}

impl ProviderSettings {
    /// Where OAuth goes: `https://login.<region>`.
    pub fn login_base(&self) -> String {
        self.base_override
            .clone()
            .unwrap_or_else(|| self.region.login_base())
    }

    /// Where the Platform API goes: `https://api.<region>`.
    pub fn api_base(&self) -> String {
        self.base_override
            .clone()
            .unwrap_or_else(|| self.region.api_base())
    }

    /// Only the webhook-side settings: what `agent-message` needs even without API credentials.
    pub fn webhook_secrets(config: &dyn Config) -> Result<Vec<String>, Error> {
        let mut v = Vec::new();
        for key in [keys::WEBHOOK_SECRET, keys::WEBHOOK_SECRET_PREVIOUS] {
            if let Some(s) = get(config, key)? {
                v.push(s);
            }
        }
        Ok(v)
    }

    /// Only the `send-profile` flag: whether a webhook shows the agent's name.
    pub fn send_profile(config: &dyn Config) -> Result<bool, Error> {
        flag(config, keys::SEND_PROFILE, false)
    }

    /// Only the `handle-bot-messages` flag: what a webhook needs besides the secrets.
    pub fn handle_bot_messages(config: &dyn Config) -> Result<bool, Error> {
        flag(config, keys::HANDLE_BOT_MESSAGES, false)
    }

    /// Read and check every setting; the host is checked before any request is made.
    pub fn load(config: &dyn Config) -> Result<Self, Error> {
        let region = Region::parse(&required(config, keys::HOST)?)?;
        Ok(Self {
            region,
            deployment_name: required(config, keys::DEPLOYMENT_NAME)?,
            queue_id: get(config, keys::QUEUE_ID)?,
            webhook_secrets: Self::webhook_secrets(config)?,
            client_id: required(config, keys::CLIENT_ID)?,
            client_secret: required(config, keys::CLIENT_SECRET)?,
            send_profile: Self::send_profile(config)?,
            send_user_profile: flag(config, keys::SEND_USER_PROFILE, false)?,
            handle_bot_messages: flag(config, keys::HANDLE_BOT_MESSAGES, false)?,
            filter_unsupported: flag(config, keys::FILTER_UNSUPPORTED, false)?,
            filter_empty: flag(config, keys::FILTER_EMPTY, false)?,
            inactivity_timeout_secs: number(config, keys::INACTIVITY_TIMEOUT_SECS, 1800)?,
            inactivity_warning_secs: number(config, keys::INACTIVITY_WARNING_SECS, 0)?,
            acw_grace_ms: number(config, keys::ACW_GRACE_MS, 10_000)?,
            retry_deadline_ms: number(config, keys::RETRY_DEADLINE_MS, 8_000)?,
            max_retry_after_ms: number(config, keys::MAX_RETRY_AFTER_MS, 5_000)?,
            request_timeout_ms: number(config, keys::REQUEST_TIMEOUT_MS, 10_000)?.max(1),
            max_user_text_chars: positive(
                config,
                keys::MAX_USER_TEXT_CHARS,
                DEFAULT_MAX_USER_TEXT_CHARS,
            )?,
            base_override: loopback_override(config)?,
        })
    }
}
