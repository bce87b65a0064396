//! Helpers for this crate's unit tests: a simulator on 127.0.0.1 with one client and one
//! integration, a bearer token, and raw HTTP/1.1 over TCP for what the client helper cannot
//! send (a Genesys `Host` header) or see (a connection closed without an answer).

use crate::{request, Simulator};
use base64::Engine as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

pub(crate) const CLIENT_ID: &str = "client-1";
pub(crate) const CLIENT_SECRET: &str = "secret-1";

/// A simulator with one integration; returns it and the integration id.
pub(crate) async fn start() -> (Simulator, String) {
    let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await.unwrap();
    let id = sim.add_integration("Deployment", "", "webhook-secret-0123456789");
    (sim, id)
}

/// `Basic` credentials of the simulator's client.
pub(crate) fn basic() -> String {
    let raw = format!("{CLIENT_ID}:{CLIENT_SECRET}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// Headers with a fresh bearer token.
pub(crate) async fn bearer(sim: &Simulator) -> Vec<(String, String)> {
    let headers = [
        ("authorization".to_string(), basic()),
        (
            "content-type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        ),
    ];
    let url = format!("{}/oauth/token", sim.base_url());
    let (status, body) = request("POST", &url, &headers, b"grant_type=client_credentials")
        .await
        .unwrap();
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let token = v["access_token"].as_str().unwrap();
    vec![("authorization".into(), format!("Bearer {token}"))]
}

/// Send `head` (request line and headers, without the blank line) and `body` on a new
/// connection; returns everything the simulator sent before closing it.
pub(crate) async fn raw(sim: &Simulator, head: &str, body: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(sim.addr).await.unwrap();
    let req = format!(
        "{head}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let read = s.read_to_end(&mut out);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), read).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// An inbound message body from `user` with a text and a message id.
pub(crate) fn message(user: &str, text: &str, message_id: &str) -> Vec<u8> {
    serde_json::json!({
        "channel": {
            "messageId": message_id,
            "from": { "id": user, "idType": "Opaque" },
            "time": "2026-11-25T09:14:03.512Z"
        },
        "text": text
    })
    .to_string()
    .into_bytes()
}
