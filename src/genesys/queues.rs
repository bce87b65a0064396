//! A queue's figures from Genesys: the estimated wait time (routing API,
//! `EstimatedWaitTimePredictions`) and the agents on queue and interactions now (analytics
//! queue observations, `QueueObservationQueryResponse`).

use super::client::Client;
use super::paths;
use crate::model::{Error, QueueFigures};
use serde::{Deserialize, Serialize};

/// Genesys's routing status of an agent free to take a conversation.
pub const IDLE: &str = "IDLE";

/// A `QueueObservationQuery`: which queues, and which metrics.
#[derive(Debug, Serialize)]
pub struct ObservationQuery<'a> {
    /// The queues to observe.
    pub filter: Filter<'a>,
    /// The metrics wanted.
    pub metrics: [&'static str; 2],
}

/// A `QueueObservationQueryFilter`: predicates combined by `type` (`and`).
#[derive(Debug, Serialize)]
pub struct Filter<'a> {
    /// How the predicates combine.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The predicates.
    pub predicates: Vec<Predicate<'a>>,
}

/// A `QueueObservationQueryPredicate` on a dimension.
#[derive(Debug, Serialize)]
pub struct Predicate<'a> {
    /// `dimension`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The dimension, e.g. `queueId`.
    pub dimension: &'static str,
    /// `matches`.
    pub operator: &'static str,
    /// The value the dimension matches.
    pub value: &'a str,
}

/// The `QueueObservationQuery` for one queue: agents on queue by routing status
/// (`oOnQueueUsers`) and conversations being handled (`oInteracting`).
pub fn observation_query(queue_id: &str) -> ObservationQuery<'_> {
    ObservationQuery {
        filter: Filter {
            kind: "and",
            predicates: vec![Predicate {
                kind: "dimension",
                dimension: "queueId",
                operator: "matches",
                value: queue_id,
            }],
        },
        metrics: ["oOnQueueUsers", "oInteracting"],
    }
}

/// What we read of `EstimatedWaitTimePredictions`.
#[derive(Debug, Default, Deserialize)]
pub struct Predictions {
    /// One prediction per intent (and formula).
    #[serde(default)]
    pub results: Vec<Prediction>,
}

/// What we read of a `PredictionResults`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Prediction {
    /// `MESSAGE`, `ALL`, `CALL`, ...
    pub intent: Option<String>,
    /// The estimate, when Genesys has one.
    pub estimated_wait_time_seconds: Option<u64>,
}

/// What we read of a `QueueObservationQueryResponse`.
#[derive(Debug, Default, Deserialize)]
pub struct Observations {
    /// One result per group (queue).
    #[serde(default)]
    pub results: Vec<ObservationResult>,
}

/// A `QueueObservationDataContainer`: the figures of one group.
#[derive(Debug, Default, Deserialize)]
pub struct ObservationResult {
    /// One figure per metric (and qualifier).
    #[serde(default)]
    pub data: Vec<Observation>,
}

/// An `ObservationMetricData`: one metric's count, for one qualifier (a routing status).
#[derive(Debug, Default, Deserialize)]
pub struct Observation {
    /// `oOnQueueUsers`, `oInteracting`, ...
    pub metric: Option<String>,
    /// For `oOnQueueUsers`, the routing status counted (`IDLE`, `INTERACTING`, ...).
    pub qualifier: Option<String>,
    /// The figures.
    #[serde(default)]
    pub stats: Stats,
}

/// A `StatisticalSummary`; only its count is read.
#[derive(Debug, Default, Deserialize)]
pub struct Stats {
    /// How many.
    pub count: Option<u64>,
}

/// The estimate of an `EstimatedWaitTimePredictions`: of its results, the one for messaging
/// (`intent` `MESSAGE`), else the one for all media (`ALL`), else the first that has one.
pub fn estimated_wait(p: &Predictions) -> Option<u32> {
    let seconds = |r: &Prediction| {
        r.estimated_wait_time_seconds
            .map(|s| u32::try_from(s).unwrap_or(u32::MAX))
    };
    let of_intent = |intent: &str| {
        p.results
            .iter()
            .filter(|r| r.intent.as_deref() == Some(intent))
            .find_map(seconds)
    };
    of_intent("MESSAGE")
        .or_else(|| of_intent("ALL"))
        .or_else(|| p.results.iter().find_map(seconds))
}

