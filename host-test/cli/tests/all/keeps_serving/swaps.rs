//! Swaps under load: in place and atomic, to builds never compiled before, and a broken
//! version that is never served while the last good one stays.

use super::*;

/// The component's bytes with a custom section named `tag` appended: the same behaviour,
/// a content hash never compiled before.
fn retagged(wasm: &[u8], tag: &str) -> Vec<u8> {
    fn leb(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            out.push(if n == 0 { b } else { b | 0x80 });
            if n == 0 {
                return;
            }
        }
    }
    let mut payload = Vec::new();
    leb(tag.len(), &mut payload);
    payload.extend_from_slice(tag.as_bytes());
    let mut out = wasm.to_vec();
    out.push(0);
    leb(payload.len(), &mut out);
    out.extend(payload);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swaps_in_place_and_atomic_under_load_fail_no_call() {
    let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await.unwrap();
    let dir = TempDir::with_prefix("swaps").unwrap();
    let secret = "swap-secret";
    let v1 = std::fs::read(artifact("genesys-om-handover.wasm")).unwrap();
    tenant(
        dir.path(),
        "acme",
        &artifact("genesys-om-handover.wasm"),
        secret,
        json!({}),
    );
    let integration = sim.add_integration("acme-deployment", "", secret);
    let base = serve_dir(dir.path(), &sim, |_| {}).await;
    let (s, v) = call(
        "POST",
        &format!("{base}/api/acme/start"),
        json!({"user": {"user_id": "a1", "session_id": "a1-session"}}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let conv = sim.conversation_of("a1").unwrap().id;
    sim.set_webhook_url(
        &integration,
        &format!("{base}/handover/genesysCloudOM/acme"),
    );

    // Load: user messages and agent webhooks, one after another, timed.
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let took = Arc::new(Mutex::new(Vec::<Duration>::new()));
    let sent = Arc::new(AtomicUsize::new(0));
    let load = {
        let (stop, failures, took, sent, base, sim, conv) = (
            stop.clone(),
            failures.clone(),
            took.clone(),
            sent.clone(),
            base.clone(),
            sim.clone(),
            conv.clone(),
        );
        tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let t = Instant::now();
                let (s, v) = call(
                    "POST",
                    &format!("{base}/api/acme/message"),
                    json!({"user_id": "a1", "text": format!("m{i}")}),
                )
                .await;
                if s != 200 {
                    failures.lock().unwrap().push(format!("message {s} {v}"));
                }
                let status = sim
                    .send_webhook(&conv, AgentSends::Text(format!("a{i}")))
                    .await
                    .unwrap_or(0);
                if status != 200 {
                    failures.lock().unwrap().push(format!("webhook {status}"));
                }
                took.lock().unwrap().push(t.elapsed());
                sent.fetch_add(1, Ordering::SeqCst);
                i += 1;
            }
        })
    };

    // Six swaps, in place and atomic by turns, every other one to a build never compiled
    // before; the tenant file itself is rewritten in place twice. Each comes once the load
    // made progress since the last one was served, and is itself waited for until served.
    let wasm_path = dir.path().join("acme.wasm");
    let swaps_series = "handover_component_swaps_total{tenant=\"acme\"}";
    let load_runs = |more: usize| {
        let (sent, failures) = (sent.clone(), failures.clone());
        let from = sent.load(Ordering::SeqCst);
        async move {
            wait_until("the load to go on", Duration::from_secs(60), || async {
                sent.load(Ordering::SeqCst) >= from + more || !failures.lock().unwrap().is_empty()
            })
            .await
        }
    };
    for n in 0..6 {
        load_runs(3).await;
        let bytes = if n % 2 == 0 {
            retagged(&v1, &format!("swap-{n}"))
        } else {
            v1.clone()
        };
        if n % 3 == 2 {
            let file = dir.path().join("acme.json");
            let mut v: Value =
                serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
            v["config"]["queue-id"] = json!(format!("acme-queue-{n}"));
            std::fs::write(&file, v.to_string()).unwrap();
        }
        if n % 2 == 0 {
            // In place, in two writes with a pause, as a slow `cp` does.
            let mut f = std::fs::File::create(&wasm_path).unwrap();
            use std::io::Write;
            f.write_all(&bytes[..bytes.len() / 2]).unwrap();
            f.flush().unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            f.write_all(&bytes[bytes.len() / 2..]).unwrap();
        } else {
            let tmp = dir.path().join("acme.wasm.tmp");
            std::fs::write(&tmp, &bytes).unwrap();
            std::fs::rename(&tmp, &wasm_path).unwrap();
        }
        wait_until(
            &format!("swap {n} to be served"),
            Duration::from_secs(60),
            || async { sample(&metrics(&base).await, swaps_series) > n },
        )
        .await;
    }
    load_runs(3).await;
    stop.store(true, Ordering::SeqCst);
    load.await.unwrap();
    served_version(&base, "acme", "0.1.0").await;

    let failures = failures.lock().unwrap().clone();
    let mut took = took.lock().unwrap().clone();
    took.sort();
    let p99 = took[(took.len() * 99 / 100).min(took.len() - 1)];
    println!(
        "6 swaps under load: {} user messages + {} webhooks, {} failed, p99 {:?} (message + webhook)",
        sent.load(Ordering::SeqCst),
        sent.load(Ordering::SeqCst),
        failures.len(),
        p99
    );
    assert!(
        failures.is_empty(),
        "failed calls during swaps: {failures:?}"
    );
    assert!(sent.load(Ordering::SeqCst) > 20, "the load ran");
    let text = metrics(&base).await;
    assert!(
        !text.contains("handover_component_swap_failures_total{"),
        "no swap failed for good: {text}"
    );
    // The cache holds what was compiled, no more than its bound.
    let cached = std::fs::read_dir(dir.path().join("cache"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "cwasm"))
        })
        .count();
    assert!((1..=genesys_om_host::tenants::COMPILED_ON_DISK).contains(&cached));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_version_is_not_served_and_the_last_good_one_stays() {
    let (sim, dir) = acme_alone("broken").await;
    let base = serve_dir(dir.path(), &sim, |_| {}).await;
    served_version(&base, "acme", "0.1.0").await;
    std::fs::write(dir.path().join("acme.wasm"), b"\0asm garbage").unwrap();
    std::fs::write(dir.path().join("acme.json"), b"{ not json").unwrap();
    let failures = "handover_component_swap_failures_total{tenant=\"acme\"}";
    wait_until(
        "the broken version to be tried and refused",
        Duration::from_secs(30),
        || async { sample(&metrics(&base).await, failures) >= 1 },
    )
    .await;
    let (s, v) = call("GET", &format!("{base}/api/acme/version"), Value::Null).await;
    assert_eq!((s, v["version"].clone()), (200, json!("0.1.0")), "{v}");
    // Counted once per change, not once per look: the watcher looks at the same broken
    // files a few more times (this wait is the thing under test), and nothing is added.
    tokio::time::sleep(genesys_om_host::tenants::WATCH_EVERY * 4).await;
    let text = metrics(&base).await;
    assert_eq!(
        sample(&text, failures),
        1,
        "counted once per change: {text}"
    );
    let (s, v) = call("GET", &format!("{base}/api/acme/version"), Value::Null).await;
    assert_eq!((s, v["version"].clone()), (200, json!("0.1.0")), "{v}");
    // Fixed: served again.
    std::fs::copy(
        artifact("genesys-om-handover-v2.wasm"),
        dir.path().join("acme.wasm"),
    )
    .unwrap();
    tenant(
        dir.path(),
        "acme",
        &artifact("genesys-om-handover-v2.wasm"),
        "s",
        json!({}),
    );
    served_version(&base, "acme", "0.1.0+v2").await;
}
