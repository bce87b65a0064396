//! The concurrency contract of `wit/handover.wit`, shown with real threads on one shared
//! store and one fake Genesys, as replicas sharing a store would run (the store yields the
//! thread around every operation, so the calls interleave finely), and webhook deduplication.

use super::*;
use std::collections::HashMap;
use std::sync::Barrier;

fn fakes() -> Fakes {
    Fakes {
        kv: MemKv::with_jitter(),
        ..Fakes::working()
    }
}

/// The texts Genesys accepted from `user_id` after the transcript, in order.
fn texts_after_transcript(f: &Fakes, user_id: &str) -> Vec<String> {
    f.genesys
        .accepted()
        .into_iter()
        .filter(|m| m.kind == "message" && m.user_id == user_id)
        .skip(1)
        .filter_map(|m| m.text)
        .collect()
}

/// Every message id Genesys accepted, with how often.
fn message_id_counts(f: &Fakes) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for m in f.genesys.accepted() {
        if let Some(id) = m.message_id.filter(|_| m.kind == "message") {
            *counts.entry(id).or_default() += 1;
        }
    }
    counts
}

fn flush_until_delivered(f: &Fakes, user_id: &str) {
    for _ in 0..10 {
        if flush(&f.env(), user_id).unwrap().warnings.is_empty() {
            return;
        }
    }
    panic!("the outbox of {user_id} never emptied");
}

fn concurrent_messages(f: &Fakes, n: usize) -> Vec<Result<Outcome, Error>> {
    let barrier = Barrier::new(n);
    std::thread::scope(|s| {
        let calls: Vec<_> = (0..n)
            .map(|i| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    user_message(&f.env(), "u1", &UserEvent::Text(format!("m{i}")), None)
                })
            })
            .collect();
        calls.into_iter().map(|c| c.join().unwrap()).collect()
    })
}

fn assert_each_once(f: &Fakes, n: usize) {
    let mut texts = texts_after_transcript(f, "u1");
    texts.sort();
    let mut want: Vec<String> = (0..n).map(|i| format!("m{i}")).collect();
    want.sort();
    assert_eq!(texts, want);
    assert!(message_id_counts(f).values().all(|&c| c == 1));
}

#[test]
fn twenty_concurrent_messages_reach_genesys_exactly_once() {
    let f = fakes();
    start(&f.env(), &user(), &[], &HandoverSettings::default()).unwrap();
    for r in concurrent_messages(&f, 20) {
        assert_eq!(r.unwrap().warnings, Vec::<Warning>::new());
    }
    assert_each_once(&f, 20);
}

#[test]
fn twenty_concurrent_messages_under_faults_reach_genesys_exactly_once() {
    for seed in 1..=5 {
        let f = fakes();
        start(&f.env(), &user(), &[], &HandoverSettings::default()).unwrap();
        f.genesys.set_faults(40, seed, true);
        for r in concurrent_messages(&f, 20) {
            let o = r.unwrap();
            assert!(o.warnings.iter().all(|w| *w == Warning::DeliveryPending));
        }
        f.genesys.clear_faults();
        flush_until_delivered(&f, "u1");
        assert_each_once(&f, 20);
    }
}

#[test]
fn sixteen_copies_of_a_webhook_act_once() {
    let f = fakes();
    start(&f.env(), &user(), &[], &HandoverSettings::default()).unwrap();
    for round in 0..10 {
        let w = fixtures::text_webhook("u1", &format!("{round:032x}"), "hello");
        let barrier = Barrier::new(16);
        let outcomes: Vec<Outcome> = std::thread::scope(|s| {
            let calls: Vec<_> = (0..16)
                .map(|_| {
                    let (w, barrier, f) = (&w, &barrier, &f);
                    s.spawn(move || {
                        barrier.wait();
                        agent_message(&f.env(), w).unwrap()
                    })
                })
                .collect();
            calls.into_iter().map(|c| c.join().unwrap()).collect()
        });
        let first: Vec<&Outcome> = outcomes.iter().filter(|o| o.warnings.is_empty()).collect();
        assert_eq!(first.len(), 1, "round {round}: one first copy");
        let duplicates = outcomes
            .iter()
            .filter(|o| o.warnings == vec![Warning::Duplicate])
            .count();
        assert_eq!(duplicates, 15, "round {round}");
        // Every copy carries the same actions under one key: the host delivers them once.
        assert!(outcomes.iter().all(|o| o.actions == first[0].actions
            && o.delivery_key == first[0].delivery_key
            && o.delivery_key.is_some()));
    }
}

