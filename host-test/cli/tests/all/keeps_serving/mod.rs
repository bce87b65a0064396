//! `serve` keeps serving: runaway tenants yield and are capped, swaps (in place or atomic,
//! to versions never compiled) fail no call, slow and hostile clients are cut off, and the
//! bot-side API cannot be driven by a web page or used to probe tenant names.

use crate::serving::{call, served_version};
use crate::support::{artifact, metrics, sample, wait_until};
use genesys_om_host::serve;
use genesys_om_host::server::{ServeOptions, Server};
use genesys_om_host::{engine_for, Egress, Store};
use genesys_sim::{request, AgentSends, Simulator};
use handover_testkit::TempDir;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod connections;
mod swaps;

pub(super) const CLIENT_ID: &str = "serve-client";
pub(super) const CLIENT_SECRET: &str = "serve-client-secret";

/// Tenant `name` on `wasm`, with extra tenant-file fields.
pub(super) fn tenant(dir: &Path, name: &str, wasm: &Path, secret: &str, extra: Value) {
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
pub(super) async fn acme_alone(prefix: &str) -> (Simulator, TempDir) {
    let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await.unwrap();
    let dir = TempDir::with_prefix(prefix).unwrap();
    let wasm = artifact("genesys-om-handover.wasm");
    tenant(dir.path(), "acme", &wasm, "s", json!({}));
    (sim, dir)
}

pub(super) async fn serve_dir(
    dir: &Path,
    sim: &Simulator,
    f: impl FnOnce(&mut ServeOptions),
) -> String {
    let egress = Egress::redirect(&sim.base_url()).unwrap();
    let mut opts = ServeOptions::new(dir.to_path_buf(), Store::memory(), egress);
    opts.listen = "127.0.0.1:0".parse().unwrap();
    opts.cache_dir = dir.join("cache");
    opts.flush_every = Duration::ZERO;
    opts.inactivity_every = Duration::ZERO;
    f(&mut opts);
    let engine = engine_for(opts.max_instances, &opts.limits).unwrap();
    let addr = serve::start(Server::new(opts, engine)).await.unwrap();
    format!("http://{addr}")
}

/// One raw HTTP/1.1 exchange; returns the status, the headers (lower-case names) and body.
pub(super) async fn raw(addr: &str, bytes: &[u8]) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(bytes).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_lowercase(), body.to_string())
}

pub(super) fn host_of(base: &str) -> String {
    base.trim_start_matches("http://").to_string()
}

pub(super) async fn timed_get(url: &str) -> (u16, Duration) {
    let t = Instant::now();
    let (s, _) = request("GET", url, &[], b"").await.unwrap();
    (s, t.elapsed())
}

/// Hook calls on the HTTP workers (the default): a looping guest yields at every epoch tick.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runaway_calls_neither_starve_the_host_nor_exceed_their_tenant_limit() {
    runaway_calls(0).await
}

/// The same with hook calls on a pool of their own (`--guest-threads`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runaway_calls_on_a_guest_pool_apart_neither_starve_the_host() {
    runaway_calls(2).await
}

/// How long the looping calls run: long enough that every check below is made while they
/// all still hold their slots, however slowly a loaded machine answers.
const DEADLINE: Duration = Duration::from_secs(8);

async fn runaway_calls(guest_threads: usize) {
    let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await.unwrap();
    let dir = TempDir::with_prefix("runaway").unwrap();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let max = 4 * cores;
    tenant(
        dir.path(),
        "runaway",
        &artifact("misbehave.wasm"),
        "s1",
        // No queue: a call past the limit is refused at once.
        json!({"max-concurrent-calls": max, "max-queued-calls": 0}),
    );
    tenant(
        dir.path(),
        "acme",
        &artifact("genesys-om-handover.wasm"),
        "s2",
        json!({}),
    );
    let base = serve_dir(dir.path(), &sim, |o| {
        o.limits.hook_timeout = DEADLINE;
        o.guest_threads = guest_threads;
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
    // All of them arrived: the two past the limit were refused, so the limit's worth of
    // looping calls hold every permit.
    let refused_series =
        "handover_calls_refused_busy_total{tenant=\"runaway\",reason=\"queue-full\"}";
    wait_until(
        "the calls past max-concurrent-calls to be refused",
        Duration::from_secs(30),
        || async { sample(&metrics(&base).await, refused_series) >= 2 },
    )
    .await;
    assert_eq!(sample(&metrics(&base).await, refused_series), 2);

    // A Genesys webhook for the full tenant: 503 with Retry-After, so Genesys retries.
    let (s, head, _) = raw(
        &host_of(&base),
        b"POST /handover/genesysCloudOM/runaway HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
    )
    .await;
    assert_eq!(s, 503, "{head}");
    assert!(head.contains("retry-after: 1"), "{head}");

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
    // The checks ran while the looping calls held their slots.
    let ended = looping.iter().filter(|t| t.is_finished()).count();
    assert_eq!(ended, 2, "only the refused calls ended during the checks");
    println!("guest threads {guest_threads}: with {max} looping calls in flight: /healthz and another tenant's version within {worst:?}, its hook calls within {worst_hook:?} (worst of 10 each)");
    assert!(
        worst_hook < Duration::from_secs(1),
        "another tenant's hook calls stalled for {worst_hook:?}"
    );
    assert!(
        worst < Duration::from_secs(1),
        "the host stalled for {worst:?}"
    );

    let mut refused = 0;
    for t in looping {
        let (s, body, took) = t.await.unwrap();
        match s {
            503 => refused += 1,
            500 => {
                assert!(took >= DEADLINE / 2, "stopped at its deadline");
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
        metrics.contains(
            "handover_calls_refused_busy_total{tenant=\"runaway\",reason=\"queue-full\"} 3"
        ),
        "{metrics}"
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
