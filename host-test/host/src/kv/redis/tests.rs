//! The Redis store's own tests, each on a private redis-server: the shared suite, the
//! key layout, sharing across handles, outages, freezes and restarts, SCAN paging across
//! processes, and that messages never show the password.

use super::super::{conformance, Store, StoreError};
use handover_testkit::{free_port, RedisServer};
use std::time::{Duration, Instant};

/// How long the tests' streams are kept.
const TTL: Duration = Duration::from_secs(60);

/// Every key on the server, through a plain connection.
async fn raw_keys(url: &str) -> Vec<String> {
    let client = ::redis::Client::open(url).unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    let mut keys: Vec<String> = ::redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut con)
        .await
        .unwrap();
    keys.sort();
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_passes_the_conformance_suite() {
    let server = RedisServer::for_test();
    let store = Store::open_redis(&server.url()).await.unwrap();
    assert_eq!(store.kind(), "redis");
    conformance::run_all(&store).await;
    let keys = raw_keys(&server.url()).await;
    assert!(keys.iter().all(|k| k.starts_with("gom:")), "{keys:?}");
}

#[tokio::test]
async fn namespaces_map_to_prefixed_redis_keys() {
    let server = RedisServer::for_test();
    let store = Store::open_redis(&format!("{}/3", server.url()))
        .await
        .unwrap();
    store.set("a", b"1").await.unwrap();
    store
        .stream_add("a", None, &[b"x".to_vec()], TTL)
        .await
        .unwrap();
    store.set_add("a", "m").await.unwrap();
    store
        .try_lease("a", "o", Duration::from_secs(9))
        .await
        .unwrap();
    assert!(
        raw_keys(&server.url()).await.is_empty(),
        "database 0 untouched"
    );
    assert_eq!(
        raw_keys(&format!("{}/3", server.url())).await,
        ["gom:k:a", "gom:l:a", "gom:s:a", "gom:x:a"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_handles_on_one_server_share_everything() {
    let server = RedisServer::for_test();
    let a = Store::open_redis(&server.url()).await.unwrap();
    let b = Store::open_redis(&server.url()).await.unwrap();
    a.set("shared", b"from a").await.unwrap();
    assert_eq!(b.get("shared").await.unwrap(), Some(b"from a".to_vec()));
    b.delete("shared").await.unwrap();
    assert!(!a.exists("shared").await.unwrap());
    assert_eq!(a.increment("n", 1).await.unwrap(), 1);
    assert_eq!(b.increment("n", 1).await.unwrap(), 2);
    a.set_add("s", "x").await.unwrap();
    assert_eq!(b.set_members("s").await.unwrap(), ["x"]);
    assert!(a
        .try_lease("l", "a", Duration::from_secs(30))
        .await
        .unwrap());
    assert!(!b
        .try_lease("l", "b", Duration::from_secs(30))
        .await
        .unwrap());

    // Entries added through one handle are read once across both, each batch acknowledged
    // by its reader (a visibility far longer than the test: nothing comes again).
    let items: Vec<Vec<u8>> = (0..600).map(|i: u32| i.to_string().into_bytes()).collect();
    a.stream_add("q", None, &items, TTL).await.unwrap();
    let acked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let readers: Vec<_> = (0..8)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            let acked = acked.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                while acked.load(std::sync::atomic::Ordering::SeqCst) < 600 {
                    let long = Duration::from_secs(600);
                    let batch = store.stream_read("q", None, 5, long, TTL).await.unwrap();
                    let Some(last) = batch.last().map(|e| e.id) else {
                        tokio::task::yield_now().await;
                        continue;
                    };
                    let n = batch.len();
                    got.extend(batch.into_iter().map(|e| e.item));
                    store
                        .stream_read("q", Some(last), 0, long, TTL)
                        .await
                        .unwrap();
                    acked.fetch_add(n, std::sync::atomic::Ordering::SeqCst);
                }
                got
            })
        })
        .collect();
    let mut all = Vec::new();
    for r in readers {
        all.extend(r.await.unwrap());
    }
    all.sort();
    let mut expected = items.clone();
    expected.sort();
    assert_eq!(all, expected);
}

