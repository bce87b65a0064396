//! `serve` on its default on-disk store, killed with SIGKILL under load and restarted:
//! every handover open before still works, and every acknowledged message arrived once.

use crate::replicas::{
    send, tenants_dir, Replica, Sent, CLIENT_ID, CLIENT_SECRET, DEPLOYMENT, SECRET,
};
use genesys_sim::Simulator;
use handover_testkit::TempDir;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_on_disk_store_survives_kill_9_with_nothing_acknowledged_lost() {
    const USERS: usize = 10;
    let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await.unwrap();
    sim.add_integration(DEPLOYMENT, "", SECRET);
    let dir = TempDir::with_prefix("durability").unwrap();
    tenants_dir(dir.path());
    // No --kv: the default store, a file under the working directory.
    let args: Vec<String> = [
        "--tenants",
        ".",
        "--genesys-base-url",
        &sim.base_url(),
        "--cache",
        "cache",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut replica = Replica::spawn(dir.path(), &args);
    let base = replica.base();
    for u in 0..USERS {
        let start = json!({"user": {"user_id": format!("disk-user-{u}"), "session_id": format!("disk-session-{u}")}});
        let Sent::Answered(200, _) = send(
            "POST",
            &format!("{base}/api/acme/start"),
            start.to_string().as_bytes(),
        )
        .await
        else {
            panic!("start");
        };
    }
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for u in 0..USERS {
        let (base, stop, acked) = (base.clone(), stop.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            let user = format!("disk-user-{u}");
            let mut acknowledged = Vec::new();
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let text = format!("{user} line {i}");
                i += 1;
                let body = json!({"user_id": user, "text": text});
                match send(
                    "POST",
                    &format!("{base}/api/acme/message"),
                    body.to_string().as_bytes(),
                )
                .await
                {
                    Sent::Answered(200, _) => {
                        acknowledged.push(text);
                        acked.fetch_add(1, Ordering::Relaxed);
                    }
                    Sent::Answered(s, v) => panic!("{s} {v}"),
                    _ => break,
                }
            }
            (user, acknowledged)
        }));
    }
    // Killed under load: once ten messages a user were acknowledged, with more under way.
    crate::support::wait_until(
        "the load to have messages acknowledged",
        Duration::from_secs(60),
        || async { acked.load(Ordering::Relaxed) >= 10 * USERS },
    )
    .await;
    replica.kill();
    stop.store(true, Ordering::Relaxed);
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    let total: usize = results.iter().map(|(_, a)| a.len()).sum();
    println!(
        "on-disk store: {total} acknowledged user messages in {:.2} s before kill -9: {:.0} messages/s",
        started.elapsed().as_secs_f64(),
        total as f64 / started.elapsed().as_secs_f64()
    );
    assert!(total > 0);
    let _replica = tokio::task::spawn_blocking(move || {
        replica.start();
        replica
    })
    .await
    .unwrap();
    for (user, acknowledged) in &results {
        let after = format!("{user} after the restart");
        let body = json!({"user_id": user, "text": after});
        match send(
            "POST",
            &format!("{base}/api/acme/message"),
            body.to_string().as_bytes(),
        )
        .await
        {
            Sent::Answered(200, _) => {}
            Sent::Answered(s, v) => panic!("{user}: the handover survives the restart: {s} {v}"),
            _ => panic!("{user}: no answer after the restart"),
        }
        let arrived = sim.texts_of(user);
        for a in acknowledged {
            assert_eq!(
                arrived.iter().filter(|t| *t == a).count(),
                1,
                "{user}: {a} once: {arrived:?}"
            );
        }
        assert_eq!(arrived.last(), Some(&after));
        let mut positions: Vec<usize> = acknowledged
            .iter()
            .map(|a| arrived.iter().position(|t| t == a).unwrap())
            .collect();
        let sorted = {
            let mut p = positions.clone();
            p.sort();
            p
        };
        assert_eq!(positions, sorted, "{user}: in order");
        positions.clear();
    }
}
