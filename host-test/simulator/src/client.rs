//! A minimal HTTP/1.1 client for tests and the agent: one request to a loopback `http://`
//! URL, nothing else. It refuses any other host, so a test cannot reach the network by mistake.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;

/// POST `body` to a loopback `http://` URL; returns the status.
pub async fn post(url: &str, headers: &[(String, String)], body: &[u8]) -> anyhow::Result<u16> {
    Ok(request("POST", url, headers, body).await?.0)
}

/// One HTTP/1.1 request to a loopback `http://` URL; returns status and body.
pub async fn request(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> anyhow::Result<(u16, Vec<u8>)> {
    let (status, _, body) = request_full(method, url, headers, body).await?;
    Ok((status, body))
}

/// [`request`], with the answer's headers (lower-case names; the last of repeated ones).
pub async fn request_full(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> anyhow::Result<(u16, std::collections::HashMap<String, String>, Vec<u8>)> {
    let uri: http::Uri = url.parse()?;
    let host = uri.host().unwrap_or("");
    anyhow::ensure!(
        host == "127.0.0.1" || host == "localhost" || host == "[::1]",
        "refusing non-loopback target {host}"
    );
    let port = uri.port_u16().unwrap_or(80);
    let stream = tokio::net::TcpStream::connect((host.trim_matches(['[', ']']), port)).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let mut req = Request::builder()
        .method(method)
        .uri(uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"))
        .header("host", format!("{host}:{port}"));
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let resp = sender
        .send_request(req.body(Full::new(Bytes::copy_from_slice(body)))?)
        .await?;
    let status = resp.status().as_u16();
    let answer_headers = resp
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let body = resp.into_body().collect().await?.to_bytes().to_vec();
    Ok((status, answer_headers, body))
}
