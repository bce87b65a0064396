//! A master of a private Redis Cluster (one replica each) killed under writes: what the
//! store acknowledged and the promoted replica lacks, with and without `WAIT`, with the
//! replica in sync and with it cut off (stopped, its link closed) before the kill. The figures in
//! `docs/redis-cluster.md` come from here.

use super::super::{Store, StoreError};
use super::cluster_tests::cluster;
use handover_testkit::RedisCluster;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const WRITERS: usize = 6;

/// What a run saw: writes acknowledged, and of those, writes the cluster lost; writes to
/// the killed master acknowledged from the replica's stop to the kill.
#[derive(Debug)]
struct Run {
    acked: usize,
    lost: usize,
    acked_while_lagging: usize,
    acked_after_the_cut: usize,
}

/// Waits until `cond` holds, failing after 30 s with `what`.
async fn until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Sends `signal` to `pid` with kill(1).
fn signal(pid: u32, signal: &str) {
    let ok = std::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

/// Writers set fresh keys (`c/tenant<w>/b/<n>`), retrying what is Unavailable; the master
/// of tenant 0 is killed with SIGKILL (with `lag`, after its replica was stopped and its
/// link cut while writes went on), its replica takes over; every acknowledged key is then read back.
async fn run(wait: bool, lag: bool) -> Run {
    let mut c = cluster(1);
    let spec = match wait {
        true => format!("{}?wait_replicas=1&wait_timeout_ms=200", c.spec()),
        false => c.spec(),
    };
    let store = Store::open(&spec).await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let counts: Arc<Vec<AtomicUsize>> =
        Arc::new((0..WRITERS).map(|_| AtomicUsize::new(0)).collect());
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (store, stop, counts) = (store.clone(), stop.clone(), counts.clone());
            tokio::spawn(async move {
                let mut acked = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    let key = format!("c/tenant{w}/b/{}", acked.len());
                    match store.set(&key, b"v").await {
                        Ok(()) => {
                            acked.push(key);
                            counts[w].fetch_add(1, Ordering::SeqCst);
                        }
                        Err(StoreError::Unavailable(_)) => {
                            tokio::time::sleep(Duration::from_millis(10)).await
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
                acked
            })
        })
        .collect();
    let total = || {
        counts
            .iter()
            .map(|n| n.load(Ordering::SeqCst))
            .sum::<usize>()
    };
    until("traffic", || counts[0].load(Ordering::SeqCst) > 200).await;
    let victim = c
        .masters()
        .unwrap()
        .into_iter()
        .find(|m| {
            c.cli(*m, &["EXISTS", "gom:k:{tenant0}c/tenant0/b/0"])
                .unwrap()
                .trim()
                == "1"
        })
        .expect("a master holds tenant0");
    // The writers whose tenant lives on that master.
    let on_victim: Vec<usize> = (0..WRITERS)
        .filter(|w| {
            let key = format!("gom:k:{{tenant{w}}}c/tenant{w}/b/0");
            c.cli(victim, &["EXISTS", &key]).unwrap().trim() == "1"
        })
        .collect();
    let victims = || {
        on_victim
            .iter()
            .map(|w| counts[*w].load(Ordering::SeqCst))
            .sum::<usize>()
    };
    let replica = c.replica_of(victim).unwrap();
    let replica_pid = c.pid(replica).unwrap();
    let (mut acked_while_lagging, mut acked_after_the_cut) = (0, 0);
    if lag {
        // The replica stops, and its link is cut (on loopback, whatever the master wrote to
        // the link would still arrive): the master goes on alone, as over a slow or broken
        // network.
        let stopped = victims();
        signal(replica_pid, "-STOP");
        c.cli(victim, &["CLIENT", "KILL", "TYPE", "replica"])
            .unwrap();
        let (before, cut) = (total(), victims());
        until("writes during the lag", || total() > before + 300).await;
        if !wait {
            until("writes to that master after the cut", || {
                victims() > cut + 50
            })
            .await;
        }
        c.kill(victim).unwrap();
        acked_while_lagging = victims() - stopped;
        acked_after_the_cut = victims() - cut;
        signal(replica_pid, "-CONT");
    } else {
        c.kill(victim).unwrap();
    }
    c.wait_promoted(replica, RedisCluster::SETTLE_TIMEOUT)
        .unwrap();
    if wait {
        // The new master has no replica until the old node is back: WAIT 1 cannot be met.
        c.restart(victim).unwrap();
        c.wait_settled(RedisCluster::SETTLE_TIMEOUT).unwrap();
    }
    // The run goes on: tenant 0's shard takes writes again.
    let mark = counts[0].load(Ordering::SeqCst) + 100;
    until("writes after the failover", || {
        counts[0].load(Ordering::SeqCst) > mark
    })
    .await;
    stop.store(true, Ordering::SeqCst);
    let mut acked = Vec::new();
    for w in writers {
        acked.extend(w.await.unwrap());
    }
    let mut lost = 0;
    for key in &acked {
        if store.get(key).await.unwrap().is_none() {
            lost += 1;
        }
    }
    let run = Run {
        acked: acked.len(),
        lost,
        acked_while_lagging,
        acked_after_the_cut,
    };
    eprintln!("failover wait={wait} lag={lag}: {run:?}");
    run
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_wait_a_failover_loses_no_acknowledged_write() {
    let run = run(true, false).await;
    assert_eq!(run.lost, 0, "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_wait_a_lagging_replica_costs_refusals_not_writes() {
    let run = run(true, true).await;
    // WAIT cannot be met once the replica is cut off: nothing to that master is
    // acknowledged after the cut (but one per writer, counted as the cut was made), so
    // nothing acknowledged is missing from the promoted replica.
    assert!(run.acked_after_the_cut <= WRITERS, "{run:?}");
    assert_eq!(run.lost, 0, "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_wait_a_failover_loses_what_the_replica_had_not_received() {
    let run = run(false, true).await;
    // What was acknowledged after the link was cut is gone (but for one per
    // writer, counted as the cut was made); of what came between the stop and the cut,
    // some may have been on the link already.
    assert!(run.acked_after_the_cut > 0, "{run:?}");
    assert!(run.lost + WRITERS >= run.acked_after_the_cut, "{run:?}");
    assert!(run.lost <= run.acked_while_lagging + WRITERS, "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_wait_a_failover_with_the_replica_in_sync_goes_on() {
    let run = run(false, false).await;
    // Asynchronous replication: what was in flight to the replica at the kill may be lost
    // (at most the last moment's writes); on loopback that window is well under 1 ms.
    eprintln!("lost {} of {} acknowledged", run.lost, run.acked);
    assert!(run.lost <= WRITERS, "{run:?}");
}