/// Agents on queue, agents idle and interactions from a `QueueObservationQueryResponse`
/// (`results[].data[]` with `metric`, `qualifier` and `stats.count`), summed over results.
pub fn observations(o: &Observations) -> (u32, u32, u32) {
    let (mut on_queue, mut idle, mut interacting) = (0u32, 0u32, 0u32);
    for d in o.results.iter().flat_map(|r| &r.data) {
        let count = d
            .stats
            .count
            .map_or(0, |c| u32::try_from(c).unwrap_or(u32::MAX));
        match d.metric.as_deref() {
            Some("oOnQueueUsers") => {
                on_queue = on_queue.saturating_add(count);
                if d.qualifier.as_deref() == Some(IDLE) {
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
        let wait: Predictions = self.get(&paths::estimated_wait(queue_id))?;
        let query = observation_query(queue_id);
        let obs: Observations = self.send("POST", paths::QUEUE_OBSERVATIONS, &query, false)?;
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
    use serde_json::{json, Value};

    fn predictions(v: Value) -> Predictions {
        serde_json::from_value(v).unwrap()
    }

    fn observed(v: Value) -> Observations {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn the_messaging_estimate_wins() {
        let v = predictions(json!({"results": [
            {"intent": "ALL", "formula": "BEST", "estimatedWaitTimeSeconds": 300},
            {"intent": "MESSAGE", "formula": "BEST", "estimatedWaitTimeSeconds": 240}
        ]}));
        assert_eq!(estimated_wait(&v), Some(240));
        let v = predictions(
            json!({"results": [{"intent": "CALL", "estimatedWaitTimeSeconds": 60},
            {"intent": "ALL", "estimatedWaitTimeSeconds": 90}]}),
        );
        assert_eq!(estimated_wait(&v), Some(90));
        let v =
            predictions(json!({"results": [{"intent": "CALL", "estimatedWaitTimeSeconds": 60}]}));
        assert_eq!(estimated_wait(&v), Some(60));
        assert_eq!(estimated_wait(&predictions(json!({"results": []}))), None);
        let no_estimate = predictions(json!({"results": [{"intent": "ALL"}]}));
        assert_eq!(estimated_wait(&no_estimate), None);
        // An empty answer.
        assert_eq!(estimated_wait(&Predictions::default()), None);
    }

    #[test]
    fn agents_by_routing_status() {
        let v = observed(json!({"results": [{"group": {"queueId": "q"}, "data": [
            {"metric": "oOnQueueUsers", "qualifier": "IDLE", "stats": {"count": 2}},
            {"metric": "oOnQueueUsers", "qualifier": "INTERACTING", "stats": {"count": 3}},
            {"metric": "oOnQueueUsers", "qualifier": "NOT_RESPONDING", "stats": {"count": 1}},
            {"metric": "oInteracting", "stats": {"count": 4}},
            {"metric": "oWaiting", "stats": {"count": 9}}
        ]}]}));
        assert_eq!(observations(&v), (6, 2, 4));
        let empty = observed(json!({"results": [{"group": {"queueId": "q"}}]}));
        assert_eq!(observations(&empty), (0, 0, 0));
        // An empty answer.
        assert_eq!(observations(&Observations::default()), (0, 0, 0));
    }

    #[test]
    fn the_query_filters_on_the_queue() {
        let q = serde_json::to_value(observation_query("q-1")).unwrap();
        assert_eq!(q["filter"]["predicates"][0]["value"], "q-1");
        assert_eq!(q["metrics"], json!(["oOnQueueUsers", "oInteracting"]));
        let predicate = json!({ "type": "dimension", "dimension": "queueId", "operator": "matches", "value": "q-1" });
        assert_eq!(
            q["filter"],
            json!({ "type": "and", "predicates": [predicate] })
        );
    }
}
