//! The foundation: the release component under wasmtime against the Genesys simulator.

use crate::support::*;
use genesys_om_host::bindings::types::{Action, Error, HandoverStatus, SignatureProblem, Webhook};
use genesys_sim::AgentSends;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_sends_the_first_message_with_transcript_and_attributes() {
    let h = harness().await;
    let mut s = settings();
    s.custom_attributes = Some(r#"{"customerType":"premium","tags":["urgent","vip"]}"#.into());
    let o = h.start_with(&user("u1"), &transcript(), &s).await.unwrap();
    assert_eq!(o.actions, vec![Action::Status(HandoverStatus::Queued)]);
    assert_eq!(o.session_id.as_deref(), Some("session-of-u1"));

    let msgs = h.sim.received("message");
    assert_eq!(msgs.len(), 1);
    let body = &msgs[0].body;
    assert_eq!(msgs[0].integration_id, h.integration);
    assert_eq!(
        body["text"],
        "Transcript of the conversation with the bot:\nUser: I need help\nBot: Connecting you to an agent"
    );
    assert_eq!(body["channel"]["from"]["id"], "u1");
    assert_eq!(body["channel"]["from"]["idType"], "Opaque");
    let attrs = &body["channel"]["metadata"]["customAttributes"];
    assert_eq!(attrs["queueId"], "queue-1");
    assert_eq!(attrs["myLanguage"], "english");
    assert_eq!(attrs["mySkills"], "escalation");
    assert_eq!(attrs["priority"], "1");
    assert_eq!(attrs["userId"], "u1");
    assert_eq!(attrs["sessionId"], "session-of-u1");
    assert_eq!(attrs["customerType"], "premium");
    assert_eq!(attrs["tags"], "urgent,vip");
    // The simulator turned them into participant data of the conversation.
    let conv = h.sim.conversation_of("u1").unwrap();
    assert_eq!(
        conv.attributes.get("tags").map(String::as_str),
        Some("urgent,vip")
    );
    // OAuth went to the login host, the API to the api host of the configured region.
    let hosts = h.sim.state.lock().unwrap().hosts.clone();
    assert!(
        hosts.iter().any(|x| x.starts_with("login.mypurecloud.de")),
        "{hosts:?}"
    );
    assert!(hosts
        .iter()
        .all(|x| x.starts_with("login.mypurecloud.de") || x.starts_with("api.mypurecloud.de")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_agent_webhook_becomes_a_text_action() {
    let h = harness().await;
    let conv = h.open("u1").await;
    let o = h
        .agent_sends(&conv, AgentSends::Text("Hello, I am Alex".into()))
        .await
        .unwrap();
    assert_eq!(o.session_id.as_deref(), Some("session-of-u1"));
    assert_eq!(o.actions.len(), 1);
    match &o.actions[0] {
        Action::SendText(t) => {
            assert_eq!(t.text, "Hello, I am Alex");
            assert_eq!(t.agent, None);
            assert_eq!(t.message_id.len(), 32);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(o.warnings.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_badly_signed_webhook_is_a_typed_error_without_action() {
    let h = harness().await;
    let conv = h.open("u1").await;
    let good = h.webhook(&conv, AgentSends::Text("hi".into())).unwrap();
    let kv_before = dump(&h.plugin.kv, "tenant-a").await;

    let mut wrong = good.clone();
    wrong
        .headers
        .retain(|(k, _)| !k.eq_ignore_ascii_case("x-hub-signature-256"));
    let sig = genesys_sim::sign("some-other-secret-value", &good.body);
    wrong.headers.push(("X-Hub-Signature-256".into(), sig));
    assert_eq!(
        h.agent(&wrong).await,
        Err(Error::BadSignature(SignatureProblem::Mismatch))
    );

    let unsigned = Webhook {
        headers: vec![],
        body: good.body.clone(),
    };
    assert_eq!(
        h.agent(&unsigned).await,
        Err(Error::BadSignature(SignatureProblem::Missing))
    );

    let mut tampered = good.clone();
    tampered.body = String::from_utf8(good.body.clone())
        .unwrap()
        .replace("\"hi\"", "\"ho\"")
        .into_bytes();
    assert_eq!(
        h.agent(&tampered).await,
        Err(Error::BadSignature(SignatureProblem::Mismatch))
    );
    // Nothing was recorded for the refused webhooks: the good one is still new.
    assert_eq!(dump(&h.plugin.kv, "tenant-a").await, kv_before);
    assert_eq!(h.agent(&good).await.unwrap().actions.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_component_imports_only_standard_wasi() {
    let path = genesys_om_host::runtime::default_wasm_path();
    let engine = genesys_om_host::engine().unwrap();
    let component = wasmtime::component::Component::from_file(&engine, &path).unwrap();
    let ty = component.component_type();
    let mut imports: Vec<String> = Vec::new();
    for (name, item) in ty.imports(&engine) {
        if name == "handover:genesys-om/types@0.1.0" {
            // The contract's own types interface: type definitions only, nothing to call.
            let wasmtime::component::types::ComponentItem::ComponentInstance(inst) = item.ty else {
                panic!("types is not an instance")
            };
            let funcs = inst
                .exports(&engine)
                .filter(|(_, i)| {
                    matches!(
                        i.ty,
                        wasmtime::component::types::ComponentItem::ComponentFunc(_)
                    )
                })
                .count();
            assert_eq!(funcs, 0, "the types interface must not import functions");
            continue;
        }
        imports.push(name.to_string());
    }
    let exports: Vec<String> = ty
        .exports(&engine)
        .map(|(name, _)| name.to_string())
        .collect();
    for required in [
        "wasi:http/outgoing-handler@0.2.12",
        "wasi:keyvalue/store@0.2.0-draft",
        "wasi:config/store@0.2.0-rc.1",
    ] {
        assert!(
            imports.iter().any(|i| i == required),
            "missing {required}: {imports:?}"
        );
    }
    for i in &imports {
        let allowed = [
            "wasi:http/",
            "wasi:keyvalue/",
            "wasi:config/",
            "wasi:cli/",
            "wasi:io/",
            "wasi:clocks/",
            "wasi:random/",
        ];
        assert!(
            allowed.iter().any(|p| i.starts_with(p)),
            "unexpected import {i}"
        );
        assert!(
            !i.starts_with("wasi:filesystem") && !i.starts_with("wasi:sockets"),
            "{i}"
        );
    }
    assert_eq!(exports, vec!["handover:genesys-om/hooks@0.1.0".to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_to_other_hosts_are_refused_by_the_host() {
    // A tenant whose host is not a Genesys region never reaches the network: the component
    // refuses it, and the simulator sees nothing.
    let h = harness_with(|c| {
        c.insert("host".into(), "attacker.example".into());
    })
    .await;
    let e = h
        .start_with(&user("u1"), &transcript(), &settings())
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Config(ref m) if m.contains("'host'")),
        "{e:?}"
    );
    assert!(h.sim.state.lock().unwrap().log.is_empty());
    assert!(!genesys_om_host::egress::is_genesys_host(
        "attacker.example"
    ));
    assert!(!genesys_om_host::egress::is_genesys_host(
        "apps.mypurecloud.de"
    ));
    assert!(genesys_om_host::egress::is_genesys_host(
        "api.mypurecloud.de"
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_a_whole_handover() {
    let lines = host_test::demo::run(&genesys_om_host::runtime::default_wasm_path())
        .await
        .unwrap();
    let text = lines.join("\n");
    assert!(text.contains("queued"), "{text}");
    assert!(text.contains("Alex Agent joined"), "{text}");
    assert!(text.contains("Alex Agent: Hi Jane"), "{text}");
    assert!(text.contains("Options: Send again | Refund"), "{text}");
    assert!(text.contains("ended (agent ended)"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_scenarios_run_without_errors() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        n += 1;
        let sc: host_test::scenario::Scenario =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let get = |k: &str| sc.config.get(k).cloned().unwrap_or_default();
        let sim = genesys_sim::Simulator::start(&get("client-id"), &get("client-secret"))
            .await
            .unwrap();
        let integration = sim.add_integration(&get("deployment-name"), "", &get("webhook-secret"));
        let (engine, _) = (genesys_om_host::engine().unwrap(), ());
        let egress = genesys_om_host::Egress::redirect(&sim.base_url()).unwrap();
        let plugin = genesys_om_host::Plugin::load(
            &engine,
            &genesys_om_host::runtime::default_wasm_path(),
            egress,
            genesys_om_host::Store::memory(),
        )
        .unwrap();
        let lines = host_test::scenario::run(&plugin, &sc).await.unwrap();
        assert_eq!(lines.len(), sc.steps.len());
        for l in &lines {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert!(v.get("ok").is_some(), "{}: {l}", path.display());
        }
        assert!(!sim.received("message").is_empty());
        let _ = integration;
    }
    assert!(n >= 1, "no scenarios in {}", dir.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_demo_runs() {
    let lines = host_test::demo::run_served(&genesys_om_host::runtime::default_wasm_path())
        .await
        .unwrap();
    assert_eq!(
        lines,
        vec![
            "[handover: queued, waiting for an agent]",
            // No `user.start` is forwarded: the agent's first message announces the agent.
            "[handover: an agent joined]",
            "Agent: Hello Jane, Sam here. How can I help?",
            "[handover: ended (agent ended)]"
        ]
    );
}
