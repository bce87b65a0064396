//! The open-messaging integrations ("deployments"): adding and re-pointing them, and
//! `GET /api/v2/conversations/messaging/integrations/open`, 1-based pages of 25 by default
//! with `nextUri` only when another page exists, as the component pages through it.

use crate::reply::{bad, Answer};
use crate::state::Integration;
use crate::Simulator;
use http::StatusCode;
use serde_json::{json, Value};

impl Simulator {
    /// Add an integration; returns its id.
    pub fn add_integration(&self, name: &str, webhook_url: &str, secret: &str) -> String {
        let id = self.next_id();
        self.lock().integrations.push(Integration {
            id: id.clone(),
            name: name.into(),
            webhook_url: webhook_url.into(),
            secret: secret.into(),
        });
        id
    }

    /// Point an integration's outbound webhook somewhere else (e.g. the harness's listener).
    pub fn set_webhook_url(&self, integration_id: &str, url: &str) {
        let mut st = self.lock();
        if let Some(i) = st.integrations.iter_mut().find(|i| i.id == integration_id) {
            i.webhook_url = url.into();
        }
    }

    /// One page of the integrations list; `query` is the raw query string.
    pub(crate) fn list_integrations(&self, query: &str) -> Answer {
        let mut page_size = 25usize;
        let mut page_number = 1usize;
        for (k, v) in query.split('&').filter_map(|p| p.split_once('=')) {
            let n = v.parse::<usize>();
            match (k, n) {
                ("pageSize", Ok(n)) if (1..=100).contains(&n) => page_size = n,
                ("pageNumber", Ok(n)) if n >= 1 => page_number = n,
                ("pageSize" | "pageNumber", _) => {
                    return bad(
                        "invalid.value",
                        format!("Value [{v}] is not valid for field type [{k}]"),
                    )
                }
                _ => {}
            }
        }
        let st = self.lock();
        let total = st.integrations.len();
        let page_count = total.div_ceil(page_size).max(1);
        let entities: Vec<Value> = st
            .integrations
            .iter()
            .skip((page_number - 1) * page_size)
            .take(page_size)
            .map(|i| {
                json!({
                    "id": i.id, "name": i.name,
                    "outboundNotificationWebhookUrl": i.webhook_url,
                    "outboundNotificationWebhookSignatureSecretToken": "********",
                    "status": "Active", "createStatus": "Completed",
                    "selfUri": format!("/api/v2/conversations/messaging/integrations/open/{}", i.id)
                })
            })
            .collect();
        let uri = |n: usize| {
            format!("/api/v2/conversations/messaging/integrations/open?pageSize={page_size}&pageNumber={n}")
        };
        let mut v = json!({
            "entities": entities, "pageSize": page_size, "pageNumber": page_number, "total": total,
            "pageCount": page_count, "firstUri": uri(1), "lastUri": uri(page_count), "selfUri": uri(page_number)
        });
        if page_number < page_count {
            v["nextUri"] = json!(uri(page_number + 1));
        }
        if page_number > 1 {
            v["previousUri"] = json!(uri(page_number - 1));
        }
        (StatusCode::OK, v)
    }
}

#[cfg(test)]
mod tests {
    use crate::request;
    use crate::testkit::{bearer, start};
    use serde_json::Value;

    fn json(body: &[u8]) -> Value {
        serde_json::from_slice(body).unwrap()
    }

    #[tokio::test]
    async fn the_integrations_list_is_paged() {
        let (sim, id) = start().await;
        for i in 0..2 {
            sim.add_integration(&format!("Other{i}"), "", "secret-secret-secret");
        }
        let auth = bearer(&sim).await;
        let base = format!(
            "{}/api/v2/conversations/messaging/integrations/open",
            sim.base_url()
        );
        let (status, body) = request("GET", &format!("{base}?pageSize=2"), &auth, b"")
            .await
            .unwrap();
        let page = json(&body);
        assert_eq!(status, 200);
        assert_eq!(page["entities"][0]["id"], id.as_str());
        assert_eq!(
            (page["pageCount"].clone(), page["total"].clone()),
            (2.into(), 3.into())
        );
        assert!(page["nextUri"].as_str().unwrap().ends_with("pageNumber=2"));
        let (_, body) = request(
            "GET",
            &format!("{base}?pageSize=2&pageNumber=2"),
            &auth,
            b"",
        )
        .await
        .unwrap();
        assert!(json(&body).get("nextUri").is_none());
        assert_eq!(
            request("GET", &format!("{base}?pageSize=0"), &auth, b"")
                .await
                .unwrap()
                .0,
            400
        );
    }
}
