//! One notification channel's WebSocket: connected over TLS (or plain `ws` to a loopback
//! simulator), it hands every conversation event frame on, skips heartbeats, and ends —
//! telling why — when Genesys announces maintenance, the socket drops, or it goes silent.

use crate::egress::Egress;
use anyhow::{anyhow, Result};
use futures_util::StreamExt;
use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// Genesys sends a heartbeat every 30 s: a socket silent for this long is dead.
pub const SILENCE_LIMIT: Duration = Duration::from_secs(95);

/// Why a socket stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// `v2.system.socket_closing`: Genesys closes it for maintenance.
    Closing,
    /// Closed, dropped or silent.
    Lost(String),
}

/// Read `connect_uri` until it ends; every conversation event frame goes to `events`.
pub async fn read(egress: &Egress, connect_uri: &str, events: mpsc::Sender<Vec<u8>>) -> Ended {
    let opened = async {
        let uri = egress.websocket_target(connect_uri)?;
        let host = uri.host().ok_or_else(|| anyhow!("no host"))?.to_string();
        let tls = uri.scheme_str() == Some("wss");
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let tcp = tokio::time::timeout(
            Duration::from_secs(10),
            TcpStream::connect((host.as_str(), port)),
        )
        .await??;
        let _ = tcp.set_nodelay(true);
        Ok::<_, anyhow::Error>((uri.to_string(), host, tls, tcp))
    };
    let (request, host, tls, tcp) = match opened.await {
        Ok(o) => o,
        Err(e) => return Ended::Lost(format!("connect: {e:#}")),
    };
    if !tls {
        return match tokio_tungstenite::client_async(request, tcp).await {
            Ok((ws, _)) => pump(ws, events).await,
            Err(e) => Ended::Lost(format!("handshake: {e}")),
        };
    }
    match tls_handshake(&egress.tls(), &host, tcp).await {
        Ok(stream) => match tokio_tungstenite::client_async(request, stream).await {
            Ok((ws, _)) => pump(ws, events).await,
            Err(e) => Ended::Lost(format!("handshake: {e}")),
        },
        Err(e) => Ended::Lost(format!("tls: {e:#}")),
    }
}

/// TLS to `host` with the egress's TLS client (the web PKI roots, plus a loopback
/// simulator's test CA only where the egress was told to trust it).
async fn tls_handshake(
    tls: &crate::pool::TlsClient,
    host: &str,
    tcp: TcpStream,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.to_string())?;
    Ok(tls.websocket().connect(name, tcp).await?)
}

async fn pump<S>(
    mut ws: tokio_tungstenite::WebSocketStream<S>,
    events: mpsc::Sender<Vec<u8>>,
) -> Ended
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        let next = match tokio::time::timeout(SILENCE_LIMIT, ws.next()).await {
            Err(_) => return Ended::Lost("silent past the heartbeat".into()),
            Ok(None) => return Ended::Lost("closed".into()),
            Ok(Some(Err(e))) => return Ended::Lost(e.to_string()),
            Ok(Some(Ok(m))) => m,
        };
        let bytes = match next {
            Message::Text(t) => t.as_bytes().to_vec(),
            Message::Binary(b) => b.to_vec(),
            Message::Close(_) => return Ended::Lost("closed by Genesys".into()),
            _ => continue,
        };
        let topic = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| v["topicName"].as_str().map(str::to_string))
            .unwrap_or_default();
        match topic.as_str() {
            "v2.system.socket_closing" => return Ended::Closing,
            t if t.starts_with("v2.detail.events.conversation.") => {
                let delivered = events.send(bytes).await.is_ok();
                if !delivered {
                    return Ended::Lost("no reader".into());
                }
            }
            // Heartbeats (`channel.metadata`) and anything else: the socket is alive.
            _ => {}
        }
    }
}
