//! `serve` keeps serving: runaway tenants yield and are capped, swaps (in place or atomic,
//! to versions never compiled) fail no call, slow and hostile clients are cut off, and the
//! bot-side API cannot be driven by a web page or used to probe tenant names.

use crate::serving::{call, served_version};
use crate::support::artifact;
use genesys_om_host::serve::{self, ServeOptions, Server};
use genesys_om_host::{engine, Egress, Store};
use genesys_sim::{request, AgentSends, Simulator};
use handover_testkit::TempDir;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CLIENT_ID: &str = "serve-client";
const CLIENT_SECRET: &str = "serve-client-secret";

/// Tenant `name` on `wasm`, with extra tenant-file fields.
fn tenant(dir: &Path, name: &str, wasm: &Path, secret: &str, extra: Value) {
    std::fs::copy(wasm, dir.join(format!("{name}.wasm"))).unwrap();
    let mut file = json!({
        "component": format!("{name}.wasm"),
        "events-api-key": format!("{name}-events-key"),
        "config": {
            "host": "mypurecloud.de", "deployment-name": format!("{name}-deployment"),
            "webhook-secret": secret, "client-id": CLIENT_ID, "client-secret": CLIENT_SECRET,
            "queue-id": format!("{name}-queue")
        }
    });
    for (k, v) in extra.as_object().unwrap() {
        file[k] = v.clone();
    }
    std::fs::write(dir.join(format!("{name}.json")), file.to_string()).unwrap();
}

/// A simulator and a tenants directory holding tenant `acme` on the release component.
async fn acme_alone(prefix: &str) -> (Simulator, TempDir) {
    let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await.unwrap();
    let dir = TempDir::with_prefix(prefix).unwrap();
    let wasm = artifact("genesys-om-handover.wasm");
    tenant(dir.path(), "acme", &wasm, "s", json!({}));
    (sim, dir)
}

async fn serve_dir(dir: &Path, sim: &Simulator, f: impl FnOnce(&mut ServeOptions)) -> String {
    let egress = Egress::redirect(&sim.base_url()).unwrap();
    let mut opts = ServeOptions::new(dir.to_path_buf(), Store::memory(), egress);
    opts.listen = "127.0.0.1:0".parse().unwrap();
    opts.cache_dir = dir.join("cache");
    opts.flush_every = Duration::ZERO;
    opts.inactivity_every = Duration::ZERO;
    f(&mut opts);
    let addr = serve::start(Server::new(opts, engine().unwrap()))
        .await
        .unwrap();
    format!("http://{addr}")
}

/// One raw HTTP/1.1 exchange; returns the status, the headers (lower-case names) and body.
async fn raw(addr: &str, bytes: &[u8]) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(bytes).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_lowercase(), body.to_string())
}

fn host_of(base: &str) -> String {
    base.trim_start_matches("http://").to_string()
}

