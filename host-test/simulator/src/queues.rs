//! Routing queues as the bot side asks about them: `GET /api/v2/routing/queues/{queueId}/
//! estimatedwaittime` (`EstimatedWaitTimePredictions`) and `POST /api/v2/analytics/queues/
//! observations/query` (`QueueObservationQuery` in, `QueueObservationQueryResponse` out),
//! over per-queue figures a test sets with [`Simulator::set_queue`].

use crate::reply::{bad, not_found, Answer};
use crate::state::SimQueue;
use crate::Simulator;
use http::StatusCode;
use serde_json::{json, Value};

/// The metrics a queue observation query may ask for.
const METRICS: [&str; 9] = [
    "oActiveUsers",
    "oAlerting",
    "oInteracting",
    "oMemberUsers",
    "oOffQueueUsers",
    "oOnQueueUsers",
    "oUserPresences",
    "oUserRoutingStatuses",
    "oWaiting",
];

fn invalid(value: &str, field: &str, allowed: &[&str]) -> Answer {
    bad(
        "invalid.value",
        format!(
            "Value [{value}] is not valid for field type [{field}]. Allowable values are: {}",
            allowed.join(", ")
        ),
    )
}

fn check_enum(v: &Value, field: &str, default: &str, allowed: &[&str]) -> Result<String, Answer> {
    let s = match v.get(field) {
        None => default,
        Some(s) => s
            .as_str()
            .ok_or_else(|| invalid(&s.to_string(), field, allowed))?,
    };
    if !allowed.contains(&s) {
        return Err(invalid(s, field, allowed));
    }
    Ok(s.to_string())
}

/// Validate a `QueueObservationQuery` as Genesys does: a filter (`type` `and`/`or`, its
/// `predicates` and `clauses[].predicates` with Genesys's `type`, `dimension` and
/// `operator` enums, a `value` for `matches`) naming at least one `queueId`, and a non-empty
/// `metrics` list of queue observation metrics. Returns the queue ids and the metrics.
pub fn validate_observation_query(body: &Value) -> Result<(Vec<String>, Vec<String>), Answer> {
    let filter = body
        .get("filter")
        .filter(|f| f.is_object())
        .ok_or_else(|| bad("bad.request", "filter is required"))?;
    let mut predicates: Vec<&Value> = Vec::new();
    let mut groups = vec![filter];
    if let Some(c) = filter.get("clauses") {
        let c = c
            .as_array()
            .ok_or_else(|| bad("bad.request", "filter.clauses must be an array"))?;
        groups.extend(c);
    }
    for g in groups {
        if g.get("type").is_none() {
            return Err(bad("bad.request", "filter type is required"));
        }
        check_enum(g, "type", "and", &["and", "or"])?;
        if let Some(p) = g.get("predicates") {
            let p = p
                .as_array()
                .ok_or_else(|| bad("bad.request", "predicates must be an array"))?;
            predicates.extend(p);
        }
    }
    let mut queue_ids = Vec::new();
    for p in predicates {
        let kind = check_enum(p, "type", "dimension", &["dimension", "property", "metric"])?;
        let op = check_enum(
            p,
            "operator",
            "matches",
            &["matches", "exists", "notExists"],
        )?;
        let value = p.get("value").and_then(Value::as_str);
        if op == "matches" && value.is_none() {
            return Err(bad("bad.request", "a matches predicate needs a value"));
        }
        if kind == "dimension" {
            let dim = check_enum(p, "dimension", "", &["mediaType", "queueId"])?;
            if let (true, Some(v)) = (dim == "queueId" && op == "matches", value) {
                queue_ids.push(v.to_string());
            }
        }
    }
    if queue_ids.is_empty() {
        return Err(bad(
            "bad.request",
            "The filter must contain at least one queueId dimension predicate",
        ));
    }
    let metrics = body
        .get("metrics")
        .and_then(Value::as_array)
        .filter(|m| !m.is_empty())
        .ok_or_else(|| bad("bad.request", "metrics is required"))?;
    let mut out = Vec::new();
    for m in metrics {
        let name = m.as_str().unwrap_or("");
        if !METRICS.contains(&name) {
            return Err(invalid(&m.to_string(), "metrics", &METRICS));
        }
        out.push(name.to_string());
    }
    Ok((queue_ids, out))
}

impl Simulator {
    /// Create or change a queue: Genesys's estimated wait (`None`: no estimate), agents on
    /// queue, and of them idle (the rest are interacting, one conversation each).
    pub fn set_queue(&self, queue_id: &str, wait_secs: Option<u32>, on_queue: u32, idle: u32) {
        self.lock().queues.insert(
            queue_id.to_string(),
            SimQueue {
                estimated_wait_secs: wait_secs,
                on_queue,
                idle: idle.min(on_queue),
            },
        );
    }

    /// `GET .../routing/queues/{queueId}/estimatedwaittime`: 404 for an unknown queue.
    pub(crate) fn estimated_wait(&self, queue_id: &str) -> Answer {
        let Some(q) = self.lock().queues.get(queue_id).cloned() else {
            return not_found();
        };
        let results: Vec<Value> = q
            .estimated_wait_secs
            .map(|w| json!({"intent": "ALL", "formula": "BEST", "estimatedWaitTimeSeconds": w}))
            .into_iter()
            .collect();
        (StatusCode::OK, json!({ "results": results }))
    }

