//! Request bodies, read with limits a public endpoint needs: a declared length over the
//! limit is refused before anything is read, a body must arrive within the body timeout,
//! and broken framing is a 400, not a 413. The bot side's bodies must say they are JSON.

use crate::server::Server;
use crate::webhook::MAX_BODY;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::json;
use std::sync::Arc;

/// A request body of at most [`MAX_BODY`] bytes, read within the server's body timeout.
pub struct Body(pub Bytes);

/// A [`Body`] whose `Content-Type` is `application/json` (415 otherwise), so a web page
/// cannot post to the bot-side API with a form or `text/plain` (no CORS preflight).
pub struct JsonBody(pub Bytes);

fn refuse(status: StatusCode, error: &str) -> Response {
    (status, Json(json!({ "error": error }))).into_response()
}

async fn read(req: Request, server: &Arc<Server>) -> Result<Bytes, Response> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(refuse(StatusCode::PAYLOAD_TOO_LARGE, "body too large"));
    }
    let body = Limited::new(req.into_body(), MAX_BODY);
    match tokio::time::timeout(server.opts.conn.body_timeout, body.collect()).await {
        Err(_) => Err(refuse(StatusCode::REQUEST_TIMEOUT, "body not sent in time")),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(refuse(StatusCode::PAYLOAD_TOO_LARGE, "body too large"))
        }
        Ok(Err(_)) => Err(refuse(StatusCode::BAD_REQUEST, "malformed body")),
    }
}

impl FromRequest<Arc<Server>> for Body {
    type Rejection = Response;

    async fn from_request(req: Request, server: &Arc<Server>) -> Result<Self, Response> {
        Ok(Body(read(req, server).await?))
    }
}

impl FromRequest<Arc<Server>> for JsonBody {
    type Rejection = Response;

    async fn from_request(req: Request, server: &Arc<Server>) -> Result<Self, Response> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Err(refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Content-Type must be application/json",
            ));
        }
        Ok(JsonBody(read(req, server).await?))
    }
}
