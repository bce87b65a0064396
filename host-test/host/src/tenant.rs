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
    /// Hook calls of this tenant that may run at once; more wait in the tenant's queue.
    #[serde(rename = "max-concurrent-calls", default = "default_max_calls")]
    pub max_concurrent_calls: usize,
    /// Calls that may wait for a free slot when `max-concurrent-calls` run; a call past a
    /// full queue is answered 503 at once (0: no queue, every call past the limit is).
    #[serde(rename = "max-queued-calls", default = "default_max_queued")]
    pub max_queued_calls: usize,
    /// Longest a queued call waits for a slot, in milliseconds; then it is answered 503.
    #[serde(rename = "max-queue-wait-ms", default = "default_queue_wait")]
    pub max_queue_wait_ms: u64,
    /// Largest Genesys webhook or event body read for this tenant, in bytes (checked
    /// before the signature).
    #[serde(rename = "max-webhook-bytes", default = "default_max_webhook")]
    pub max_webhook_bytes: usize,
    /// How Genesys tells this tenant a conversation ended: any of `notifications`,
    /// `eventbridge`, `data-action` (default: the last two).
    #[serde(rename = "end-detection", default = "default_end_detection")]
    pub end_detection: Vec<EndDetection>,
    /// Notification topics per open handover, as the topic's last part (`customer.end`,
    /// `user.start`, `user.end`, `acw`); default `customer.end`.
    #[serde(rename = "notification-topics", default = "default_topics")]
    pub notification_topics: Vec<String>,
    /// The Genesys organization id EventBridge `source`s must name; looked up with the
    /// tenant's credentials when not given.
    #[serde(rename = "genesys-organization-id", default)]
    pub genesys_organization_id: Option<String>,
}

/// A way Genesys tells the host that a conversation ended.
#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum EndDetection {
    /// The Notifications API: the host subscribes each open conversation's topics.
    Notifications,
    /// Amazon EventBridge through an API destination posting to the provider URL.
    Eventbridge,
    /// A Trigger and Workflow calling a Web Services Data Action that posts to the URL.
    DataAction,
}

fn default_end_detection() -> Vec<EndDetection> {
    vec![EndDetection::Eventbridge, EndDetection::DataAction]
}

fn default_topics() -> Vec<String> {
    vec!["customer.end".into()]
}

/// The topic kinds a tenant may ask the notifications path for.
pub const NOTIFICATION_TOPICS: &[&str] = &["customer.end", "user.start", "user.end", "acw"];

fn default_max_calls() -> usize {
    DEFAULT_MAX_CONCURRENT_CALLS
}

fn default_max_queued() -> usize {
    DEFAULT_MAX_QUEUED_CALLS
}

fn default_queue_wait() -> u64 {
    DEFAULT_MAX_QUEUE_WAIT_MS
}

fn default_max_webhook() -> usize {
    DEFAULT_MAX_WEBHOOK_BYTES
}

/// Default of `max-concurrent-calls`.
pub const DEFAULT_MAX_CONCURRENT_CALLS: usize = 64;
/// Default of `max-queued-calls`: four times the default limit, so a burst of a few hundred
/// calls at once waits rather than being refused.
pub const DEFAULT_MAX_QUEUED_CALLS: usize = 256;
/// Default of `max-queue-wait-ms`: within Genesys's webhook deadline, with time to run.
pub const DEFAULT_MAX_QUEUE_WAIT_MS: u64 = 5_000;
/// Default of `max-webhook-bytes`: Genesys webhooks are a few KiB.
pub const DEFAULT_MAX_WEBHOOK_BYTES: usize = 256 * 1024;

impl TenantFile {
    /// Read and parse a tenant file.
    pub fn read(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let file: TenantFile =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        if let Some(t) = file
            .notification_topics
            .iter()
            .find(|t| !NOTIFICATION_TOPICS.contains(&t.as_str()))
        {
            anyhow::bail!(
                "{}: notification topic {t:?} is not one of {NOTIFICATION_TOPICS:?}",
                path.display()
            );
        }
        Ok(file)
    }

    /// Whether the tenant takes end events by `way`.
    pub fn detects_by(&self, way: EndDetection) -> bool {
        self.end_detection.contains(&way)
    }
}
