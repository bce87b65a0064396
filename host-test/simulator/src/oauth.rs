//! OAuth as Genesys does it: client-credentials tokens from `POST /oauth/token` on the login
//! host, and the bearer check in front of every `/api/v2` call on the api host (401
//! `authentication.required` without a token, `bad.credentials` for an unknown or expired one).

use crate::reply::{error_body, Answer};
use crate::Simulator;
use base64::Engine as _;
use http::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};

/// Whether a `Host` header names the simulator itself (a client pointed straight at it, as
/// the `loopback-genesys` test build is) rather than a Genesys host name.
pub(crate) fn is_direct(host: &str) -> bool {
    ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .any(|h| host.starts_with(h))
}

/// Whether `/oauth/token` may be called with this `Host`.
pub(crate) fn is_login_host(host: &str) -> bool {
    host.starts_with("login.") || is_direct(host)
}

/// Whether `/api/v2/...` may be called with this `Host`.
pub(crate) fn is_api_host(host: &str) -> bool {
    host.starts_with("api.") || is_direct(host)
}

impl Simulator {
    /// Invalidate every token, as if they all expired.
    pub fn expire_tokens(&self) {
        self.lock().tokens.clear();
    }

    /// `/oauth/token`: a bearer token for `Basic` credentials of a known client.
    pub(crate) fn token(&self, method: &str, auth: &str, ctype: &str, body: &[u8]) -> Answer {
        let invalid = (
            StatusCode::UNAUTHORIZED,
            json!({"error": "invalid_client", "description": "authentication failed", "error_description": "authentication failed"}),
        );
        if method != "POST" {
            return (
                StatusCode::METHOD_NOT_ALLOWED,
                error_body(405, "method.not.allowed", "Method not allowed"),
            );
        }
        if !ctype.starts_with("application/x-www-form-urlencoded") {
            return (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                error_body(415, "unsupported.media.type", "Unsupported media type"),
            );
        }
        if body != b"grant_type=client_credentials" {
            return (
                StatusCode::BAD_REQUEST,
                json!({"error": "unsupported_grant_type", "description": "grant_type must be client_credentials"}),
            );
        }
        let Some(basic) = auth.strip_prefix("Basic ") else {
            return invalid;
        };
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(basic.trim()) else {
            return invalid;
        };
        let decoded = String::from_utf8_lossy(&decoded).to_string();
        let Some((id, secret)) = decoded.split_once(':') else {
            return invalid;
        };
        let mut st = self.lock();
        if st.clients.get(id).map(String::as_str) != Some(secret) {
            return invalid;
        }
        st.token_requests += 1;
        let token = format!("tok-{}", self.hex_id());
        let lifetime = st.token_lifetime_secs;
        st.tokens.insert(
            token.clone(),
            Instant::now() + Duration::from_secs(lifetime),
        );
        st.issued.push(token.clone());
        (
            StatusCode::OK,
            json!({ "access_token": token, "token_type": "bearer", "expires_in": lifetime }),
        )
    }

    /// The bearer check of every `/api/v2` call.
    pub(crate) fn check_bearer(&self, auth: &str) -> Result<(), Answer> {
        let Some(token) = auth.strip_prefix("Bearer ") else {
            return Err((
                StatusCode::UNAUTHORIZED,
                error_body(
                    401,
                    "authentication.required",
                    "No authentication bearer token specified in authorization header.",
                ),
            ));
        };
        match self.lock().tokens.get(token) {
            Some(exp) if *exp > Instant::now() => Ok(()),
            _ => Err((
                StatusCode::UNAUTHORIZED,
                error_body(401, "bad.credentials", "Invalid login credentials."),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::request;
    use crate::testkit::{basic, start};
    use serde_json::Value;

    fn json(body: &[u8]) -> Value {
        serde_json::from_slice(body).unwrap()
    }

    #[tokio::test]
    async fn the_token_endpoint_checks_method_type_grant_and_client() {
        let (sim, _) = start().await;
        let url = format!("{}/oauth/token", sim.base_url());
        let form = (
            "content-type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        );
        let good = [("authorization".to_string(), basic()), form.clone()];
        let grant = b"grant_type=client_credentials";
        assert_eq!(request("GET", &url, &good, b"").await.unwrap().0, 405);
        assert_eq!(
            request("POST", &url, &good[..1], grant).await.unwrap().0,
            415
        );
        assert_eq!(
            request("POST", &url, &good, b"grant_type=password")
                .await
                .unwrap()
                .0,
            400
        );
        let wrong = [
            ("authorization".to_string(), "Basic eDp5".to_string()),
            form,
        ];
        let (status, body) = request("POST", &url, &wrong, grant).await.unwrap();
        assert_eq!(
            (status, json(&body)["error"].clone()),
            (401, "invalid_client".into())
        );
        let (status, body) = request("POST", &url, &good, grant).await.unwrap();
        assert_eq!(status, 200);
        assert_eq!(json(&body)["token_type"], "bearer");
        assert_eq!(sim.state.lock().unwrap().token_requests, 1);
    }
}
