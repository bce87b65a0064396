//! Fault injection: a seeded share of requests gets a 500, a 429 with `Retry-After`, a
//! dropped connection (before or after the request is processed) or a slow answer, so tests
//! can check retries and exactly-once delivery. The serving loop (`serve.rs`) applies them.

use crate::reply::{error_body, json_response};
use crate::Simulator;
use axum::response::Response;
use http::StatusCode;
use serde_json::json;

/// Fault injection: `rate` of all requests fail, spread over the kinds by weight.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Share of requests that get a fault, 0.0 to 1.0.
    pub rate: f64,
    /// Weights of: 500, 429 with `Retry-After`, dropped connection before processing,
    /// dropped connection after processing, slow answer.
    pub weights: [u32; 5],
    /// `Retry-After` seconds sent with 429.
    pub retry_after_secs: u64,
    /// How long a slow answer takes.
    pub slow_ms: u64,
}

/// What fault a request got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 500 with an ErrorBody; the request is not processed.
    ServerError,
    /// 429 with `Retry-After`; the request is not processed.
    TooManyRequests,
    /// The connection is closed without an answer; the request is not processed.
    DropBefore,
    /// The request is processed, then the connection is closed without an answer.
    DropAfter,
    /// The request is processed after `slow_ms`.
    Slow,
}

impl Simulator {
    /// Configure fault injection (deterministic for a given seed).
    pub fn set_faults(&self, faults: Faults, seed: u64) {
        let mut st = self.lock();
        st.faults = faults;
        st.fault_seed = seed.max(1);
    }

    /// Total faults injected so far.
    pub fn faults_injected(&self) -> usize {
        self.lock().injected.values().sum()
    }

    /// Roll the dice for one request; counts the fault it picks.
    pub(crate) fn pick_fault(&self) -> Option<Fault> {
        let mut st = self.lock();
        if st.faults.rate <= 0.0 {
            return None;
        }
        let mut next = || {
            st.fault_seed ^= st.fault_seed << 13;
            st.fault_seed ^= st.fault_seed >> 7;
            st.fault_seed ^= st.fault_seed << 17;
            st.fault_seed
        };
        let roll = (next() % 1_000_000) as f64 / 1_000_000.0;
        let pick = next();
        if roll >= st.faults.rate {
            return None;
        }
        let total: u32 = st.faults.weights.iter().sum();
        if total == 0 {
            return None;
        }
        let mut r = (pick % u64::from(total)) as u32;
        let kinds = [
            Fault::ServerError,
            Fault::TooManyRequests,
            Fault::DropBefore,
            Fault::DropAfter,
            Fault::Slow,
        ];
        for (k, w) in kinds.iter().zip(st.faults.weights) {
            if r < w {
                *st.injected.entry(format!("{k:?}")).or_default() += 1;
                return Some(*k);
            }
            r -= w;
        }
        None
    }

    /// The answer of a 500 or 429 fault, logged as `METHOD path STATUS (fault)`.
    pub(crate) fn fault_answer(&self, fault: Fault, method: &str, path: &str) -> Response {
        let mut st = self.lock();
        if fault == Fault::TooManyRequests {
            let secs = st.faults.retry_after_secs;
            st.log.push(format!("{method} {path} 429 (fault)"));
            let body = json!({"message": format!("Rate limit exceeded the maximum. Retry the request in [{secs}] seconds"),
                "code": "too.many.requests.retry.after", "status": 429,
                "contextId": "00000000-0000-4000-8000-000000000000", "details": [], "errors": []});
            return json_response(
                StatusCode::TOO_MANY_REQUESTS,
                &body,
                &[("retry-after", secs.to_string())],
            );
        }
        st.log.push(format!("{method} {path} 500 (fault)"));
        json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &error_body(
                500,
                "internal.server.error",
                "The server encountered an unexpected condition.",
            ),
            &[],
        )
    }
}
