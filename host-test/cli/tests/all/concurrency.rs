//! The concurrency contract, through the component: calls for the same handover at the
//! same time, each on its own instance over one shared store, as several replicas would run
//! them. Exactly once each, in order where the caller waited, and nobody refused.

use crate::support::*;
use genesys_om_host::bindings::types::{Action, HandoverStatus, UserEvent, Warning};
use genesys_om_host::Store;
use genesys_sim::AgentSends;
use std::collections::HashMap;
use std::sync::Arc;

/// Every concurrent call answered ok, and each text reached Genesys exactly once.
async fn concurrent_messages(kv: Store, trials: usize, n: usize) {
    for trial in 0..trials {
        let h = Arc::new(harness_on(kv.clone(), |_| {}).await);
        let user = format!("burst-{trial}");
        h.start(&user).await;
        let tasks: Vec<_> = (0..n)
            .map(|i| {
                let (h, user) = (h.clone(), user.clone());
                tokio::spawn(
                    async move { h.user_says(&user, UserEvent::Text(format!("m{i}"))).await },
                )
            })
            .collect();
        for t in tasks {
            let o = t.await.unwrap().expect("no call is refused");
            assert!(!o.warnings.contains(&Warning::DeliveryPending), "{o:?}");
        }
        let mut seen: HashMap<String, usize> = HashMap::new();
        for t in h.sim.texts_of(&user) {
            *seen.entry(t).or_default() += 1;
        }
        for i in 0..n {
            assert_eq!(
                seen.get(&format!("m{i}")),
                Some(&1),
                "trial {trial}: {seen:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_messages_of_one_user_arrive_once_each() {
    concurrent_messages(Store::memory(), 5, 20).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_copies_of_one_webhook_act_once() {
    let h = Arc::new(harness().await);
    let conv = h.open("dup-user").await;
    let mut first_webhook = None;
    for trial in 0..30 {
        let w = h
            .webhook(&conv, AgentSends::Text(format!("copy {trial}")))
            .unwrap();
        first_webhook.get_or_insert_with(|| w.clone());
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let (h, w) = (h.clone(), w.clone());
                tokio::spawn(async move { h.agent(&w).await })
            })
            .collect();
        let mut firsts = 0;
        let mut keys = std::collections::HashSet::new();
        for t in tasks {
            let o = t.await.unwrap().expect("every copy is answered");
            if o.warnings.is_empty() {
                firsts += 1;
            } else {
                assert_eq!(o.warnings, vec![Warning::Duplicate]);
            }
            assert_eq!(o.actions.len(), 1, "every copy carries the action");
            keys.insert(o.delivery_key.expect("a delivery key"));
        }
        assert_eq!(firsts, 1, "trial {trial}: one first copy");
        assert_eq!(keys.len(), 1, "trial {trial}: one delivery key");
    }
    // Apart, long after: the first message is still known.
    let o = h.agent(&first_webhook.unwrap()).await.unwrap();
    assert_eq!(o.warnings, vec![Warning::Duplicate]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_concurrent_starts_open_one_conversation() {
    let h = Arc::new(harness().await);
    for trial in 0..20 {
        let user = format!("twice-{trial}");
        let tasks: Vec<_> = (0..2)
            .map(|_| {
                let (h, user) = (h.clone(), user.clone());
                tokio::spawn(async move {
                    h.start_with(&crate::support::user(&user), &transcript(), &settings())
                        .await
                })
            })
            .collect();
        let mut statuses = Vec::new();
        for t in tasks {
            let o = t.await.unwrap().expect("both answer");
            statuses.extend(o.actions);
        }
        let queued = statuses
            .iter()
            .filter(|a| matches!(a, Action::Status(HandoverStatus::Queued)))
            .count();
        let busy = statuses
            .iter()
            .filter(|a| matches!(a, Action::Status(HandoverStatus::AlreadyInProgress)))
            .count();
        assert_eq!((queued, busy), (1, 1), "trial {trial}: {statuses:?}");
        let opened = h
            .sim
            .state
            .lock()
            .unwrap()
            .conversations
            .values()
            .filter(|c| c.user_id == user)
            .count();
        assert_eq!(opened, 1, "trial {trial}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_messages_over_redis_arrive_once_each() {
    let redis = handover_testkit::RedisServer::for_test();
    let kv = Store::open_redis(&redis.url()).await.unwrap();
    concurrent_messages(kv, 2, 20).await;
}
