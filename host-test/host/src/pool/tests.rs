//! The pool against servers that close kept-alive connections on their own, answer late
//! or not at all, and against its own idle timeout.

use super::*;
use bytes::Bytes;
use std::sync::atomic::AtomicU64;
use std::sync::Mutex;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

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

fn timeouts(connect_ms: u64, first_byte_ms: u64, between_bytes_ms: u64) -> Option<RequestOptions> {
    Some(RequestOptions {
        connect_timeout: Some(Duration::from_millis(connect_ms)),
        first_byte_timeout: Some(Duration::from_millis(first_byte_ms)),
        between_bytes_timeout: Some(Duration::from_millis(between_bytes_ms)),
    })
}

/// A loopback listener, its `http://` URL (path `/x`) and a count of accepted connections;
/// `serve` runs for each connection.
async fn server<F, Fut>(serve: F) -> (String, Arc<AtomicU64>)
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/x", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicU64::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(serve(s));
        }
    });
    (url, accepted)
}

/// Reads one request whose head and small JSON body arrive together; false at its end.
async fn read_request(s: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.ends_with(b"}") {
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(k) => buf.extend_from_slice(&chunk[..k]),
        }
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

/// Answers every request of a connection and keeps it open.
async fn keep_alive(mut s: TcpStream) {
    while read_request(&mut s).await.is_some() {
        if s.write_all(OK).await.is_err() {
            return;
        }
    }
}

/// Promises keep-alive, answers one request per connection, then closes it: what a
/// server's idle timeout looks like to a client that sends right then.
async fn one_answer(mut s: TcpStream) {
    if read_request(&mut s).await.is_some() {
        let _ = s.write_all(OK).await;
    }
    // Closed without a word, as an idle timeout does.
}

async fn ok(pool: &Pool, method: &str, url: &str, n: usize) {
    let res = pool
        .send(request(method, url, n), None)
        .await
        .unwrap_or_else(|e| panic!("request {n} failed: {e:?}"));
    assert_eq!(res.status(), 200);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_connection_the_server_closed_takes_the_request_to_a_new_one() {
    let (url, accepted) = server(one_answer).await;
    let pool = Pool::new(TlsClient::web_pki());
    for i in 0..1000 {
        ok(&pool, "GET", &url, i).await;
    }
    // Each connection served one answer: every request met a closed kept connection or a
    // new one, and none failed.
    let (opened, resent) = (pool.opened(), pool.resent());
    println!("1000 GETs, each connection closed after one answer: {opened} connections, {resent} sent again");
    assert_eq!(opened, accepted.load(Ordering::Relaxed));
    assert!(opened >= 1000, "{opened}");
}

/// Answers the first request of a connection and keeps it open, then takes the second one
/// in whole and closes without answering: the request may have been handled.
async fn handles_the_second_request_then_drops() -> (String, Arc<Mutex<Vec<String>>>) {
    let handled = Arc::new(Mutex::new(Vec::new()));
    let seen = handled.clone();
    let (url, _) = server(move |mut s| {
        let seen = seen.clone();
        async move {
            for n in 0.. {
                let Some(text) = read_request(&mut s).await else {
                    return;
                };
                seen.lock()
                    .unwrap()
                    .push(text.lines().last().unwrap_or("").to_string());
                if n == 1 {
                    return;
                }
                let _ = s.write_all(OK).await;
            }
        }
    })
    .await;
    (url, handled)
}

#[tokio::test]
async fn a_post_written_to_a_connection_that_then_closed_is_not_sent_again() {
    let (url, handled) = handles_the_second_request_then_drops().await;
    let pool = Pool::new(TlsClient::web_pki());
    let first = pool.send(request("POST", &url, 1), None).await.unwrap();
    first.into_body().collect().await.unwrap();
    // Let the connection be kept again (the body was read).
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
async fn a_get_written_to_a_connection_that_then_closed_goes_once_more_on_a_new_one() {
    let (url, handled) = handles_the_second_request_then_drops().await;
    let pool = Pool::new(TlsClient::web_pki());
    ok(&pool, "GET", &url, 1).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    ok(&pool, "GET", &url, 2).await;
    let handled = handled.lock().unwrap().clone();
    assert_eq!(handled, ["{\"n\":1}", "{\"n\":2}", "{\"n\":2}"]);
    assert_eq!(pool.resent(), 1);
    assert_eq!(pool.opened(), 2);
}

/// The idle timeout, on any machine (no dependence on how long it has been up): requests
/// one after another share a connection; after more than the timeout without one, the
/// next request opens a new connection. The wait is the thing under test; it outlasts the
/// timeout by 50 %, and the requests before it come within a second of each other.
#[tokio::test]
async fn connections_are_kept_until_idle_too_long() {
    const MAX_IDLE: Duration = Duration::from_secs(1);
    let (url, accepted) = server(keep_alive).await;
    let pool = Pool::build(TlsClient::web_pki(), IDLE_PER_HOST, MAX_IDLE);
    for i in 0..3 {
        ok(&pool, "POST", &url, i).await;
    }
    assert_eq!(pool.opened(), 1, "kept while in use");
    tokio::time::sleep(MAX_IDLE * 3 / 2).await;
    ok(&pool, "GET", &url, 3).await;
    assert_eq!(pool.opened(), 2, "idle too long: not reused");
    assert_eq!(accepted.load(Ordering::Relaxed), 2);
    ok(&pool, "GET", &url, 4).await;
    assert_eq!(pool.opened(), 2, "the new one is kept in turn");
}

#[tokio::test]
async fn a_fresh_pool_keeps_no_connection() {
    let (url, accepted) = server(keep_alive).await;
    let pool = Pool::fresh(TlsClient::web_pki());
    for i in 0..3 {
        ok(&pool, "GET", &url, i).await;
    }
    assert_eq!(pool.opened(), 3);
    assert_eq!(accepted.load(Ordering::Relaxed), 3);
}

#[tokio::test]
async fn no_answer_within_the_first_byte_timeout_is_a_read_timeout() {
    let (url, _) = server(|mut s| async move {
        let _ = read_request(&mut s).await;
        tokio::time::sleep(Duration::from_secs(10)).await;
    })
    .await;
    let pool = Pool::new(TlsClient::web_pki());
    let started = Instant::now();
    let e = pool
        .send(request("GET", &url, 0), timeouts(5000, 150, 5000))
        .await
        .expect_err("no answer");
    assert!(matches!(e, Error::ConnectionReadTimeout), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_body_stalling_past_the_between_bytes_timeout_is_a_read_timeout() {
    let (url, _) = server(|mut s| async move {
        let _ = read_request(&mut s).await;
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nok")
            .await;
        tokio::time::sleep(Duration::from_secs(10)).await;
    })
    .await;
    let pool = Pool::new(TlsClient::web_pki());
    let res = pool
        .send(request("GET", &url, 0), timeouts(5000, 5000, 150))
        .await
        .unwrap();
    let started = Instant::now();
    let e = res.into_body().collect().await.expect_err("stalled");
    assert!(matches!(e, Error::ConnectionReadTimeout), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_tls_handshake_past_the_connect_timeout_is_a_connect_timeout() {
    // Accepts TCP and never says a word of TLS.
    let (url, _) = server(|s| async move {
        tokio::time::sleep(Duration::from_secs(10)).await;
        drop(s);
    })
    .await;
    let url = url.replace("http://", "https://");
    let pool = Pool::new(TlsClient::web_pki());
    let started = Instant::now();
    let e = pool
        .send(request("GET", &url, 0), timeouts(150, 5000, 5000))
        .await
        .expect_err("no handshake");
    assert!(matches!(e, Error::ConnectionTimeout), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(pool.opened(), 0);
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/x", listener.local_addr().unwrap());
    drop(listener);
    let pool = Pool::new(TlsClient::web_pki());
    let e = pool
        .send(request("GET", &url, 0), None)
        .await
        .expect_err("refused");
    match e {
        Error::Connect(io) => assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused),
        other => panic!("{other:?}"),
    }
}