    /// `POST .../analytics/queues/observations/query`: one result per queue id the filter
    /// names, with the asked metrics: `oOnQueueUsers` by routing status (statuses with
    /// nobody left out), `oInteracting`, `oWaiting` (always 0 here); a queue the simulator
    /// does not know has no data.
    pub(crate) fn queue_observations(&self, body: &Value) -> Answer {
        let (queue_ids, metrics) = match validate_observation_query(body) {
            Ok(v) => v,
            Err(e) => return e,
        };
        let st = self.lock();
        let results: Vec<Value> = queue_ids
            .iter()
            .map(|id| {
                let mut data = Vec::new();
                if let Some(q) = st.queues.get(id) {
                    let busy = q.on_queue - q.idle;
                    for m in &metrics {
                        match m.as_str() {
                            "oOnQueueUsers" => {
                                for (status, n) in [("IDLE", q.idle), ("INTERACTING", busy)] {
                                    if n > 0 {
                                        data.push(json!({"metric": m, "qualifier": status, "stats": {"count": n}}));
                                    }
                                }
                            }
                            "oInteracting" => {
                                data.push(json!({"metric": m, "stats": {"count": busy}}))
                            }
                            "oWaiting" => data.push(json!({"metric": m, "stats": {"count": 0}})),
                            _ => {}
                        }
                    }
                }
                json!({"group": {"queueId": id}, "data": data})
            })
            .collect();
        (StatusCode::OK, json!({ "results": results }))
    }
}

#[cfg(test)]
mod tests {
    use crate::request;
    use crate::testkit::{bearer, start};
    use serde_json::{json, Value};

    fn json(body: &[u8]) -> Value {
        serde_json::from_slice(body).unwrap()
    }

    fn query(queue: &str) -> Vec<u8> {
        json!({"filter": {"type": "and", "predicates": [{"type": "dimension", "dimension": "queueId", "operator": "matches", "value": queue}]},
               "metrics": ["oOnQueueUsers", "oInteracting"]})
        .to_string()
        .into_bytes()
    }

    #[tokio::test]
    async fn queues_answer_their_wait_and_agents() {
        let (sim, _) = start().await;
        sim.set_queue("q-1", Some(240), 5, 2);
        let auth = bearer(&sim).await;
        let base = sim.base_url();
        let ewt = format!("{base}/api/v2/routing/queues/q-1/estimatedwaittime");
        assert_eq!(request("GET", &ewt, &[], b"").await.unwrap().0, 401);
        let (status, body) = request("GET", &ewt, &auth, b"").await.unwrap();
        assert_eq!(status, 200);
        assert_eq!(json(&body)["results"][0]["estimatedWaitTimeSeconds"], 240);
        let unknown = ewt.replace("q-1", "nope");
        let (status, body) = request("GET", &unknown, &auth, b"").await.unwrap();
        assert_eq!(
            (status, json(&body)["code"].clone()),
            (404, "not.found".into())
        );
        let obs = format!("{base}/api/v2/analytics/queues/observations/query");
        let (status, body) = request("POST", &obs, &auth, &query("q-1")).await.unwrap();
        assert_eq!(status, 200);
        assert_eq!(
            json(&body)["results"][0]["data"],
            json!([{"metric": "oOnQueueUsers", "qualifier": "IDLE", "stats": {"count": 2}},
                   {"metric": "oOnQueueUsers", "qualifier": "INTERACTING", "stats": {"count": 3}},
                   {"metric": "oInteracting", "stats": {"count": 3}}])
        );
        assert_eq!(sim.requests("estimated-wait"), 3);
        assert_eq!(sim.requests("queue-observations"), 1);
    }

    #[tokio::test]
    async fn a_query_genesys_would_refuse_is_a_400() {
        let (sim, _) = start().await;
        let auth = bearer(&sim).await;
        let obs = format!(
            "{}/api/v2/analytics/queues/observations/query",
            sim.base_url()
        );
        let good: Value = json(&query("q-1"));
        let mut no_metrics = good.clone();
        no_metrics.as_object_mut().unwrap().remove("metrics");
        let mut bad_metric = good.clone();
        bad_metric["metrics"] = json!(["oNope"]);
        let mut bad_type = good.clone();
        bad_type["filter"]["type"] = json!("xor");
        let mut no_queue = good.clone();
        no_queue["filter"]["predicates"][0]["dimension"] = json!("mediaType");
        let mut bad_dimension = good.clone();
        bad_dimension["filter"]["predicates"][0]["dimension"] = json!("userId");
        for (body, code) in [
            (no_metrics, "bad.request"),
            (bad_metric, "invalid.value"),
            (bad_type, "invalid.value"),
            (no_queue, "bad.request"),
            (bad_dimension, "invalid.value"),
        ] {
            let (status, answer) = request("POST", &obs, &auth, body.to_string().as_bytes())
                .await
                .unwrap();
            assert_eq!(
                (status, json(&answer)["code"].clone()),
                (400, code.into()),
                "{body}"
            );
        }
        assert_eq!(request("POST", &obs, &auth, b"{").await.unwrap().0, 400);
    }
}
