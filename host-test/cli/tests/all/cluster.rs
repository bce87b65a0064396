//! Three `serve` replicas over a private three-master Redis Cluster (`--kv redis+cluster://`)
//! under the load of `load.rs` (random routing, every agent webhook posted twice at once,
//! retries under `Idempotency-Key`, only 503 + `Retry-After` as a 5xx); then the same with
//! one replica per master and the master of the tenant's slot killed mid-run, with and
//! without `wait_replicas=1`. What was lost or repeated is counted; `docs/redis-cluster.md`
//! says what is promised, and these tests hold it to that.

use crate::load::{run, Disrupt};
use handover_testkit::RedisCluster;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_over_a_cluster_lose_and_repeat_nothing() {
    let cluster = RedisCluster::for_test(3, 0, Duration::from_millis(1000));
    let counted = run(&cluster.spec(), 3, Disrupt::Nothing).await;
    assert!(counted.nothing(), "{counted:?}");
}

/// With `WAIT 1` after every write, a master killed mid-run loses nothing acknowledged:
/// the run goes on (503s during the failover, sent again) and both sides see every
/// message once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_master_killed_mid_run_with_wait_loses_and_repeats_nothing() {
    let cluster = RedisCluster::for_test(3, 1, Duration::from_millis(1000));
    let kv = format!("{}?wait_replicas=1&wait_timeout_ms=500", cluster.spec());
    let disrupt = Disrupt::KillMaster(Arc::new(Mutex::new(cluster)));
    let counted = run(&kv, 3, disrupt).await;
    assert!(counted.nothing(), "{counted:?}");
}

/// Without `WAIT`, the run goes on after the failover too; what the promoted replica had
/// not received is lost (with a replica in sync on loopback, the window is well under a
/// millisecond: counted here, and at most a few messages).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_master_killed_mid_run_without_wait_goes_on() {
    let cluster = RedisCluster::for_test(3, 1, Duration::from_millis(1000));
    let kv = cluster.spec();
    let counted = run(&kv, 3, Disrupt::KillMaster(Arc::new(Mutex::new(cluster)))).await;
    assert_eq!(counted.out_of_order, 0, "{counted:?}");
    assert!(
        counted.user_lost + counted.agent_lost <= 3,
        "more lost than a failover's moment: {counted:?}"
    );
}