/// Asserts `result` is Unavailable.
fn unavailable<T: std::fmt::Debug>(what: &str, result: Result<T, StoreError>) {
    match result {
        Err(StoreError::Unavailable(msg)) => assert!(msg.contains("redis"), "{msg}"),
        other => panic!("{what}: expected Unavailable, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_redis_is_unavailable_then_recovers() {
    let mut server = RedisServer::for_test();
    let store = Store::open_redis(&server.url()).await.unwrap();
    store.set("k", b"v").await.unwrap();

    server.stop();
    for _ in 0..3 {
        let started = Instant::now();
        unavailable("get", store.get("k").await);
        unavailable("set", store.set("k", b"w").await);
        unavailable("increment", store.increment("n", 1).await);
        let x = [b"x".to_vec()];
        unavailable("stream add", store.stream_add("q", None, &x, TTL).await);
        unavailable(
            "stream read",
            store.stream_read("q", None, 1, TTL, TTL).await,
        );
        unavailable("keys", store.keys_with_prefix("", None, 10).await);
        unavailable(
            "lease",
            store.try_lease("l", "o", Duration::from_secs(1)).await,
        );
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    server.restart().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match store.set("k", b"back").await {
            Ok(()) => break,
            Err(StoreError::Unavailable(_)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => panic!("no recovery: {e}"),
        }
    }
    assert_eq!(store.get("k").await.unwrap(), Some(b"back".to_vec()));
    assert_eq!(store.increment("n", 1).await.unwrap(), 1);
    store
        .stream_add("q", None, &[b"x".to_vec()], TTL)
        .await
        .unwrap();
    let read = store.stream_read("q", None, 5, TTL, TTL).await.unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].item, b"x");
}

/// Sends `signal` (e.g. `-STOP`) to `pid` with kill(1).
fn signal(pid: u32, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_redis_times_out_as_unavailable_then_recovers() {
    let server = RedisServer::for_test();
    let pid = server.pid().unwrap();
    let store = Store::open_redis(&server.url()).await.unwrap();
    store.set("k", b"v").await.unwrap();
    signal(pid, "-STOP");
    let started = Instant::now();
    let result = store.get("k").await;
    let waited = started.elapsed();
    signal(pid, "-CONT");
    unavailable("get", result);
    assert!(waited < Duration::from_secs(6), "waited {waited:?}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while store.get("k").await.is_err() {
        assert!(Instant::now() < deadline, "no recovery after SIGCONT");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(store.get("k").await.unwrap(), Some(b"v".to_vec()));
}

#[tokio::test]
async fn a_server_that_never_answers_is_unavailable_within_seconds() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://{}", listener.local_addr().unwrap());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let holder = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            // Accept and hold connections without a word until told to stop.
            listener.set_nonblocking(true).unwrap();
            let mut held = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                if let Ok((s, _)) = listener.accept() {
                    held.push(s);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let store = Store::open_redis(&url).await.unwrap();
    let started = Instant::now();
    unavailable("get", store.get("k").await);
    let waited = started.elapsed();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    holder.join().unwrap();
    assert!(waited < Duration::from_secs(6), "waited {waited:?}");
}

#[tokio::test]
async fn many_keys_page_without_loss() {
    let server = RedisServer::for_test();
    let store = Store::open_redis(&server.url()).await.unwrap();
    let expected: Vec<String> = (0..1500).map(|i| format!("many/{i:04}")).collect();
    for k in &expected {
        store.set(k, b"v").await.unwrap();
    }
    for i in 0..500 {
        store.set(&format!("other/{i}"), b"v").await.unwrap();
        store.set_add(&format!("many/{i}"), "m").await.unwrap();
    }
    for limit in [1, 13, 100, 5000] {
        let pages = conformance::all_pages(&store, "many/", limit).await;
        let mut all = pages.concat();
        all.sort();
        let returned = all.len();
        all.dedup();
        assert_eq!(all, expected, "limit {limit}");
        // SCAN may return a key twice if Redis resizes its table mid-listing; the split
        // batches themselves must not add any.
        assert!(
            returned - all.len() < 15,
            "limit {limit}: {returned} returned"
        );
    }
}

#[tokio::test]
async fn a_cursor_another_process_continues_skips_no_key() {
    let server = RedisServer::for_test();
    let a = Store::open_redis(&server.url()).await.unwrap();
    let b = Store::open_redis(&server.url()).await.unwrap();
    let expected: Vec<String> = (0..300).map(|i| format!("x/{i:03}")).collect();
    for k in &expected {
        a.set(k, b"v").await.unwrap();
    }
    // Alternate handles: half the cursors carry a token the other handle never issued.
    let mut seen = Vec::new();
    let mut cursor = None;
    for turn in 0.. {
        let store = if turn % 2 == 0 { &a } else { &b };
        let (page, next) = store.keys_with_prefix("x/", cursor, 3).await.unwrap();
        assert!(page.len() <= 3);
        seen.extend(page);
        match next {
            Some(n) => cursor = Some(n),
            None => break,
        }
        assert!(turn < 10_000);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn a_restart_under_an_idle_connection_costs_no_error() {
    let mut server = RedisServer::for_test();
    let store = Store::open_redis(&server.url()).await.unwrap();
    store.set("k", b"v").await.unwrap();
    server.restart().unwrap();
    tokio::time::sleep(super::conn::IDLE_PING + Duration::from_millis(100)).await;
    // Not retried if the connection broke under it, so this passes only because the
    // stale connection was found out by a PING first.
    assert_eq!(store.increment("n", 7).await.unwrap(), 7);
}

/// A loopback TCP proxy to `upstream`; `silence` makes the connections open so far stop
/// passing bytes without closing (a connection a NAT or middlebox dropped), while new ones
/// pass as before.
struct SilencingProxy {
    url: String,
    open: std::sync::Arc<std::sync::Mutex<Vec<std::sync::Arc<std::sync::atomic::AtomicBool>>>>,
}

impl SilencingProxy {
    async fn start(upstream: String) -> SilencingProxy {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::{Arc, Mutex};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("redis://{}", listener.local_addr().unwrap());
        let open: Arc<Mutex<Vec<Arc<AtomicBool>>>> = Arc::default();
        let conns = open.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else {
                    continue;
                };
                let silenced = Arc::new(AtomicBool::new(false));
                conns.lock().unwrap().push(silenced.clone());
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                for (mut from, mut to) in [(cr, sw), (sr, cw)] {
                    let silenced = silenced.clone();
                    tokio::spawn(async move {
                        let mut buf = [0u8; 4096];
                        loop {
                            match from.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(_) if silenced.load(Ordering::SeqCst) => {}
                                Ok(n) => {
                                    if to.write_all(&buf[..n]).await.is_err() {
                                        return;
                                    }
                                }
                            }
                        }
                    });
                }
            }
        });
        SilencingProxy { url, open }
    }

    fn silence(&self) {
        for c in self.open.lock().unwrap().iter() {
            c.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_gone_silent_is_replaced() {
    let server = RedisServer::for_test();
    let upstream = server.url().trim_start_matches("redis://").to_string();
    let proxy = SilencingProxy::start(upstream).await;
    let store = Store::open_redis(&proxy.url).await.unwrap();
    store.set("k", b"v").await.unwrap();
    proxy.silence();
    // The kept connection answers nothing, without closing: after its response timeout (2 s)
    // the store takes a new connection rather than trying the silent one again.
    let started = Instant::now();
    let deadline = started + Duration::from_secs(10);
    loop {
        match store.get("k").await {
            Ok(v) => {
                assert_eq!(v, Some(b"v".to_vec()));
                break;
            }
            Err(StoreError::Unavailable(_)) if Instant::now() < deadline => {}
            Err(e) => panic!("no new connection after {:?}: {e}", started.elapsed()),
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(store.increment("n", 1).await.unwrap(), 1);
}

#[tokio::test]
async fn opening_does_not_need_redis_up() {
    let url = format!("redis://127.0.0.1:{}", free_port());
    let store = Store::open_redis(&url).await.unwrap();
    let started = Instant::now();
    unavailable("get", store.get("k").await);
    unavailable("get again", store.get("k").await);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(matches!(
        Store::open_redis("redis://host:notaport").await,
        Err(StoreError::Other(_))
    ));
}

#[tokio::test]
async fn messages_do_not_show_the_password() {
    let url = format!("redis://:hunter2@127.0.0.1:{}/1", free_port());
    let store = Store::open_redis(&url).await.unwrap();
    match store.get("k").await {
        Err(e) => assert!(!e.to_string().contains("hunter2"), "{e}"),
        Ok(v) => panic!("{v:?}"),
    }
}

#[test]
fn glob_characters_are_escaped() {
    assert_eq!(
        super::scan::glob_escape("a*b?c[d]e\\f"),
        "a\\*b\\?c\\[d\\]e\\\\f"
    );
    assert_eq!(super::scan::glob_escape("plain/key:1"), "plain/key:1");
}

/// Scripts go by hash; a server that lost them (`SCRIPT FLUSH`, as after a restart or a
/// failover) gets each one whole once, and every operation still answers as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_the_server_lost_are_sent_again_whole() {
    let server = RedisServer::for_test();
    let store = Store::open_redis(&server.url()).await.unwrap();
    assert_eq!(store.increment("n", 2).await.unwrap(), 2);
    let client = ::redis::Client::open(server.url()).unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    let flushed: String = ::redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(flushed, "OK");
    assert_eq!(store.increment("n", 3).await.unwrap(), 5);
    let writes = [super::super::Write::Set("k".into(), b"v".to_vec())];
    let read = store
        .write_then(&writes, super::super::Then::Get("k"))
        .await
        .unwrap();
    assert_eq!(read, super::super::Answer::Value(Some(b"v".to_vec())));
    // Cached again by the whole sends: the next calls go by hash.
    let cached: Vec<bool> = ::redis::cmd("SCRIPT")
        .arg("EXISTS")
        .arg(super::scripts::INCREMENT.hash())
        .arg(super::scripts::WRITE_THEN.hash())
        .arg(super::scripts::LEASE.hash())
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(
        cached,
        [true, true, false],
        "the scripts run since the flush"
    );
    assert_eq!(store.increment("n", 1).await.unwrap(), 6);
}