async fn timed_get(url: &str) -> (u16, Duration) {
    let t = Instant::now();
    let (s, _) = request("GET", url, &[], b"").await.unwrap();
    (s, t.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runaway_calls_neither_starve_the_host_nor_exceed_their_tenant_limit() {
    let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await.unwrap();
    let dir = TempDir::with_prefix("runaway").unwrap();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let max = 4 * cores;
    tenant(
        dir.path(),
        "runaway",
        &artifact("misbehave.wasm"),
        "s1",
        json!({"max-concurrent-calls": max}),
    );
    tenant(
        dir.path(),
        "acme",
        &artifact("genesys-om-handover.wasm"),
        "s2",
        json!({}),
    );
    let base = serve_dir(dir.path(), &sim, |o| {
        o.limits.hook_timeout = Duration::from_secs(3)
    })
    .await;
    call("GET", &format!("{base}/api/acme/version"), Value::Null).await;
    call("GET", &format!("{base}/api/runaway/version"), Value::Null).await;

    // 4 × cores looping calls (misbehave's `start` never returns) plus two more.
    let looping: Vec<_> = (0..max + 2)
        .map(|i| {
            let addr = host_of(&base);
            tokio::spawn(async move {
                let t = Instant::now();
                let body = json!({"user": {"user_id": format!("u{i}"), "session_id": "s"}});
                let (s, _, b) = raw(
                    &addr,
                    format!(
                        "POST /api/runaway/start HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.to_string().len()
                    )
                    .as_bytes(),
                )
                .await;
                (s, b, t.elapsed())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Meanwhile: health and another tenant answer at once.
    let (mut worst, mut worst_hook) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..10 {
        let (s, t) = timed_get(&format!("{base}/healthz")).await;
        assert_eq!(s, 200);
        worst = worst.max(t);
        let (s, t) = timed_get(&format!("{base}/api/acme/version")).await;
        assert_eq!(s, 200);
        worst = worst.max(t);
        // A hook call of another tenant (no handover open: 404 from the component).
        let t = Instant::now();
        let (s, v) = call(
            "POST",
            &format!("{base}/api/acme/message"),
            json!({"user_id": "nobody", "text": "hi"}),
        )
        .await;
        assert_eq!(s, 404, "{v}");
        worst_hook = worst_hook.max(t.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!("with {max} looping calls in flight: /healthz and another tenant's version within {worst:?}, its hook calls within {worst_hook:?} (worst of 10 each)");
    assert!(
        worst_hook < Duration::from_secs(1),
        "another tenant's hook calls stalled for {worst_hook:?}"
    );
    assert!(
        worst < Duration::from_secs(1),
        "the host stalled for {worst:?}"
    );

    // A Genesys webhook for the full tenant: 503 with Retry-After, so Genesys retries.
    let (s, head, _) = raw(
        &host_of(&base),
        b"POST /handover/genesysCloudOM/runaway HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
    )
    .await;
    assert_eq!(s, 503, "{head}");
    assert!(head.contains("retry-after: 1"), "{head}");

    let mut refused = 0;
    for t in looping {
        let (s, body, took) = t.await.unwrap();
        match s {
            503 => refused += 1,
            500 => {
                assert!(took >= Duration::from_secs(2), "stopped at its deadline");
                assert!(
                    !body.contains("wasm") && !body.contains("backtrace"),
                    "no details in the answer: {body}"
                );
            }
            other => panic!("looping call answered {other}: {body}"),
        }
    }
    assert_eq!(
        refused, 2,
        "the calls past max-concurrent-calls are refused at once"
    );
    let (_, metrics) = request("GET", &format!("{base}/metrics"), &[], b"")
        .await
        .unwrap();
    let metrics = String::from_utf8_lossy(&metrics);
    assert!(
        metrics.contains("handover_calls_refused_busy_total{tenant=\"runaway\"} 3"),
        "{metrics}"
    );
}

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

    // Six swaps, one a second: in place and atomic by turns, every other one to a build
    // never compiled before; the tenant file itself is rewritten in place twice.
    let wasm_path = dir.path().join("acme.wasm");
    for n in 0..6 {
        tokio::time::sleep(Duration::from_millis(1000)).await;
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
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
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
    let (_, metrics) = request("GET", &format!("{base}/metrics"), &[], b"")
        .await
        .unwrap();
    let metrics = String::from_utf8_lossy(&metrics);
    assert!(
        !metrics.contains("handover_component_swap_failures_total{"),
        "no swap failed for good: {metrics}"
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
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (s, v) = call("GET", &format!("{base}/api/acme/version"), Value::Null).await;
    assert_eq!((s, v["version"].clone()), (200, json!("0.1.0")), "{v}");
    let (_, metrics) = request("GET", &format!("{base}/metrics"), &[], b"")
        .await
        .unwrap();
    let metrics = String::from_utf8_lossy(&metrics);
    assert!(
        metrics.contains("handover_component_swap_failures_total{tenant=\"acme\"} 1"),
        "counted once per change: {metrics}"
    );
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_oversized_clients_are_cut_off_while_others_are_served() {
    let (sim, dir) = acme_alone("slow").await;
    let base = serve_dir(dir.path(), &sim, |o| {
        o.conn.header_timeout = Duration::from_millis(500);
        o.conn.body_timeout = Duration::from_millis(500);
    })
    .await;
    let addr = host_of(&base);

    // 100 slow-header and 100 slow-body clients.
    let mut slow = Vec::new();
    for i in 0..200 {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        if i % 2 == 0 {
            s.write_all(b"POST /api/acme/start HTTP/1.1\r\nhost: x\r\n")
                .await
                .unwrap();
        } else {
            s.write_all(b"POST /api/acme/start HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"user\"")
                .await
                .unwrap();
        }
        slow.push(s);
    }
    // Others are served meanwhile.
    let (s, t) = timed_get(&format!("{base}/healthz")).await;
    assert_eq!(s, 200);
    println!("/healthz with 200 slow clients connected: {t:?}");

    // A declared length of 10^12 is refused at once; broken chunking is a 400.
    let t = Instant::now();
    let (s, _, _) = raw(
        &addr,
        b"POST /handover/genesysCloudOM/acme HTTP/1.1\r\nhost: x\r\ncontent-length: 1000000000000\r\n\r\n0123456789",
    )
    .await;
    assert_eq!(s, 413);
    assert!(
        t.elapsed() < Duration::from_millis(400),
        "at once: {:?}",
        t.elapsed()
    );
    let (s, _, body) = raw(
        &addr,
        b"POST /handover/genesysCloudOM/acme HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    )
    .await;
    assert_eq!(s, 400, "{body}");

    // Every slow client is cut off within a few timeouts (closed, or answered 408).
    let t = Instant::now();
    for (i, mut s) in slow.into_iter().enumerate() {
        let mut buf = Vec::new();
        let r = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await;
        assert!(
            r.is_ok(),
            "slow client {i} still connected after {:?}",
            t.elapsed()
        );
        let text = String::from_utf8_lossy(&buf);
        assert!(
            buf.is_empty() || text.starts_with("HTTP/1.1 408"),
            "slow client {i}: {text}"
        );
    }
    println!("200 slow clients cut off within {:?}", t.elapsed());

    // An idle keep-alive connection is closed after the header timeout.
    let mut s = TcpStream::connect(&addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = s.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let idle = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await;
    assert!(
        matches!(idle, Ok(Ok(0))),
        "idle connection closed: {idle:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_api_needs_json_and_its_key_and_tenant_names_cannot_be_probed() {
    let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await.unwrap();
    let dir = TempDir::with_prefix("botapi").unwrap();
    tenant(
        dir.path(),
        "acme",
        &artifact("genesys-om-handover.wasm"),
        "acme-secret",
        json!({"bot-api-key": "acme-bot-key", "max-webhook-bytes": 4096}),
    );
    sim.add_integration("acme-deployment", "", "acme-secret");
    let base = serve_dir(dir.path(), &sim, |_| {}).await;
    let start = json!({"user": {"user_id": "b1", "session_id": "b1-session"}}).to_string();
    let post = |path: &str, headers: Vec<(&str, &str)>, body: &str| {
        let url = format!("{base}{path}");
        let headers: Vec<(String, String)> = headers
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let body = body.as_bytes().to_vec();
        async move {
            let (s, b) = request("POST", &url, &headers, &body).await.unwrap();
            (s, String::from_utf8_lossy(&b).to_string())
        }
    };
    let json_ct = ("content-type", "application/json");
    let key = ("authorization", "Bearer acme-bot-key");

    // A form or text/plain post, as a web page can send without asking: 415.
    for ct in ["text/plain", "application/x-www-form-urlencoded"] {
        let (s, _) = post("/api/acme/start", vec![("content-type", ct), key], &start).await;
        assert_eq!(s, 415, "{ct}");
    }
    // Missing key, wrong key, unknown tenant: one answer.
    let missing = post("/api/acme/start", vec![json_ct], &start).await;
    let wrong = post(
        "/api/acme/start",
        vec![json_ct, ("authorization", "Bearer nope")],
        &start,
    )
    .await;
    let unknown = post("/api/initech/start", vec![json_ct, key], &start).await;
    assert_eq!(missing.0, 401);
    assert_eq!(missing, wrong);
    assert_eq!(missing, unknown);
    let (s, _) = request(
        "GET",
        &format!("{base}/api/acme/sessions/b1-session/actions"),
        &[],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(s, 401, "the long-poll needs the key too");
    // With the key: served.
    let (s, b) = post("/api/acme/start", vec![json_ct, key], &start).await;
    assert_eq!(s, 200, "{b}");

    // Events: an unknown tenant and a wrong key answer alike.
    let ev = json!({"userId": "b1", "topic": "customer.end"}).to_string();
    let a = post(
        "/handover/genesysCloudOM/acme/events",
        vec![("authorization", "wrong")],
        &ev,
    )
    .await;
    let b = post(
        "/handover/genesysCloudOM/initech/events",
        vec![("authorization", "wrong")],
        &ev,
    )
    .await;
    assert_eq!(a.0, 401);
    assert_eq!(a, b);
    // Webhooks: an unknown tenant and a bad signature answer alike.
    let sig = ("x-hub-signature-256", "sha256=AAAA");
    let a = post("/handover/genesysCloudOM/acme", vec![sig], "{}").await;
    let b = post("/handover/genesysCloudOM/initech", vec![sig], "{}").await;
    assert_eq!(a.0, 401);
    assert_eq!(a, b);
    // A webhook over the tenant's max-webhook-bytes is refused before its signature is.
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(5000));
    let (s, _) = post("/handover/genesysCloudOM/acme", vec![sig], &big).await;
    assert_eq!(s, 413);
}

/// User and system CPU time of a process so far.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces) start at field 3.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<u64> = rest
        .split(' ')
        .skip(11)
        .take(2)
        .map(|v| v.parse().unwrap())
        .collect();
    // Clock ticks are 1/100 s on Linux.
    Duration::from_millis((f[0] + f[1]) * 10)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_descriptor_limit_the_server_idles_and_recovers() {
    let (sim, dir) = acme_alone("fds").await;
    let port = handover_testkit::free_port();
    let child = std::process::Command::new("bash")
        .arg("-c")
        .arg("ulimit -n 64 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_host-test"))
        .args([
            "serve",
            "--port",
            &port.to_string(),
            "--tenants",
            ".",
            "--kv",
            "memory",
        ])
        .args(["--genesys-base-url", &sim.base_url(), "--cache", "cache"])
        .args(["--flush-every", "0", "--inactivity-every", "0"])
        .current_dir(dir.path())
        .env("FEATURE_ENABLE_GENESYS_CLOUD_OM", "true")
        .env("FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST", "*")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let _child = handover_testkit::Child::new(child);
    let addr = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(&addr).await.is_err() {
        assert!(Instant::now() < deadline, "serve never listened");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let base = format!("http://{addr}");
    assert_eq!(timed_get(&format!("{base}/healthz")).await.0, 200);

    // More connections than descriptors: the server accepts until it has none left.
    let mut conns = Vec::new();
    for _ in 0..120 {
        conns.push(TcpStream::connect(&addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = cpu_time(pid);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let used = cpu_time(pid) - before;
    println!("at the descriptor limit, 2 s idle: {used:?} of CPU");
    assert!(
        used < Duration::from_millis(300),
        "the accept loop spins: {used:?} in 2 s"
    );

    drop(conns);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let ok = tokio::time::timeout(
            Duration::from_secs(2),
            request("GET", &format!("{base}/healthz"), &[], b""),
        )
        .await
        .is_ok_and(|r| r.is_ok_and(|(s, _)| s == 200));
        if ok {
            break;
        }
        assert!(Instant::now() < deadline, "never recovered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
