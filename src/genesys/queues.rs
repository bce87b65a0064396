//! A queue's figures from Genesys: the estimated wait time (routing API,
//! `EstimatedWaitTimePredictions`) and the agents on queue and interactions now (analytics
//! queue observations, `QueueObservationQueryResponse`).

use super::client::Client;
use super::paths;
use crate::model::{Error, QueueFigures};
use serde_json::{json, Value};

/// Genesys's routing status of an agent free to take a conversation.
pub const IDLE: &str = "IDLE";

/// The `QueueObservationQuery` for one queue: agents on queue by routing status
/// (`oOnQueueUsers`) and conversations being handled (`oInteracting`).
pub fn observation_query(queue_id: &str) -> Value {
    json!({
        "filter": {
            "type": "and",
            "predicates": [ { "type": "dimension", "dimension": "queueId", "operator": "matches", "value": queue_id } ]
        },
        "metrics": ["oOnQueueUsers", "oInteracting"]
    })
}

/// The estimate of an `EstimatedWaitTimePredictions`: of its results, the one for messaging
/// (`intent` `MESSAGE`), else the one for all media (`ALL`), else the first that has one.
pub fn estimated_wait(v: &Value) -> Option<u32> {
    let results = v.get("results")?.as_array()?;
    let seconds = |r: &Value| {
        r.get("estimatedWaitTimeSeconds")
            .and_then(Value::as_u64)
            .map(|s| u32::try_from(s).unwrap_or(u32::MAX))
    };
    let of_intent = |intent: &str| {
        results
            .iter()
            .filter(|r| r.get("intent").and_then(Value::as_str) == Some(intent))
            .find_map(seconds)
    };
    of_intent("MESSAGE")
        .or_else(|| of_intent("ALL"))
        .or_else(|| results.iter().find_map(seconds))
}

/// Agents on queue, agents idle and interactions from a `QueueObservationQueryResponse`
/// (`results[].data[]` with `metric`, `qualifier` and `stats.count`), summed over results.
pub fn observations(v: &Value) -> (u32, u32, u32) {
    let (mut on_queue, mut idle, mut interacting) = (0u32, 0u32, 0u32);
    let results = v.get("results").and_then(Value::as_array);
    let data = results
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("data").and_then(Value::as_array))
        .flatten();
    for d in data {
        let count = d
            .pointer("/stats/count")
            .and_then(Value::as_u64)
            .map_or(0, |c| u32::try_from(c).unwrap_or(u32::MAX));
        let qualifier = d.get("qualifier").and_then(Value::as_str);
        match d.get("metric").and_then(Value::as_str) {
            Some("oOnQueueUsers") => {
                on_queue = on_queue.saturating_add(count);
                if qualifier == Some(IDLE) {
                    idle = idle.saturating_add(count);
                }
            }
            Some("oInteracting") => interacting = interacting.saturating_add(count),
            _ => {}
        }
    }
    (on_queue, idle, interacting)
}

impl Client<'_> {
    /// The queue's estimated wait and its agents now: two requests, the estimate first (a
    /// queue Genesys does not know is its 404).
    pub fn queue_status(&self, queue_id: &str) -> Result<QueueFigures, Error> {
        let wait = self.api("GET", &paths::estimated_wait(queue_id), None, false)?;
        let query = observation_query(queue_id);
        let obs = self.api("POST", paths::QUEUE_OBSERVATIONS, Some(&query), false)?;
        let (agents_on_queue, agents_available, interacting) = observations(&obs);
        Ok(QueueFigures {
            estimated_wait_seconds: estimated_wait(&wait),
            agents_on_queue,
            agents_available,
            interacting,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_messaging_estimate_wins() {
        let v = json!({"results": [
            {"intent": "ALL", "formula": "BEST", "estimatedWaitTimeSeconds": 300},
            {"intent": "MESSAGE", "formula": "BEST", "estimatedWaitTimeSeconds": 240}
        ]});
        assert_eq!(estimated_wait(&v), Some(240));
        let v = json!({"results": [{"intent": "CALL", "estimatedWaitTimeSeconds": 60},
            {"intent": "ALL", "estimatedWaitTimeSeconds": 90}]});
        assert_eq!(estimated_wait(&v), Some(90));
        let v = json!({"results": [{"intent": "CALL", "estimatedWaitTimeSeconds": 60}]});
        assert_eq!(estimated_wait(&v), Some(60));
        assert_eq!(estimated_wait(&json!({"results": []})), None);
        assert_eq!(
            estimated_wait(&json!({"results": [{"intent": "ALL"}]})),
            None
        );
        assert_eq!(estimated_wait(&Value::Null), None);
    }

    #[test]
    fn agents_by_routing_status() {
        let v = json!({"results": [{"group": {"queueId": "q"}, "data": [
            {"metric": "oOnQueueUsers", "qualifier": "IDLE", "stats": {"count": 2}},
            {"metric": "oOnQueueUsers", "qualifier": "INTERACTING", "stats": {"count": 3}},
            {"metric": "oOnQueueUsers", "qualifier": "NOT_RESPONDING", "stats": {"count": 1}},
            {"metric": "oInteracting", "stats": {"count": 4}},
            {"metric": "oWaiting", "stats": {"count": 9}}
        ]}]});
        assert_eq!(observations(&v), (6, 2, 4));
        let empty = json!({"results": [{"group": {"queueId": "q"}}]});
        assert_eq!(observations(&empty), (0, 0, 0));
        assert_eq!(observations(&Value::Null), (0, 0, 0));
    }

    #[test]
    fn the_query_filters_on_the_queue() {
        let q = observation_query("q-1");
        assert_eq!(q["filter"]["predicates"][0]["value"], "q-1");
        assert_eq!(q["metrics"], json!(["oOnQueueUsers", "oInteracting"]));
    }
}
