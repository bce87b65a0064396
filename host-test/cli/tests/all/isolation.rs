//! Host limits, tenant isolation and secrets: a misbehaving component is stopped while the
//! host keeps serving, tenants cannot see each other, and no secret reaches a log or result.

use crate::support::*;
use genesys_om_host::bindings::types::{EndSignal, Error, SignatureProblem, UserEvent, Webhook};
use genesys_om_host::runtime::Limits;
use genesys_om_host::Store;
use genesys_om_host::{engine, Egress, Plugin, Tenant};
use genesys_sim::AgentSends;
use std::time::{Duration, Instant};

fn misbehave_path() -> std::path::PathBuf {
    artifact("misbehave.wasm")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_looping_or_hoarding_component_is_stopped_and_the_host_keeps_serving() {
    let engine = engine().unwrap();
    let mut bad = Plugin::load(&engine, &misbehave_path(), Egress::Deny, Store::memory()).unwrap();
    bad.limits = Limits {
        hook_timeout: Duration::from_millis(300),
        memory_bytes: 32 << 20,
    };
    let tenant = Tenant::new("t", config());

    let t = Instant::now();
    let looped = bad.start(&tenant, &user("u1"), &[], &settings()).await;
    let trap = looped.expect_err("an endless loop is interrupted");
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "stopped near its deadline, took {:?}",
        t.elapsed()
    );
    assert!(format!("{trap:?}").contains("interrupt"), "{trap:?}");

    let hoard = bad
        .user_message(&tenant, "u1", &UserEvent::Typing, None)
        .await;
    assert!(hoard.is_err(), "unbounded allocation hits the memory cap");

    assert!(
        bad.end(&tenant, &EndSignal::UserLeft("u1".into()))
            .await
            .is_err(),
        "a panic is a trap, not a crash"
    );

    // The same plugin still answers, and so does the real component on the same engine.
    let w = Webhook {
        headers: vec![],
        body: b"{}".to_vec(),
    };
    assert!(bad.agent_message(&tenant, &w).await.unwrap().is_ok());
    let h = harness().await;
    h.start("u1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_cannot_read_each_other_or_borrow_a_secret() {
    let h = harness().await;
    let integration_b = h
        .sim
        .add_integration("TenantB", "", "tenant-b-webhook-secret");
    let mut cfg_b = config();
    cfg_b.insert("deployment-name".into(), "TenantB".into());
    cfg_b.insert("webhook-secret".into(), "tenant-b-webhook-secret".into());
    let tenant_b = Tenant::new("tenant-b", cfg_b);

    let conv_a = h.open("shared-user").await;
    let a_keys = dump(&h.plugin.kv, "tenant-a").await;
    assert!(
        a_keys.keys().any(|k| k.contains("shared-user")),
        "{a_keys:?}"
    );
    assert!(dump(&h.plugin.kv, "tenant-b").await.is_empty());

    // Tenant B does not see A's handover for the same user id...
    let e = h
        .plugin
        .user_message(
            &tenant_b,
            "shared-user",
            &UserEvent::Text("hi".into()),
            None,
        )
        .await
        .unwrap();
    assert!(matches!(e, Err(Error::UnknownConversation(_))), "{e:?}");
    // ...and refuses a webhook signed with A's secret.
    let w = h
        .webhook(&conv_a, AgentSends::Text("for A".into()))
        .unwrap();
    let e = h.plugin.agent_message(&tenant_b, &w).await.unwrap();
    assert_eq!(e, Err(Error::BadSignature(SignatureProblem::Mismatch)));
    // B opens its own handover for the same user id, in its own integration.
    h.plugin
        .start(&tenant_b, &user("shared-user"), &transcript(), &settings())
        .await
        .unwrap()
        .unwrap();
    let b_msgs: Vec<_> = h
        .sim
        .received("message")
        .into_iter()
        .filter(|m| m.integration_id == integration_b)
        .collect();
    assert_eq!(b_msgs.len(), 1);
    assert_eq!(
        dump(&h.plugin.kv, "tenant-a").await,
        a_keys,
        "A's data is untouched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_appears_in_logs_errors_or_results() {
    let mut h = harness_with(|c| {
        c.insert(
            "webhook-secret-previous".into(),
            "previous-webhook-secret-xyz".into(),
        );
    })
    .await;
    let pipe = wasmtime_wasi::p2::pipe::MemoryOutputPipe::new(1 << 20);
    h.plugin.stderr = Some(pipe.clone());
    let mut captured = Vec::new();
    let mut keep = |r: &Result<genesys_om_host::bindings::types::Outcome, Error>| {
        captured.push(serde_json::to_string(r).unwrap())
    };

    let conv = h.open("u1").await;
    keep(&h.user_says("u1", UserEvent::Text("hello".into())).await);
    keep(&h.agent_sends(&conv, AgentSends::Text("hi".into())).await);
    let mut body = h.webhook(&conv, AgentSends::Text("x".into())).unwrap();
    body.body = br#"{"type":"Mystery","channel":{"to":{"id":"u1"}}}"#.to_vec();
    body.headers = vec![(
        "x-hub-signature-256".into(),
        genesys_sim::sign(WEBHOOK_SECRET, &body.body),
    )];
    keep(&h.agent(&body).await);
    keep(
        &h.agent(&Webhook {
            headers: vec![("X-Hub-Signature-256".into(), "sha256=bad".into())],
            body: b"{}".to_vec(),
        })
        .await,
    );
    h.sim.expire_tokens();
    keep(&h.user_says("u1", UserEvent::Typing).await);
    keep(&h.end(EndSignal::UserLeft("u1".into())).await);
    // A tenant with a wrong secret, and one with a bad host.
    let mut wrong = h.tenant.clone();
    wrong
        .config
        .insert("client-secret".into(), "wrong-client-secret-zzz".into());
    keep(
        &h.plugin
            .start(&wrong, &user("u2"), &transcript(), &settings())
            .await
            .unwrap(),
    );
    wrong.config.insert("host".into(), "evil.example".into());
    keep(
        &h.plugin
            .start(&wrong, &user("u2"), &transcript(), &settings())
            .await
            .unwrap(),
    );

    // Diagnostics leave the component as outcome warnings (which the host logs), never
    // on the guest's own stderr.
    assert!(
        pipe.contents().is_empty(),
        "the component wrote to stderr: {}",
        String::from_utf8_lossy(&pipe.contents())
    );
    let haystack = captured.join("\n");
    assert!(
        haystack.contains("UnsupportedIgnored"),
        "the ignored webhook's warning is in its outcome: {haystack}"
    );
    let issued = h.sim.state.lock().unwrap().issued.clone();
    assert!(!issued.is_empty());
    let mut secrets = vec![
        CLIENT_SECRET.to_string(),
        WEBHOOK_SECRET.to_string(),
        "previous-webhook-secret-xyz".to_string(),
        "wrong-client-secret-zzz".to_string(),
    ];
    secrets.extend(issued);
    for s in &secrets {
        assert!(
            !haystack.contains(s.as_str()),
            "secret {s:?} leaked into:\n{haystack}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_webhook_body_is_refused_unread() {
    let h = harness().await;
    let plugin = std::sync::Arc::new(h.plugin.clone());
    let (addr, mut deliveries) = genesys_om_host::webhook::listen(plugin, h.tenant.clone())
        .await
        .unwrap();
    let url = format!("http://{addr}{}", genesys_om_host::webhook::PATH);
    let big = vec![b' '; genesys_om_host::webhook::MAX_BODY + 1];
    let status = genesys_sim::post(&url, &[], &big).await.unwrap();
    assert_eq!(status, 413);
    assert!(deliveries.try_recv().is_err(), "the component never saw it");
    // A normal-sized (unsigned) one still reaches the component and is refused there.
    let status = genesys_sim::post(&url, &[], b"{}").await.unwrap();
    assert_eq!(status, 401);
}