#[test]
fn concurrent_starts_open_one_conversation() {
    let f = fakes();
    let users = 30;
    for (i, threads) in (0..users).map(|i| (i, if i % 3 == 0 { 8 } else { 2 })) {
        let profile = fixtures::user(&format!("user-{i}"));
        let barrier = Barrier::new(threads);
        let statuses: Vec<Vec<Action>> = std::thread::scope(|s| {
            let calls: Vec<_> = (0..threads)
                .map(|_| {
                    let (profile, barrier, f) = (&profile, &barrier, &f);
                    s.spawn(move || {
                        barrier.wait();
                        let node = HandoverSettings::default();
                        start(&f.env(), profile, &fixtures::transcript(), &node)
                            .unwrap()
                            .actions
                    })
                })
                .collect();
            calls.into_iter().map(|c| c.join().unwrap()).collect()
        });
        let queued = vec![Action::Status(HandoverStatus::Queued)];
        let busy = vec![Action::Status(HandoverStatus::AlreadyInProgress)];
        assert_eq!(statuses.iter().filter(|a| **a == queued).count(), 1);
        assert_eq!(statuses.iter().filter(|a| **a == busy).count(), threads - 1);
    }
    assert_eq!(f.genesys.conversations_opened(), users as u64);
}

#[test]
fn sequential_messages_arrive_in_order_despite_faults() {
    for seed in [7, 8, 9] {
        let f = fakes();
        start(&f.env(), &user(), &[], &HandoverSettings::default()).unwrap();
        f.genesys.set_faults(75, seed, true);
        let mut pending = 0;
        for i in 0..40 {
            let o =
                user_message(&f.env(), "u1", &UserEvent::Text(format!("m{i:02}")), None).unwrap();
            pending += o.warnings.len();
        }
        f.genesys.clear_faults();
        flush_until_delivered(&f, "u1");
        let want: Vec<String> = (0..40).map(|i| format!("m{i:02}")).collect();
        assert_eq!(texts_after_transcript(&f, "u1"), want, "seed {seed}");
        assert!(message_id_counts(&f).values().all(|&c| c == 1));
        assert!(
            pending > 0,
            "seed {seed}: the faults never left anything pending"
        );
    }
}

#[test]
fn messages_flushes_and_webhooks_at_once_then_one_end_cleans_everything() {
    let f = fakes();
    start(&f.env(), &user(), &[], &fixtures::node_settings()).unwrap();
    f.genesys.set_faults(25, 3, true);
    std::thread::scope(|s| {
        for i in 0..8 {
            let f = &f;
            s.spawn(move || {
                let env = f.env();
                user_message(&env, "u1", &UserEvent::Text(format!("m{i}")), None).unwrap();
                flush(&env, "u1").unwrap();
                let w = fixtures::text_webhook("u1", &format!("w{}", i % 3), "hi");
                agent_message(&env, &w).unwrap();
            });
        }
    });
    f.genesys.clear_faults();
    flush_until_delivered(&f, "u1");
    assert_each_once(&f, 8);
    let ended: Vec<Outcome> = std::thread::scope(|s| {
        let calls: Vec<_> = (0..4)
            .map(|_| s.spawn(|| end(&f.env(), &EndSignal::UserLeft("u1".into())).unwrap()))
            .collect();
        calls.into_iter().map(|c| c.join().unwrap()).collect()
    });
    let ended_status = Action::Status(HandoverStatus::Ended(EndReason::UserLeft));
    assert_eq!(
        ended
            .iter()
            .filter(|o| o.actions == vec![ended_status.clone()])
            .count(),
        1
    );
    super::lifecycle::assert_only_tenant_caches(&f.kv);
}

#[test]
fn webhook_ids_that_cannot_be_remembered_are_handled_without_dedupe() {
    let f = Fakes::working();
    super::lifecycle::start_u1(&f);
    agent_joins(&f.env(), "u1");
    for id in ["x".repeat(201), "a\u{7}b".to_string()] {
        let w = fixtures::text_webhook("u1", &id, "hello");
        for _ in 0..2 {
            let o = agent_message(&f.env(), &w).unwrap();
            assert_eq!(o.actions.len(), 1);
        }
    }
    let w = fixtures::text_webhook("u1", &"y".repeat(200), "hello");
    let first = agent_message(&f.env(), &w).unwrap();
    assert_eq!(first.actions.len(), 1, "{:?}", first.actions);
    assert!(first.warnings.is_empty());
    let again = agent_message(&f.env(), &w).unwrap();
    assert_eq!(again.warnings, vec![Warning::Duplicate]);
    assert_eq!(again.actions, first.actions, "a copy repeats the actions");
    assert_eq!(again.delivery_key, first.delivery_key);
}

#[test]
fn a_webhook_seen_by_an_earlier_handover_is_new_to_the_next() {
    let f = Fakes::working();
    let w = fixtures::text_webhook("u1", "same-id", "hello");
    // Each handover's first agent message also announces its agent.
    super::lifecycle::start_u1(&f);
    assert_eq!(agent_message(&f.env(), &w).unwrap().actions.len(), 2);
    end(&f.env(), &EndSignal::UserLeft("u1".into())).unwrap();
    super::lifecycle::start_u1(&f);
    assert_eq!(agent_message(&f.env(), &w).unwrap().actions.len(), 2);
}
