//! The pool against servers that close kept-alive connections on their own.

use super::*;
use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn request(method: &str, url: &str, n: usize) -> Request<WasiBody> {
    let body = http_body_util::Full::new(Bytes::from(format!("{{\"n\":{n}}}")))
        .map_err(|never| match never {})
        .boxed_unsync();
    Request::builder()
        .method(method)
        .uri(url)
        .body(body)
        .unwrap()
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
            .send(request("GET", &url, i), None)
            .await
            .unwrap_or_else(|e| panic!("request {i} failed: {e:?}"));
        assert_eq!(res.status(), 200);
        let body = res.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"ok");
    }
    // Each connection served one answer; a request sent again took a new one.
    let (opened, resent) = (pool.opened(), pool.resent());
    println!("1000 GETs, each connection closed after one answer: {opened} connections, {resent} sent again");
    assert_eq!(opened, accepted.load(Ordering::Relaxed));
    assert!(resent > 0, "the closed connections were never met");
}

/// A server that answers the first request of a connection and keeps it open, then takes
/// the second one in whole and closes without answering: the request may have been handled.
async fn handles_the_second_request_then_drops() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/x", listener.local_addr().unwrap());
    let handled = Arc::new(Mutex::new(Vec::new()));
    let seen = handled.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                for n in 0.. {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 1024];
                    // Head and the small body arrive together here; read until the body's end.
                    while !buf.ends_with(b"}") {
                        match s.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(k) => buf.extend_from_slice(&chunk[..k]),
                        }
                    }
                    let text = String::from_utf8_lossy(&buf).into_owned();
                    seen.lock()
                        .unwrap()
                        .push(text.lines().last().unwrap_or("").to_string());
                    if n == 1 {
                        return;
                    }
                    let _ = s
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                        .await;
                }
            });
        }
    });
    (url, handled)
}

#[tokio::test]
async fn a_post_written_to_a_connection_that_then_closed_is_not_sent_again() {
    let (url, handled) = handles_the_second_request_then_drops().await;
    let pool = Pool::new(TlsClient::web_pki());
    let first = pool.send(request("POST", &url, 1), None).await.unwrap();
    first.into_body().collect().await.unwrap();
    // Let the connection be ready again (the body was read).
    tokio::time::sleep(Duration::from_millis(20)).await;
    let second = pool.send(request("POST", &url, 2), None).await;
    assert!(second.is_err(), "{:?}", second.map(|r| r.status()));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let handled = handled.lock().unwrap().clone();
    assert_eq!(handled, ["{\"n\":1}", "{\"n\":2}"], "a POST went twice");
    assert_eq!(pool.resent(), 0);
    assert_eq!(pool.opened(), 1);
}

#[tokio::test]
async fn connections_idle_too_long_are_not_reused() {
    // Only where the clock goes back far enough (not in a machine's first 30 s).
    let Some(long_ago) = Instant::now().checked_sub(MAX_IDLE) else {
        return;
    };
    let pool = Pool::new(TlsClient::web_pki());
    let key = "http://127.0.0.1:9".to_string();
    let (io, _peer) = tokio::io::duplex(64);
    let (sender, conn) = http1::handshake(hyper_util::rt::TokioIo::new(io))
        .await
        .unwrap();
    tokio::spawn(conn);
    // Ready (its connection task has run) but idle since too long ago.
    let mut sender = sender;
    sender.ready().await.unwrap();
    pool.idle
        .lock()
        .unwrap()
        .insert(key.clone(), vec![(sender, long_ago)]);
    assert!(pool.take(&key).is_none());
    assert!(pool.idle.lock().unwrap()[&key].is_empty());
}
