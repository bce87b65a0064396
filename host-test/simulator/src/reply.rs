//! What every endpoint answers: a status with a JSON value, Genesys's `ErrorBody` shape, and
//! the HTTP response with the headers Genesys always sends (JSON content type, correlation id).

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::{json, Value};

/// A status and a JSON body; `Value::Null` means an empty body.
pub type Answer = (StatusCode, Value);

/// The context and correlation id of every answer.
const CONTEXT_ID: &str = "00000000-0000-4000-8000-000000000000";

/// An ErrorBody as Genesys returns it.
pub fn error_body(status: u16, code: &str, message: &str) -> Value {
    json!({
        "message": message, "code": code, "status": status,
        "contextId": CONTEXT_ID, "details": [], "errors": []
    })
}

/// 400 with an ErrorBody.
pub(crate) fn bad(code: &str, message: impl Into<String>) -> Answer {
    (
        StatusCode::BAD_REQUEST,
        error_body(400, code, &message.into()),
    )
}

/// 404 `not.found`, for unknown paths, methods and resources alike.
pub(crate) fn not_found() -> Answer {
    (
        StatusCode::NOT_FOUND,
        error_body(404, "not.found", "The requested resource was not found."),
    )
}

/// 400 for a body that is not JSON, or the parsed body.
pub(crate) fn json_body(body: &[u8]) -> Result<Value, Answer> {
    serde_json::from_slice::<Value>(body).map_err(|_| {
        bad(
            "bad.request",
            "The request could not be understood by the server due to malformed syntax.",
        )
    })
}

/// The HTTP response for a status and value, with Genesys's headers and any `extra` ones.
pub(crate) fn json_response(
    status: StatusCode,
    value: &Value,
    extra: &[(&str, String)],
) -> Response {
    let body = if value.is_null() {
        Body::empty()
    } else {
        Body::from(value.to_string())
    };
    let mut r = Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("inin-correlation-id", CONTEXT_ID);
    for (k, v) in extra {
        r = r.header(*k, v);
    }
    r.body(body).expect("static header names")
}

/// An [`Answer`] as an axum response.
pub(crate) struct Reply(pub(crate) Answer);

impl From<Answer> for Reply {
    fn from(a: Answer) -> Self {
        Reply(a)
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let (status, value) = self.0;
        json_response(status, &value, &[])
    }
}
