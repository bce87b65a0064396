//! Surviving a flaky Genesys: retries, Retry-After, the per-handover outbox, and a chaos run.

use crate::support::*;
use genesys_om_host::bindings::types::{UserEvent, Warning};
use genesys_sim::Faults;
use std::sync::Arc;
use std::time::Instant;

fn fast_retries(c: &mut std::collections::HashMap<String, String>) {
    c.insert("retry-deadline-ms".into(), "3000".into());
    c.insert("max-retry-after-ms".into(), "40".into());
    c.insert("request-timeout-ms".into(), "400".into());
}

fn texts_of(h: &H, user: &str) -> Vec<String> {
    h.sim
        .received("message")
        .iter()
        .filter(|m| m.body["channel"]["from"]["id"] == user)
        .filter_map(|m| m.body["text"].as_str().map(str::to_string))
        .filter(|t| !t.starts_with("Transcript"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured_and_the_message_id_kept() {
    let h = harness_with(fast_retries).await;
    h.start("u1").await;
    // Every request fails once with 429 (rate 1.0 for a single request, then off).
    h.sim.set_faults(
        Faults {
            rate: 1.0,
            weights: [0, 1, 0, 0, 0],
            retry_after_secs: 1,
            slow_ms: 0,
        },
        7,
    );
    let sim = h.sim.clone();
    let off = tokio::spawn(async move {
        while sim.faults_injected() == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        sim.set_faults(Faults::default(), 1);
    });
    let t = Instant::now();
    let o = h
        .user_says("u1", UserEvent::Text("after a 429".into()))
        .await
        .unwrap();
    off.await.unwrap();
    assert!(o.warnings.is_empty(), "{o:?}");
    // Retry-After: 1 s, capped by max-retry-after-ms = 40 ms.
    assert!(t.elapsed().as_millis() >= 40);
    assert_eq!(texts_of(&h, "u1"), vec!["after a 429"]);
    let log = h.sim.state.lock().unwrap().log.clone();
    assert!(log.iter().any(|l| l.contains("429 (fault)")), "{log:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undeliverable_messages_wait_in_the_outbox_and_go_first_in_order() {
    let h = harness_with(|c| {
        fast_retries(c);
        c.insert("retry-deadline-ms".into(), "300".into());
    })
    .await;
    h.start("u1").await;
    h.sim.set_faults(
        Faults {
            rate: 1.0,
            weights: [1, 0, 1, 0, 0],
            retry_after_secs: 0,
            slow_ms: 0,
        },
        3,
    );
    for t in ["one", "two"] {
        let o = h.user_says("u1", UserEvent::Text(t.into())).await.unwrap();
        assert_eq!(o.warnings, vec![Warning::DeliveryPending]);
    }
    assert!(texts_of(&h, "u1").is_empty());
    let o = h.plugin.flush(&h.tenant, "u1").await.unwrap().unwrap();
    assert_eq!(o.warnings, vec![Warning::DeliveryPending]);

    h.sim.set_faults(Faults::default(), 1);
    let o = h
        .user_says("u1", UserEvent::Text("three".into()))
        .await
        .unwrap();
    assert!(o.warnings.is_empty());
    assert_eq!(texts_of(&h, "u1"), vec!["one", "two", "three"]);
    let o = h.plugin.flush(&h.tenant, "u1").await.unwrap().unwrap();
    assert!(o.warnings.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_50_conversations_of_20_messages_at_30_percent_faults() {
    let h = Arc::new(harness_with(fast_retries).await);
    const CONVERSATIONS: usize = 50;
    const MESSAGES: usize = 20;
    let started = Instant::now();
    h.sim.set_faults(
        Faults {
            rate: 0.3,
            weights: [3, 3, 2, 2, 1],
            retry_after_secs: 1,
            slow_ms: 700,
        },
        0x5eed,
    );
    let mut tasks = Vec::new();
    for c in 0..CONVERSATIONS {
        let h = h.clone();
        tasks.push(tokio::spawn(async move {
            let user = format!("chaos-{c}");
            // A start that failed for good is simply tried again, as a host would.
            let mut tries = 0;
            while h
                .start_with(&user_for(&user), &transcript(), &settings())
                .await
                .is_err()
            {
                tries += 1;
                assert!(tries < 10, "start kept failing");
            }
            for i in 0..MESSAGES {
                h.user_says(&user, UserEvent::Text(format!("{user} message {i}")))
                    .await
                    .expect("no message is refused");
            }
            for _ in 0..20 {
                let o = h.plugin.flush(&h.tenant, &user).await.unwrap().unwrap();
                if o.warnings.is_empty() {
                    return;
                }
            }
            panic!("{user}: outbox never drained");
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let faults = h.sim.faults_injected();
    h.sim.set_faults(Faults::default(), 1);
    let requests = h.sim.state.lock().unwrap().log.len();
    for c in 0..CONVERSATIONS {
        let user = format!("chaos-{c}");
        let want: Vec<String> = (0..MESSAGES)
            .map(|i| format!("{user} message {i}"))
            .collect();
        assert_eq!(
            texts_of(&h, &user),
            want,
            "{user}: every message exactly once, in order"
        );
    }
    let (injected, attempts, accepted) = {
        let st = h.sim.state.lock().unwrap();
        (
            st.injected.clone(),
            st.inbound_attempts,
            st.message_ids.len(),
        )
    };
    println!(
        "chaos: {} user messages in {} conversations, all delivered once and in order; {faults} faults injected {injected:?}; \
         {attempts} inbound attempts for {accepted} accepted messages ({} retries); {requests} answered requests; {} ms",
        CONVERSATIONS * MESSAGES,
        CONVERSATIONS,
        attempts - accepted,
        started.elapsed().as_millis()
    );
    assert!(attempts > accepted, "faults forced retries");
    assert!(faults > 200, "the run did inject faults ({faults})");
}

fn user_for(id: &str) -> genesys_om_host::bindings::types::UserProfile {
    user(id)
}

/// Connections that last: 1 000 user messages of one handover reach Genesys over a handful
/// of kept-alive connections, not a handshake each (wasmtime-wasi-http's default sender
/// opened one per request).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_messages_take_a_handful_of_connections() {
    let h = harness().await;
    h.start("u1").await;
    let before = h.sim.state.lock().unwrap().connections;
    for i in 0..1000 {
        h.user_says("u1", UserEvent::Text(format!("m{i}")))
            .await
            .unwrap();
    }
    let opened = h.sim.state.lock().unwrap().connections - before;
    println!("1000 user messages over {opened} connection(s)");
    assert_eq!(texts_of(&h, "u1").len(), 1000);
    assert!(opened <= 4, "{opened} connections for 1000 messages");
}
