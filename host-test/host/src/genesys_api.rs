//! The host's own Genesys calls (the component makes its own): an OAuth token from the
//! tenant's client credentials, the organization id, and the Notifications API's channels
//! and subscriptions. Requests go through [`Egress`], so only to the tenant's region hosts.

use crate::egress::Egress;
use anyhow::{anyhow, bail, Context, Result};
use genesys_om_handover::region::Region;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// A notification channel as Genesys created it.
#[derive(Clone, Debug)]
pub struct Channel {
    /// Channel id.
    pub id: String,
    /// The WebSocket URI to read it from.
    pub connect_uri: String,
    /// When Genesys lets it expire (24 h after creation), as this process's clock sees it.
    pub expires: Instant,
}

/// One tenant's Genesys client: region, credentials, a cached token.
pub struct GenesysApi {
    region: Region,
    client_id: String,
    client_secret: String,
    egress: Egress,
    token: Mutex<Option<(String, Instant)>>,
}

impl GenesysApi {
    /// A client for a tenant's settings (`host`, `client-id`, `client-secret`).
    pub fn new(config: &std::collections::HashMap<String, String>, egress: Egress) -> Result<Self> {
        let get = |k: &str| {
            config
                .get(k)
                .filter(|v| !v.trim().is_empty())
                .cloned()
                .ok_or_else(|| anyhow!("setting {k:?} is missing"))
        };
        let region = Region::parse(&get("host")?).map_err(|e| anyhow!("{e}"))?;
        Ok(Self {
            region,
            client_id: get("client-id")?,
            client_secret: get("client-secret")?,
            egress,
            token: Mutex::new(None),
        })
    }

    async fn token(&self, refresh: bool) -> Result<String> {
        let mut cached = self.token.lock().await;
        if let Some((t, until)) = cached.as_ref() {
            if !refresh && Instant::now() < *until {
                return Ok(t.clone());
            }
        }
        use base64::Engine as _;
        let pair = format!("{}:{}", self.client_id, self.client_secret);
        let basic = base64::engine::general_purpose::STANDARD.encode(pair);
        let url = format!("{}/oauth/token", self.region.login_base());
        let headers = [
            ("authorization", format!("Basic {basic}")),
            (
                "content-type",
                "application/x-www-form-urlencoded".to_string(),
            ),
        ];
        let (status, body) = self
            .egress
            .send(
                "POST",
                &url,
                &headers,
                b"grant_type=client_credentials".to_vec(),
            )
            .await?;
        if status != 200 {
            bail!("token request answered {status}");
        }
        let v: Value = serde_json::from_slice(&body).context("token response")?;
        let token = v["access_token"]
            .as_str()
            .ok_or_else(|| anyhow!("token response without access_token"))?
            .to_string();
        let secs = v["expires_in"].as_u64().unwrap_or(3600).saturating_sub(60);
        *cached = Some((token.clone(), Instant::now() + Duration::from_secs(secs)));
        Ok(token)
    }

    /// An API call with the bearer token; a 401 gets one fresh token and one retry.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value)> {
        let url = format!("{}{path}", self.region.api_base());
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        for refresh in [false, true] {
            let token = self.token(refresh).await?;
            let headers = [
                ("authorization", format!("Bearer {token}")),
                ("content-type", "application/json".to_string()),
            ];
            let (status, out) = self
                .egress
                .send(method, &url, &headers, bytes.clone())
                .await?;
            if status == 401 && !refresh {
                continue;
            }
            let v = serde_json::from_slice(&out).unwrap_or(Value::Null);
            return Ok((status, v));
        }
        unreachable!("the loop returns on its second round")
    }

    /// `GET /api/v2/organizations/me` → the organization id.
    pub async fn organization_id(&self) -> Result<String> {
        let (status, v) = self.call("GET", "/api/v2/organizations/me", None).await?;
        match (status, v["id"].as_str()) {
            (200, Some(id)) => Ok(id.to_string()),
            _ => bail!("organization lookup answered {status}"),
        }
    }

    /// `POST /api/v2/notifications/channels`.
    pub async fn create_channel(&self) -> Result<Channel> {
        let (status, v) = self
            .call("POST", "/api/v2/notifications/channels", None)
            .await?;
        let (Some(id), Some(uri)) = (v["id"].as_str(), v["connectUri"].as_str()) else {
            bail!("channel creation answered {status}: {v}");
        };
        Ok(Channel {
            id: id.to_string(),
            connect_uri: uri.to_string(),
            // Genesys says 24 h; counted from now, whatever its clock says.
            expires: Instant::now() + Duration::from_secs(24 * 3600),
        })
    }

    /// `DELETE` every subscription of a channel (one this host no longer reads).
    pub async fn unsubscribe_all(&self, channel: &str) -> Result<()> {
        let path = format!("/api/v2/notifications/channels/{channel}/subscriptions");
        let (status, v) = self.call("DELETE", &path, None).await?;
        if !(200..300).contains(&status) {
            bail!("DELETE subscriptions answered {status}: {v}");
        }
        Ok(())
    }

    /// `PUT` (replace with) or `POST` (add) a channel's topic subscriptions.
    pub async fn subscribe(&self, channel: &str, topics: &[String], replace: bool) -> Result<()> {
        let body: Vec<Value> = topics.iter().map(|t| json!({ "id": t })).collect();
        let path = format!("/api/v2/notifications/channels/{channel}/subscriptions");
        let method = if replace { "PUT" } else { "POST" };
        let (status, v) = self.call(method, &path, Some(Value::Array(body))).await?;
        if status != 200 {
            bail!("{method} subscriptions answered {status}: {v}");
        }
        Ok(())
    }
}
