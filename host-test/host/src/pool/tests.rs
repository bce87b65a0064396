//! The pool against servers that close kept-alive connections on their own.

use super::*;
use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn post(url: &str, n: usize) -> Request<WasiBody> {
    let body = http_body_util::Full::new(Bytes::from(format!("{{\"n\":{n}}}")))
        .map_err(|never| match never {})
        .boxed_unsync();
    Request::post(url).body(body).unwrap()
}

/// A server that promises keep-alive, answers one request per connection, then closes it:
/// what a server's idle timeout looks like to a client that sends right then.
async fn one_answer_per_connection() -> (String, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/x", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicU64::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                    .await;
                // Closed without a word, as an idle timeout does.
            });
        }
    });
    (url, accepted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_connection_the_server_closed_takes_the_request_to_a_new_one() {
    let (url, accepted) = one_answer_per_connection().await;
    let pool = Pool::new(TlsClient::web_pki());
    for i in 0..1000 {
        let res = pool
            .send(post(&url, i), None)
            .await
            .unwrap_or_else(|e| panic!("request {i} failed: {e:?}"));
        assert_eq!(res.status(), 200);
        let body = res.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"ok");
    }
    // Each connection served one answer; a request sent again took a new one.
    let opened = pool.opened();
    println!("1000 requests, each connection closed after one answer: {opened} connections");
    assert_eq!(opened, accepted.load(Ordering::Relaxed));
    assert!(opened >= 1000);
}

#[tokio::test]
async fn connections_idle_too_long_are_not_reused() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/x", listener.local_addr().unwrap());
    drop(listener);
    let pool = Pool::new(TlsClient::web_pki());
    let key = url.trim_end_matches("/x").to_string();
    let (tx, _rx) = tokio::io::duplex(64);
    let (sender, conn) = http1::handshake(hyper_util::rt::TokioIo::new(tx))
        .await
        .unwrap();
    tokio::spawn(conn);
    pool.idle
        .lock()
        .unwrap()
        .insert(key.clone(), vec![(sender, Instant::now() - MAX_IDLE)]);
    assert!(pool.take(&key).is_none());
    assert!(pool.idle.lock().unwrap()[&key].is_empty());
}
