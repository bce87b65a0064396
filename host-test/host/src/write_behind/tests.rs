use super::*;
use http_body_util::BodyExt;
use std::sync::Mutex as StdMutex;

fn set(k: &str, v: &[u8]) -> Write {
    Write::Set(k.into(), v.to_vec())
}

#[tokio::test]
async fn writes_wait_for_the_next_read_and_go_with_it_in_order() {
    let store = Store::memory();
    let trips = RoundTrips::new();
    let w = WriteBehind::new(store.clone(), Some(trips.clone()));
    w.write(vec![set("a", b"1"), set("b", b"1")]).await.unwrap();
    w.write(vec![Write::Delete("b".into()), set("a", b"2")])
        .await
        .unwrap();
    assert_eq!(store.get("a").await.unwrap(), None, "held back");
    assert_eq!(trips.count(), 0);
    let a = w.then(Then::Get("a")).await.unwrap();
    assert_eq!(
        a,
        Answer::Value(Some(b"2".to_vec())),
        "the call reads its own writes"
    );
    assert_eq!(store.get("b").await.unwrap(), None);
    assert_eq!(trips.count(), 1, "the writes went with the read");
    w.flush().await.unwrap();
    assert_eq!(trips.count(), 1, "nothing held: no request");
    w.write(vec![set("c", b"3")]).await.unwrap();
    w.flush().await.unwrap();
    assert_eq!(
        (store.get("c").await.unwrap(), trips.count()),
        (Some(b"3".to_vec()), 2)
    );
}

#[tokio::test]
async fn too_many_held_writes_are_sent_at_once() {
    let store = Store::memory();
    let w = WriteBehind::new(store.clone(), None);
    for i in 0..=MAX_HELD {
        w.write(vec![set(&format!("k/{i}"), b"v")]).await.unwrap();
    }
    assert!(store.exists(&format!("k/{MAX_HELD}")).await.unwrap());
    w.write(vec![set("big", &vec![7; MAX_HELD_BYTES + 1])])
        .await
        .unwrap();
    assert!(store.exists("big").await.unwrap());
}

/// Inner hooks that note whether `key` was in the store when the request was sent.
struct Probe {
    store: Store,
    key: &'static str,
    sent: Arc<StdMutex<Vec<bool>>>,
}

impl WasiHttpHooks for Probe {
    fn send_request(
        &mut self,
        _request: http::Request<WasiBody>,
        _options: Option<wasmtime_wasi_http::RequestOptions>,
        _fut: IoFuture,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        let (store, key, sent) = (self.store.clone(), self.key, self.sent.clone());
        Box::new(async move {
            let there = store.exists(key).await.unwrap();
            sent.lock().unwrap().push(there);
            Err(wasmtime_wasi_http::Error::HttpRequestDenied)
        })
    }
}

fn request() -> http::Request<WasiBody> {
    let body = http_body_util::Empty::new().map_err(|never| match never {});
    http::Request::new(body.boxed_unsync())
}

async fn send(hooks: &mut WritesFirst<Probe>) -> SendResult {
    let no_io: IoFuture = Box::new(async { Ok(()) });
    Box::into_pin(hooks.send_request(request(), None, no_io)).await
}

#[tokio::test]
async fn a_request_goes_out_only_after_the_writes_before_it() {
    let store = Store::memory();
    let sent = Arc::new(StdMutex::new(Vec::new()));
    let writes = WriteBehind::new(store.clone(), None);
    let inner = Probe {
        store: store.clone(),
        key: "outbox/1",
        sent: sent.clone(),
    };
    let mut hooks = WritesFirst {
        inner,
        writes: writes.clone(),
    };
    writes.write(vec![set("outbox/1", b"hello")]).await.unwrap();
    let r = send(&mut hooks).await;
    assert!(matches!(
        r,
        Err(wasmtime_wasi_http::Error::HttpRequestDenied)
    ));
    assert_eq!(*sent.lock().unwrap(), [true]);
}

#[tokio::test]
async fn a_failed_read_with_nothing_held_fails_only_itself() {
    // Nothing listens on port 1 of loopback: every request to this store fails.
    let store = Store::open_redis("redis://127.0.0.1:1").await.unwrap();
    let w = WriteBehind::new(store.clone(), None);
    w.then(Then::Get("k")).await.unwrap_err();
    // Nothing of the call was lost: the next write is held and sent as usual (and fails
    // only because this store never answers).
    w.write(vec![set("k", b"v")]).await.unwrap();
    let e = w.flush().await.unwrap_err();
    assert!(!e.to_string().contains("an earlier write"), "{e}");
}

#[tokio::test]
async fn a_failed_batch_fails_every_later_operation_and_request() {
    let store = Store::open_redis("redis://127.0.0.1:1").await.unwrap();
    let w = WriteBehind::new(store.clone(), None);
    w.write(vec![set("k", b"v")]).await.unwrap();
    w.then(Then::Get("k")).await.unwrap_err();
    for e in [
        w.write(vec![set("k2", b"v")]).await.unwrap_err(),
        w.then(Then::Get("k")).await.unwrap_err(),
        w.flush().await.unwrap_err(),
    ] {
        assert!(
            e.to_string()
                .contains("an earlier write of this call failed"),
            "{e}"
        );
    }
    let sent = Arc::new(StdMutex::new(Vec::new()));
    let inner = Probe {
        store: Store::memory(),
        key: "k",
        sent: sent.clone(),
    };
    let mut hooks = WritesFirst { inner, writes: w };
    match send(&mut hooks).await {
        Err(wasmtime_wasi_http::Error::InternalError(Some(msg))) => {
            assert!(msg.contains("could not be stored"), "{msg}")
        }
        other => panic!("expected an internal error, got {:?}", other.map(|_| ())),
    }
    assert!(sent.lock().unwrap().is_empty(), "the request was sent");
}
