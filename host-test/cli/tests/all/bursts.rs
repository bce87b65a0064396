//! Bursts: calls past a tenant's `max-concurrent-calls` wait in its bounded queue for a
//! free slot instead of being refused; a call is refused (503 + `Retry-After`) only when
//! the queue is full, at once, or when its wait ran out, and each refusal is counted by
//! reason in `/metrics`.

use crate::keeps_serving::{host_of, raw, serve_dir, tenant, CLIENT_ID, CLIENT_SECRET};
use crate::serving::call;
use crate::support::{artifact, metrics, sample, wait_until};
use genesys_sim::{request, AgentSends, Simulator};
use handover_testkit::TempDir;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

const USERS: usize = 200;
const MESSAGES: usize = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_starts_at_once_and_two_thousand_messages_none_refused_each_in_order() {
    let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await.unwrap();
    let dir = TempDir::with_prefix("bursts").unwrap();
    let secret = "bursts-secret";
    // The default limit (64) and queue (256); a queued call may wait longer than the
    // default 5 s, so a machine slowed by other work does not decide the outcome.
    tenant(
        dir.path(),
        "acme",
        &artifact("genesys-om-handover.wasm"),
        secret,
        json!({"max-queue-wait-ms": 60_000}),
    );
    sim.add_integration("acme-deployment", "", secret);
    let base = serve_dir(dir.path(), &sim, |_| {}).await;
    let (s, v) = call("GET", &format!("{base}/api/acme/version"), Value::Null).await;
    assert_eq!(s, 200, "{v}");

    // Every user starts at the same moment, then sends its messages one after another,
    // then its agent's webhook arrives.
    let at_once = Arc::new(tokio::sync::Barrier::new(USERS));
    let users: Vec<_> = (0..USERS)
        .map(|i| {
            let (base, at_once, sim) = (base.clone(), at_once.clone(), sim.clone());
            tokio::spawn(async move {
                let user = format!("b{i}");
                let mut refused = Vec::new();
                let mut check = |what: String, (s, v): (u16, Value)| {
                    if s != 200 {
                        refused.push(format!("{what}: {s} {v}"));
                    }
                };
                at_once.wait().await;
                let start = json!({"user": {"user_id": user, "session_id": format!("{user}-s")}});
                check(
                    format!("{user} start"),
                    call("POST", &format!("{base}/api/acme/start"), start).await,
                );
                for k in 0..MESSAGES {
                    let said = json!({"user_id": user, "text": format!("{user} says {k}")});
                    check(
                        format!("{user} message {k}"),
                        call("POST", &format!("{base}/api/acme/message"), said).await,
                    );
                }
                if let Some(conv) = sim.conversation_of(&user) {
                    let w = sim
                        .webhook(&conv.id, AgentSends::Text(format!("to {user}")))
                        .unwrap();
                    let url = format!("{base}/handover/genesysCloudOM/acme");
                    let (s, b) = request("POST", &url, &w.headers, &w.body).await.unwrap();
                    let v = serde_json::from_slice(&b).unwrap_or(Value::Null);
                    check(format!("{user} webhook"), (s, v));
                }
                refused
            })
        })
        .collect();
    let mut refused = Vec::new();
    for u in users {
        refused.extend(u.await.unwrap());
    }
    assert!(
        refused.is_empty(),
        "{} calls not answered 200, e.g. {:?}",
        refused.len(),
        &refused[..refused.len().min(5)]
    );

    for i in 0..USERS {
        let user = format!("b{i}");
        let prefix = format!("{user} says ");
        let texts: Vec<String> = sim
            .texts_of(&user)
            .into_iter()
            .filter(|t| t.starts_with(&prefix))
            .collect();
        let sent: Vec<String> = (0..MESSAGES).map(|k| format!("{prefix}{k}")).collect();
        assert_eq!(
            texts, sent,
            "{user}'s messages at Genesys, once each, in order"
        );
    }
    let m = metrics(&base).await;
    assert!(
        sample(&m, "handover_calls_queued_total{tenant=\"acme\"}") > 0,
        "the burst went past max-concurrent-calls and waited in the queue"
    );
    for reason in ["queue-full", "queue-wait"] {
        let series =
            format!("handover_calls_refused_busy_total{{tenant=\"acme\",reason=\"{reason}\"}}");
        assert_eq!(sample(&m, &series), 0, "{series}");
    }
    assert_eq!(sample(&m, "handover_calls_waiting{tenant=\"acme\"}"), 0);
}

