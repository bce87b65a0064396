//! The sweeper's inactivity round as `serve` runs it, across three replicas over one Redis:
//! an idle handover gets one warning, then ends once, and leaves nothing in the store.

use crate::load::post_any;
use crate::replicas::{
    send, serve_args, tenants_dir_with, Replica, Sent, CLIENT_ID, CLIENT_SECRET, DEPLOYMENT, SECRET,
};
use genesys_om_handover::testing::fixtures::Rng;
use genesys_om_host::bindings::types::{Action, EndReason, HandoverStatus};
use genesys_om_host::Store;
use genesys_sim::Simulator;
use handover_testkit::{RedisServer, TempDir};
use serde_json::json;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// `serve`'s sweeper runs the inactivity round: three replicas over one Redis, a 1 s sweep,
/// a handover whose node sets a 6 s timeout (the tenant's stays 1800 s) and a tenant that
/// warns 4 s before. The handover left idle gets exactly one `inactivity-warning`, then
/// exactly one `ended(inactivity)`, on the bot side; Genesys sees its conversation closed
/// once; nothing of the handover is left in Redis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_warn_of_inactivity_once_then_end_the_idle_handover_once() {
    const TIMEOUT_SECS: u32 = 6;
    const LEAD_SECS: u32 = 4;
    let redis = RedisServer::for_test();
    let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await.unwrap();
    sim.add_integration(DEPLOYMENT, "", SECRET);
    let dir = TempDir::with_prefix("inactivity").unwrap();
    tenants_dir_with(
        dir.path(),
        &[("inactivity-warning-secs", &LEAD_SECS.to_string())],
    );
    let args = serve_args(&redis.url(), &sim.base_url(), 1);
    let replicas: Vec<Replica> = (0..3).map(|_| Replica::spawn(dir.path(), &args)).collect();
    let bases: Vec<String> = replicas.iter().map(Replica::base).collect();
    let rng = Mutex::new(Rng::new(0x5eed_1d1e));

    let start = json!({"user": {"user_id": "idle-user", "session_id": "idle-session"},
                       "transcript": [{"speaker": "user", "text": "help"}],
                       "settings": {"inactivity_timeout_secs": TIMEOUT_SECS}});
    // Before the request: the handover's idle time starts after this.
    let started = Instant::now();
    let (status, v) = post_any(&bases, &rng, "/api/acme/start", &start)
        .await
        .expect("start answered");
    assert_eq!(status, 200, "{v}");
    let answered = started.elapsed();
    let conv = sim
        .conversation_of("idle-user")
        .expect("one conversation")
        .id;

    // The bot side: long-poll any replica until the handover ended (or the deadline).
    let is_end = |a: &Action| matches!(a, Action::Status(HandoverStatus::Ended(_)));
    let mut got: Vec<(Action, Duration)> = Vec::new();
    let deadline = started + Duration::from_secs(60);
    let mut poll = crate::support::Poll::new("acme", "idle-session");
    while !got.iter().any(|(a, _)| is_end(a)) {
        assert!(Instant::now() < deadline, "no end within 60 s: {got:?}");
        let i = rng.lock().unwrap().below(bases.len() as u64) as usize;
        let url = format!("{}{}", bases[i], poll.next(500));
        if let Sent::Answered(200, v) = send("GET", &url, b"").await {
            for a in poll.took(&v) {
                let a: Action = serde_json::from_value(a).expect("an action");
                got.push((a, started.elapsed()));
            }
        }
    }
    // Later rounds add nothing: every replica's long-poll stays empty for a few sweeps.
    for base in &bases {
        let url = format!("{base}{}", poll.next(2500));
        match send("GET", &url, b"").await {
            Sent::Answered(200, v) => assert_eq!(
                poll.took(&v),
                Vec::<serde_json::Value>::new(),
                "after the end"
            ),
            _ => panic!("{base} did not answer the long-poll"),
        }
    }

    let warnings: Vec<(u32, Duration)> = got
        .iter()
        .filter_map(|(a, at)| match a {
            Action::InactivityWarning(secs) => Some((*secs, *at)),
            _ => None,
        })
        .collect();
    let ends: Vec<&(Action, Duration)> = got.iter().filter(|(a, _)| is_end(a)).collect();
    assert_eq!(warnings.len(), 1, "one warning: {got:?}");
    assert_eq!(ends.len(), 1, "one end: {got:?}");
    let ((secs, warned_at), (end, ended_at)) = (warnings[0], ends[0]);
    assert_eq!(
        *end,
        Action::Status(HandoverStatus::Ended(EndReason::Inactivity))
    );
    assert!((1..=LEAD_SECS).contains(&secs), "seconds left: {secs}");
    assert!(warned_at < *ended_at, "the warning first: {got:?}");
    assert!(
        *ended_at >= Duration::from_secs(TIMEOUT_SECS.into()),
        "the node's timeout, not earlier: {got:?}"
    );
    println!(
        "inactivity over 3 replicas: after start's answer, warned ({secs} s left) at {:.1} s, ended at {:.1} s",
        (warned_at - answered).as_secs_f64(),
        (*ended_at - answered).as_secs_f64()
    );

    // Genesys: the conversation closed once (the end closes it before it answers).
    let closes: Vec<(String, String)> = sim.state.lock().unwrap().disconnects.clone();
    assert_eq!(closes.len(), 1, "{closes:?}");
    assert_eq!(closes[0].0, conv);

    // Redis: only the tenant's caches are left (the warning's claim went with the rest).
    let kv = Store::open_redis(&redis.url()).await.unwrap();
    let keys = genesys_om_host::keyvalue::component_keys(&kv, "acme")
        .await
        .unwrap();
    let left: Vec<&String> = keys
        .iter()
        .filter(|k| {
            let k = k.strip_prefix("genesys-om/").unwrap_or(k);
            !(k == "token" || k.starts_with("integration/"))
        })
        .collect();
    assert!(left.is_empty(), "keys of the ended handover: {left:?}");
    drop(replicas);
}
