//! `SIGTERM` drains `serve`: `/readyz` turns 503 at once, a waiting long-poll is handed
//! back empty, new work gets 503 + `Retry-After`, the hook call in flight completes and its
//! answer is delivered, and the process exits 0; a call that outlasts `--drain-timeout-ms`
//! does not keep it alive.

use crate::replicas::{send, serve_args, tenants_dir, Replica, Sent};
use crate::replicas::{CLIENT_ID, CLIENT_SECRET, DEPLOYMENT, SECRET};
use genesys_sim::{Faults, Simulator};
use handover_testkit::TempDir;
use serde_json::json;
use std::time::{Duration, Instant};

/// Every Genesys request from now on takes `ms`.
fn slow_genesys(sim: &Simulator, ms: u64) {
    let faults = Faults {
        rate: 1.0,
        weights: [0, 0, 0, 0, 1],
        retry_after_secs: 1,
        slow_ms: ms,
    };
    sim.set_faults(faults, 7);
}

async fn setup(drain_ms: u64) -> (Simulator, Replica, TempDir) {
    let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await.unwrap();
    sim.add_integration(DEPLOYMENT, "", SECRET);
    let dir = TempDir::with_prefix("drain").unwrap();
    tenants_dir(dir.path());
    let mut args = serve_args("memory", &sim.base_url(), 0);
    args.extend(["--drain-timeout-ms".into(), drain_ms.to_string()]);
    let replica = Replica::spawn(dir.path(), &args);
    let start = json!({"user": {"user_id": "d1", "session_id": "d1-session"}});
    let url = format!("{}/api/acme/start", replica.base());
    assert!(matches!(
        send("POST", &url, start.to_string().as_bytes()).await,
        Sent::Answered(200, _)
    ));
    (sim, replica, dir)
}

/// Sends user d1's `text` and returns once the call is at (slow) Genesys: in flight.
async fn message_in_flight(
    sim: &Simulator,
    base: &str,
    text: &str,
) -> tokio::task::JoinHandle<Sent> {
    let said = tokio::spawn({
        let url = format!("{base}/api/acme/message");
        let body = json!({"user_id": "d1", "text": text}).to_string();
        async move { send("POST", &url, body.as_bytes()).await }
    });
    crate::support::wait_until("the call is at Genesys", Duration::from_secs(10), || {
        let n = sim.faults_injected();
        async move { n > 0 }
    })
    .await;
    said
}

/// Waits for `child` to exit, at most `within`; its exit code.
pub fn exit_within(child: &mut std::process::Child, within: Duration) -> Option<i32> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_call_in_flight_hands_back_long_polls_and_exits_0() {
    let (sim, mut replica, _dir) = setup(20_000).await;
    let base = replica.base();
    // The start's status, taken; the next poll acknowledges it and waits for more.
    let url = format!("{base}/api/acme/sessions/d1-session/actions?wait=0");
    let Sent::Answered(200, first) = send("GET", &url, b"").await else {
        panic!("no first poll")
    };
    let cursor = first["cursor"]
        .as_str()
        .expect("the start's status")
        .to_string();
    let poll = tokio::spawn({
        let url = format!("{base}/api/acme/sessions/d1-session/actions?wait=25000&after={cursor}");
        async move { send("GET", &url, b"").await }
    });
    slow_genesys(&sim, 1500);
    let said = message_in_flight(&sim, &base, "still there?").await;
    let termed = Instant::now();
    let mut child = replica.terminate();
    crate::support::wait_until("/readyz says 503", Duration::from_secs(5), || {
        let url = format!("{base}/readyz");
        async move { matches!(send("GET", &url, b"").await, Sent::Answered(503, _)) }
    })
    .await;
    match poll.await.unwrap() {
        Sent::Answered(200, v) => assert_eq!(v["actions"], json!([]), "handed back empty"),
        _ => panic!("the long-poll was not answered"),
    }
    assert!(
        termed.elapsed() < Duration::from_secs(10),
        "handed back at once"
    );
    // New work while draining: 503 with Retry-After, nothing else.
    let url = format!("{base}/api/acme/message");
    let body = json!({"user_id": "d1", "text": "new"}).to_string();
    let headers = [("content-type".to_string(), "application/json".to_string())];
    if let Ok((status, h, _)) =
        genesys_sim::request_full("POST", &url, &headers, body.as_bytes()).await
    {
        assert_eq!(status, 503);
        assert_eq!(h.get("retry-after").map(String::as_str), Some("1"));
    }
    match said.await.unwrap() {
        Sent::Answered(200, v) => assert!(v["ok"].is_object(), "{v}"),
        _ => panic!("the call in flight did not get its answer"),
    }
    assert!(sim.texts_of("d1").contains(&"still there?".to_string()));
    assert_eq!(exit_within(&mut child, Duration::from_secs(15)), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_outlasts_the_drain_bound_does_not_keep_the_process_alive() {
    let (sim, mut replica, _dir) = setup(1_000).await;
    slow_genesys(&sim, 30_000);
    let said = message_in_flight(&sim, &replica.base(), "slow").await;
    let termed = Instant::now();
    let mut child = replica.terminate();
    assert_eq!(exit_within(&mut child, Duration::from_secs(10)), Some(0));
    let took = termed.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "exited {took:?} after SIGTERM (bound 1 s)"
    );
    said.abort();
}