/// A `start` of `tenant` (on the misbehaving component its call never returns by itself),
/// over a connection of its own: (status, lower-case head).
fn start(base: &str, tenant: &str, user: &str) -> tokio::task::JoinHandle<(u16, String)> {
    let addr = host_of(base);
    let body = json!({"user": {"user_id": user, "session_id": "s"}}).to_string();
    let bytes = format!(
        "POST /api/{tenant}/start HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    tokio::spawn(async move {
        let (s, head, _) = raw(&addr, bytes.as_bytes()).await;
        (s, head)
    })
}

/// Of two calls that cannot both run, the first answered is a 503 + `Retry-After`
/// while the other still runs.
async fn one_refused_while_the_other_runs(pair: [tokio::task::JoinHandle<(u16, String)>; 2]) {
    let mut pair = Vec::from(pair);
    wait_until("a call to be answered", Duration::from_secs(30), || {
        let answered = pair.iter().any(|t| t.is_finished());
        async move { answered }
    })
    .await;
    let i = pair.iter().position(|t| t.is_finished()).unwrap();
    let (s, head) = pair.remove(i).await.unwrap();
    assert_eq!(s, 503, "{head}");
    assert!(head.contains("retry-after: 1"), "{head}");
    assert!(!pair[0].is_finished(), "the other call still runs");
}

