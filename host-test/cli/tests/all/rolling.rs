//! A rolling deploy under load: three `serve` replicas over one Redis, each in turn sent
//! `SIGTERM` (it drains and exits 0) and started again while users, agents and the bot
//! side keep going. No acknowledged message is lost or repeated either way, no request is
//! answered with a 5xx other than 503 + `Retry-After`, and every handover still works after.
//! A request can still go unanswered when it connects just as a drained replica closes
//! (the kernel resets what it queued for the closed listener): the bot and Genesys send it
//! again, under its `Idempotency-Key` or its message id, and it counts once. In Kubernetes
//! a `preStop` pause lets the endpoint go before that (see `deploy/kubernetes.yaml`).

use crate::load::{run, Disrupt};
use handover_testkit::RedisServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rolling_restart_of_three_replicas_loses_nothing_and_answers_only_503_while_draining() {
    let redis = RedisServer::for_test();
    let counted = run(&redis.url(), 3, Disrupt::Roll).await;
    assert!(counted.nothing(), "{counted:?}");
}
