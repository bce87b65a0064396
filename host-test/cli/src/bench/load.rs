//! The load generator of the service benchmark: a fixed number of keep-alive HTTP/1.1
//! connections to one loopback port, each sending the next of a shared list of prepared
//! requests as soon as its previous answer is read, timing every request from its first
//! byte written to its answer's last byte read. Plain HTTP/1.1 over tokio: no client
//! library's cost between the figures and the services.

use anyhow::{bail, Context, Result};
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How one service took a run of requests.
pub struct Run {
    /// Wall time from the first request sent to the last answer read.
    pub took: Duration,
    /// Every request's latency in ms, sorted.
    pub latencies_ms: Vec<f64>,
}

impl Run {
    /// Requests answered per second.
    pub fn rps(&self) -> f64 {
        self.latencies_ms.len() as f64 / self.took.as_secs_f64()
    }

    /// The latency at quantile `q` (0.5: the median), in ms.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        let n = self.latencies_ms.len();
        if n == 0 {
            return 0.0;
        }
        let i = ((n as f64 * q).ceil() as usize).clamp(1, n) - 1;
        self.latencies_ms[i]
    }
}

/// A POST of `body` to `path` with `headers`, as bytes on the wire (keep-alive).
pub fn post(path: &str, headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let mut head = format!("POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\n");
    for (k, v) in headers {
        if !k.eq_ignore_ascii_case("content-length") && !k.eq_ignore_ascii_case("host") {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Send `requests[range]` to 127.0.0.1:`port` over `connections` keep-alive connections;
/// every answer must be a 200.
pub async fn drive(
    port: u16,
    requests: Arc<Vec<Vec<u8>>>,
    range: Range<usize>,
    connections: usize,
) -> Result<Run> {
    let next = Arc::new(AtomicUsize::new(range.start));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (requests, next, end) = (requests.clone(), next.clone(), range.end);
        tasks.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(("127.0.0.1", port))
                .await
                .with_context(|| format!("connecting to 127.0.0.1:{port}"))?;
            stream.set_nodelay(true)?;
            let mut buf = Vec::with_capacity(8192);
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= end {
                    return Ok::<_, anyhow::Error>(latencies);
                }
                let t = Instant::now();
                stream.write_all(&requests[i]).await?;
                let status = answer(&mut stream, &mut buf).await?;
                latencies.push(t.elapsed().as_secs_f64() * 1e3);
                if status != 200 {
                    bail!("request {i} was answered {status}");
                }
            }
        }));
    }
    let mut latencies_ms = Vec::with_capacity(range.len());
    for t in tasks {
        latencies_ms.extend(t.await??);
    }
    let took = started.elapsed();
    latencies_ms.sort_by(|a, b| a.total_cmp(b));
    Ok(Run { took, latencies_ms })
}

/// Read one answer (headers and a `content-length` body) off `stream`; its status.
async fn answer(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<u16> {
    buf.clear();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("the connection closed before an answer");
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..head_end]).context("an answer's head")?;
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("an answer's status line")?;
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .context("an answer without content-length")?;
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("the connection closed inside an answer's body");
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_of_the_sorted_latencies() {
        let run = Run {
            took: Duration::from_secs(2),
            latencies_ms: (1..=100).map(f64::from).collect(),
        };
        assert_eq!(run.rps(), 50.0);
        assert_eq!(run.quantile_ms(0.5), 50.0);
        assert_eq!(run.quantile_ms(0.99), 99.0);
    }

    #[test]
    fn a_post_carries_its_headers_and_one_content_length() {
        let headers = [
            ("X-Hub-Signature-256".to_string(), "sha256=abc".to_string()),
            ("Content-Length".to_string(), "999".to_string()),
        ];
        let bytes = post("/p", &headers, b"{}");
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("POST /p HTTP/1.1\r\n"));
        assert!(text.contains("X-Hub-Signature-256: sha256=abc\r\n"));
        assert_eq!(text.matches("content-length").count(), 1);
        assert!(text.ends_with("content-length: 2\r\n\r\n{}"));
    }
}
