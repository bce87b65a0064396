//! The bot side's long-poll and its acknowledgement: `GET …/sessions/<id>/actions` hands
//! out the session's next batch (acknowledging the one before with `after`), `POST
//! …/sessions/<id>/ack` acknowledges without waiting for more.

use super::{bot_tenant, parse, refused, reply, Refused, S};
use crate::body::JsonBody;
use crate::bus::Batch;
use crate::kv::{EntryId, StoreError};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

/// The longest a long-poll waits.
const MAX_WAIT: Duration = Duration::from_secs(30);

#[derive(Deserialize)]
pub(super) struct Poll {
    /// How long to wait for an action, in ms (at most 30 000).
    #[serde(default)]
    wait: u64,
    /// The cursor of the batch before: acknowledges it.
    after: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Ack {
    /// The cursor of the batch to acknowledge (its last action's id).
    cursor: String,
}

fn cursor(s: &str) -> Result<EntryId, Refused> {
    s.parse().map_err(|e| refused(format!("cursor {s:?}: {e}")))
}

/// A store failure: 503, logged and counted.
fn unavailable(s: &crate::server::Server, tenant: &str, e: StoreError) -> Refused {
    s.metrics.store_error();
    tracing::error!(tenant, error = %e, "long-poll failed");
    let busy = json!({"error": "storage unavailable"});
    Refused(Box::new(reply(StatusCode::SERVICE_UNAVAILABLE, busy)))
}

/// `GET /api/<tenant>/sessions/<session>/actions?wait=MS&after=CURSOR`:
/// `{"actions": [{"id", "action"}…], "cursor"}`. Passing the last answer's `cursor` as
/// `after` acknowledges that batch; one not acknowledged comes again (same ids) after the
/// visibility timeout.
pub(super) async fn actions(
    State(s): S,
    Path((name, session)): Path<(String, String)>,
    Query(q): Query<Poll>,
    headers: HeaderMap,
) -> Result<Response, Refused> {
    let tenant = bot_tenant(&s, &name, &headers).await?.tenant.name.clone();
    let after = q.after.as_deref().map(cursor).transpose()?;
    let wait = Duration::from_millis(q.wait).min(MAX_WAIT);
    let Batch { actions, cursor } = s
        .bus
        .take(&tenant, &session, after, wait)
        .await
        .map_err(|e| unavailable(&s, &tenant, e))?;
    let actions: Vec<_> = actions
        .into_iter()
        .map(|d| json!({"id": d.id.to_string(), "action": d.action}))
        .collect();
    let cursor = cursor.map(|c| c.to_string());
    Ok(reply(
        StatusCode::OK,
        json!({"actions": actions, "cursor": cursor}),
    ))
}

/// `POST /api/<tenant>/sessions/<session>/ack` with `{"cursor": …}`: the session's actions
/// up to it will not come again. `{"ok": true}`.
pub(super) async fn ack(
    State(s): S,
    Path((name, session)): Path<(String, String)>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, Refused> {
    let tenant = bot_tenant(&s, &name, &headers).await?.tenant.name.clone();
    let a: Ack = parse(&body.0)?;
    let upto = cursor(&a.cursor)?;
    s.bus
        .ack(&tenant, &session, upto)
        .await
        .map_err(|e| unavailable(&s, &tenant, e))?;
    Ok(reply(StatusCode::OK, json!({"ok": true})))
}
