//! A tenant as a hook call sees it: a name that scopes its stored data, and the provider
//! settings the component reads through `wasi:config`. Also the tenant file `serve` reads.

use anyhow::{Context, Result};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One tenant: its name (scopes key-value data) and its provider settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tenant {
    /// Tenant name: letters, digits, `-` and `_`.
    pub name: String,
    /// Provider settings (`wasi:config`).
    pub config: HashMap<String, String>,
}

impl Tenant {
    /// A tenant from its name and settings.
    pub fn new(name: &str, config: HashMap<String, String>) -> Self {
        Self {
            name: name.to_string(),
            config,
        }
    }

    /// A tenant from settings given as string pairs (tests, fixtures).
    pub fn from_pairs(name: &str, pairs: &[(&str, &str)]) -> Self {
        let config = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        Self::new(name, config.collect())
    }

    /// Whether `name` may name a tenant (it becomes part of file names and store keys).
    pub fn valid_name(name: &str) -> bool {
        !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    }
}

/// A tenant file of `serve`: `<tenants-dir>/<tenant>.json`.
#[derive(Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TenantFile {
    /// Component file, relative to the tenants directory or absolute.
    pub component: PathBuf,
    /// Value Genesys event deliveries must carry in `Authorization` (EventBridge API key).
    #[serde(rename = "events-api-key")]
    pub events_api_key: String,
    /// Provider settings (`wasi:config`).
    pub config: HashMap<String, String>,
    /// When set, the bot-side API requires `Authorization: Bearer <key>`.
    #[serde(rename = "bot-api-key", default)]
    pub bot_api_key: Option<String>,
    /// Hook calls of this tenant that may run at once; more are answered 503.
    #[serde(rename = "max-concurrent-calls", default = "default_max_calls")]
    pub max_concurrent_calls: usize,
    /// Largest Genesys webhook or event body read for this tenant, in bytes (checked
    /// before the signature).
    #[serde(rename = "max-webhook-bytes", default = "default_max_webhook")]
    pub max_webhook_bytes: usize,
}

fn default_max_calls() -> usize {
    DEFAULT_MAX_CONCURRENT_CALLS
}

fn default_max_webhook() -> usize {
    DEFAULT_MAX_WEBHOOK_BYTES
}

/// Default of `max-concurrent-calls`.
pub const DEFAULT_MAX_CONCURRENT_CALLS: usize = 64;
/// Default of `max-webhook-bytes`: Genesys webhooks are a few KiB.
pub const DEFAULT_MAX_WEBHOOK_BYTES: usize = 256 * 1024;

impl TenantFile {
    /// Read and parse a tenant file.
    pub fn read(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }
}