fn refused_series(tenant: &str, reason: &str) -> String {
    format!("handover_calls_refused_busy_total{{tenant=\"{tenant}\",reason=\"{reason}\"}}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_a_full_queue_a_call_is_refused_at_once_and_a_queued_one_when_its_wait_runs_out() {
    let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await.unwrap();
    let dir = TempDir::with_prefix("bursts-full").unwrap();
    let misbehave = artifact("misbehave.wasm");
    // One call at a time and one place in the queue; `full`'s queued call may wait a
    // minute, `impatient`'s 300 ms.
    for (name, wait) in [("full", 60_000), ("impatient", 300)] {
        let extra = json!({"max-concurrent-calls": 1, "max-queued-calls": 1,
                           "max-queue-wait-ms": wait});
        tenant(dir.path(), name, &misbehave, "s", extra);
    }
    let base = serve_dir(dir.path(), &sim, |o| {
        o.limits.hook_timeout = Duration::from_secs(5)
    })
    .await;
    for name in ["full", "impatient"] {
        let (s, v) = call("GET", &format!("{base}/api/{name}/version"), Value::Null).await;
        assert_eq!(s, 200, "{v}");
    }

    // One call runs (and runs until its deadline), one waits: the queue is full.
    let running = [start(&base, "full", "a"), start(&base, "full", "b")];
    wait_until(
        "one call of `full` to wait in its queue",
        Duration::from_secs(30),
        || async {
            sample(
                &metrics(&base).await,
                "handover_calls_waiting{tenant=\"full\"}",
            ) == 1
        },
    )
    .await;
    let (s, head) = start(&base, "full", "c").await.unwrap();
    assert_eq!(s, 503, "{head}");
    assert!(head.contains("retry-after: 1"), "{head}");
    assert!(
        running.iter().all(|t| !t.is_finished()),
        "refused while the running and the queued call are still in flight: it did not wait"
    );
    let m = metrics(&base).await;
    assert_eq!(sample(&m, &refused_series("full", "queue-full")), 1);
    assert_eq!(sample(&m, &refused_series("full", "queue-wait")), 0);

    // `impatient`: of two calls, one runs and the other is refused once its wait ran out.
    let pair = [
        start(&base, "impatient", "a"),
        start(&base, "impatient", "b"),
    ];
    one_refused_while_the_other_runs(pair).await;
    let m = metrics(&base).await;
    assert_eq!(sample(&m, &refused_series("impatient", "queue-wait")), 1);
    assert_eq!(sample(&m, &refused_series("impatient", "queue-full")), 0);
    assert_eq!(
        sample(&m, "handover_calls_waiting{tenant=\"impatient\"}"),
        0
    );
}

/// A replica whose instance pool holds four calls (`--max-instances 4`) under a burst of
/// two tenants, each within its own `max-concurrent-calls`: the calls past the pool wait
/// for an instance instead of failing to instantiate; every one is answered, each user's
/// messages reach Genesys once and in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_past_the_replica_s_instances_waits_for_them_none_refused() {
    const PER_TENANT: usize = 30;
    let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await.unwrap();
    let dir = TempDir::with_prefix("bursts-instances").unwrap();
    let wasm = artifact("genesys-om-handover.wasm");
    let tenants = ["acme", "beta"];
    for name in tenants {
        tenant(
            dir.path(),
            name,
            &wasm,
            "s",
            json!({"max-queue-wait-ms": 60_000}),
        );
        sim.add_integration(&format!("{name}-deployment"), "", "s");
    }
    let base = serve_dir(dir.path(), &sim, |o| o.max_instances = 4).await;
    for name in tenants {
        let (s, v) = call("GET", &format!("{base}/api/{name}/version"), Value::Null).await;
        assert_eq!(s, 200, "{v}");
    }
    let at_once = Arc::new(tokio::sync::Barrier::new(2 * PER_TENANT));
    let users: Vec<_> = (0..2 * PER_TENANT)
        .map(|i| {
            let (base, at_once) = (base.clone(), at_once.clone());
            let name = tenants[i % 2];
            tokio::spawn(async move {
                let user = format!("{name}-u{i}");
                at_once.wait().await;
                let mut answers = Vec::new();
                let start = json!({"user": {"user_id": user, "session_id": format!("{user}-s")}});
                answers.push(call("POST", &format!("{base}/api/{name}/start"), start).await);
                for k in 0..3 {
                    let said = json!({"user_id": user, "text": format!("{user} says {k}")});
                    answers.push(call("POST", &format!("{base}/api/{name}/message"), said).await);
                }
                (user, answers)
            })
        })
        .collect();
    for u in users {
        let (user, answers) = u.await.unwrap();
        for (s, v) in answers {
            assert_eq!(s, 200, "{user}: {v}");
        }
        let prefix = format!("{user} says ");
        let texts: Vec<String> = sim
            .texts_of(&user)
            .into_iter()
            .filter(|t| t.starts_with(&prefix))
            .collect();
        let sent: Vec<String> = (0..3).map(|k| format!("{prefix}{k}")).collect();
        assert_eq!(
            texts, sent,
            "{user}'s messages at Genesys, once each, in order"
        );
    }
    let m = metrics(&base).await;
    for name in tenants {
        assert_eq!(sample(&m, &refused_series(name, "instances")), 0);
        let traps = format!("handover_hook_traps_total{{tenant=\"{name}\",hook=\"start\"}}");
        assert_eq!(sample(&m, &traps), 0, "{m}");
    }
}

/// With every instance of the replica in use (one, held by a call that runs to its
/// deadline), a call of another tenant waits its `max-queue-wait-ms` and is refused 503 +
/// `Retry-After`, counted as `reason="instances"`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_finding_every_instance_in_use_past_its_wait_is_refused() {
    let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await.unwrap();
    let dir = TempDir::with_prefix("bursts-no-instance").unwrap();
    let misbehave = artifact("misbehave.wasm");
    for name in ["first", "second"] {
        tenant(
            dir.path(),
            name,
            &misbehave,
            "s",
            json!({"max-queue-wait-ms": 300}),
        );
    }
    let base = serve_dir(dir.path(), &sim, |o| {
        o.max_instances = 1;
        o.limits.hook_timeout = Duration::from_secs(5);
    })
    .await;
    for name in ["first", "second"] {
        let (s, v) = call("GET", &format!("{base}/api/{name}/version"), Value::Null).await;
        assert_eq!(s, 200, "{v}");
    }
    let pair = [start(&base, "first", "a"), start(&base, "second", "b")];
    one_refused_while_the_other_runs(pair).await;
    let m = metrics(&base).await;
    let refused: u64 = ["first", "second"]
        .iter()
        .map(|t| sample(&m, &refused_series(t, "instances")))
        .sum();
    assert_eq!(refused, 1, "{m}");
}
