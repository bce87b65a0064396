//! The bot side's POSTs under an `Idempotency-Key` (see [`crate::idempotency`]): a repeat
//! answers as the first call did (`Idempotent-Replayed: true`), a key reused with another
//! request is a 422, and a `user-message` runs with the key as its turn id.

use super::{answer_json, reply, Refused};
use crate::idempotency::{parse_key, request_hash, Claim, Keys, HEADER};
use crate::server::{Call, Server};
use crate::tenants::Loaded;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::json;
use std::sync::Arc;

/// Runs the call `make` builds (given the key, if any) for `user`, once per key.
pub(super) async fn run_once(
    s: &Server,
    loaded: &Arc<Loaded>,
    headers: &HeaderMap,
    route: &str,
    user: &str,
    body: &[u8],
    make: impl FnOnce(Option<String>) -> Call,
) -> Result<Response, Refused> {
    let Some(raw) = headers.get(HEADER) else {
        let (status, v, busy) = answer_json(s.run(loaded, make(None)).await);
        return Ok(respond(status, v, busy));
    };
    let key = parse_key(raw.as_bytes()).map_err(super::refused)?;
    let tenant = loaded.tenant.name.as_str();
    let keys = Keys::new(s.kv.clone());
    let hash = request_hash(route, body);
    let claim = keys.claim(tenant, user, &key, &hash).await.map_err(|e| {
        s.metrics.store_error();
        tracing::error!(tenant, error = %e, "idempotency key unavailable");
        let v = json!({"error": "storage unavailable"});
        Refused(Box::new(reply(StatusCode::SERVICE_UNAVAILABLE, v)))
    })?;
    match claim {
        Claim::Mismatch => {
            let v = json!({"error": "this Idempotency-Key was used for another request"});
            Err(Refused(Box::new(reply(
                StatusCode::UNPROCESSABLE_ENTITY,
                v,
            ))))
        }
        Claim::Replay { status, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let mut r = reply(status, body);
            r.headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            Ok(r)
        }
        Claim::Run(hash) => {
            let r = s.run(loaded, make(Some(key.clone()))).await;
            // An answer that ended the handover is not kept: its keys went with it.
            let ended = matches!(&r, Ok(Ok(o)) if crate::records::ends(o));
            let (status, v, busy) = answer_json(r);
            // Only final answers are given again; after a 5xx the call may run again.
            if !ended && status.as_u16() < 500 {
                let kept = keys.answered(tenant, user, &key, &hash, status.as_u16(), &v);
                if let Err(e) = kept.await {
                    s.metrics.store_error();
                    tracing::warn!(tenant, error = %e, "could not keep the answer of a keyed call");
                }
            }
            Ok(respond(status, v, busy))
        }
    }
}

fn respond(status: StatusCode, v: serde_json::Value, busy: bool) -> Response {
    if busy {
        return super::busy();
    }
    reply(status, v)
}
