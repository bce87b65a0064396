//! `host-test serve`: two tenants over HTTP, one of them swapped from v1 to v2 in the middle
//! of its conversation, with nothing lost or duplicated and the other tenant unaffected.

use crate::support::artifact;
use genesys_om_host::serve;
use genesys_om_host::server::{ServeOptions, Server};
use genesys_om_host::{engine, Egress, Store};
use genesys_sim::{request, AgentSends, Simulator};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

pub const CLIENT_ID: &str = "serve-client";
pub const CLIENT_SECRET: &str = "serve-client-secret";

pub fn tenant_file(dir: &Path, name: &str, deployment: &str, secret: &str) {
    std::fs::copy(
        artifact("genesys-om-handover.wasm"),
        dir.join(format!("{name}.wasm")),
    )
    .unwrap();
    let file = json!({
        "component": format!("{name}.wasm"),
        "events-api-key": format!("{name}-events-key"),
        "config": {
            "host": "mypurecloud.de", "deployment-name": deployment, "webhook-secret": secret,
            "client-id": CLIENT_ID, "client-secret": CLIENT_SECRET, "queue-id": format!("{name}-queue")
        }
    });
    std::fs::write(dir.join(format!("{name}.json")), file.to_string()).unwrap();
}

/// A fresh tenants directory `name` holding `tenants` (name, deployment, webhook secret),
/// each with an integration at `sim`, and a server over it; returns the directory, the
/// server's base URL and the integration ids.
pub async fn serve_tenants(
    name: &str,
    sim: &Simulator,
    tenants: &[(&str, &str, &str)],
    whitelist: &[&str],
) -> (PathBuf, String, Vec<String>) {
    let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut integrations = Vec::new();
    for (tenant, deployment, secret) in tenants {
        tenant_file(&dir, tenant, deployment, secret);
        integrations.push(sim.add_integration(deployment, "", secret));
    }
    let egress = Egress::redirect(&sim.base_url()).unwrap();
    let mut opts = ServeOptions::new(dir.clone(), Store::memory(), egress);
    opts.listen = "127.0.0.1:0".parse().unwrap();
    opts.cache_dir = dir.join("cache");
    opts.flags.whitelist = whitelist.iter().map(|w| w.to_string()).collect();
    let addr = serve::start(Server::new(opts, engine().unwrap()))
        .await
        .unwrap();
    (dir, format!("http://{addr}"), integrations)
}

pub async fn call(method: &str, url: &str, body: Value) -> (u16, Value) {
    let bytes = if body.is_null() {
        Vec::new()
    } else {
        body.to_string().into_bytes()
    };
    let (status, out) = request(
        method,
        url,
        &[("content-type".into(), "application/json".into())],
        &bytes,
    )
    .await
    .unwrap();
    (status, serde_json::from_slice(&out).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tenants_one_swapped_mid_conversation() {
    let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await.unwrap();
    let tenants = [
        ("acme", "AcmeDeployment", "acme-webhook-secret-1"),
        ("globex", "GlobexDeployment", "globex-webhook-secret-1"),
    ];
    let (dir, base, ids) =
        serve_tenants("genesys-om-serve", &sim, &tenants, &["acme", "globex"]).await;
    let (int_a, int_g) = (&ids[0], &ids[1]);
    sim.set_webhook_url(int_a, &format!("{base}/handover/genesysCloudOM/acme"));
    // Globex's webhook carries no tenant in the path: the host finds it by integration.
    sim.set_webhook_url(int_g, &format!("{base}/handover/genesysCloudOM"));

    let (s, v) = call("GET", &format!("{base}/api/acme/version"), Value::Null).await;
    assert_eq!((s, v["version"].as_str()), (200, Some("0.1.0")));

    for (tenant, user) in [("acme", "a1"), ("globex", "g1")] {
        let (s, v) = call(
            "POST",
            &format!("{base}/api/{tenant}/start"),
            json!({"user": {"user_id": user, "session_id": format!("{user}-session")}, "transcript": [{"speaker": "user", "text": "help"}]}),
        )
        .await;
        assert_eq!(s, 200, "{v}");
    }
    let conv_a = sim.conversation_of("a1").unwrap().id;
    let conv_g = sim.conversation_of("g1").unwrap().id;

    for i in 0..10 {
        if i == 5 {
            // Swap acme's component for the v2 build, atomically, mid-conversation.
            let tmp = dir.join("acme.wasm.new");
            std::fs::copy(artifact("genesys-om-handover-v2.wasm"), &tmp).unwrap();
            std::fs::rename(&tmp, dir.join("acme.wasm")).unwrap();
        }
        for (tenant, user, conv) in [("acme", "a1", &conv_a), ("globex", "g1", &conv_g)] {
            let (s, v) = call(
                "POST",
                &format!("{base}/api/{tenant}/message"),
                json!({"user_id": user, "text": format!("{user} says {i}")}),
            )
            .await;
            assert_eq!(s, 200, "{v}");
            let status = sim
                .send_webhook(conv, AgentSends::Text(format!("agent to {user} #{i}")))
                .await
                .unwrap();
            assert_eq!(status, 200);
        }
    }
    served_version(&base, "acme", "0.1.0+v2").await;
    let (_, v) = call("GET", &format!("{base}/api/globex/version"), Value::Null).await;
    assert_eq!(v["version"], "0.1.0");

    // Every agent text reached its session exactly once, in order.
    for (tenant, user) in [("acme", "a1"), ("globex", "g1")] {
        let (s, v) = call(
            "GET",
            &format!("{base}/api/{tenant}/sessions/{user}-session/actions?wait=100"),
            Value::Null,
        )
        .await;
        assert_eq!(s, 200);
        let texts: Vec<String> = crate::support::actions(&v)
            .iter()
            .filter_map(|a| {
                a.pointer("/SendText/text")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .collect();
        let want: Vec<String> = (0..10).map(|i| format!("agent to {user} #{i}")).collect();
        assert_eq!(texts, want, "{tenant}");
        // Handled: acknowledged, so the session's next poll gets what comes next.
        let ack = format!("{base}/api/{tenant}/sessions/{user}-session/ack");
        let (s, a) = call("POST", &ack, json!({"cursor": v["cursor"]})).await;
        assert_eq!((s, a), (200, json!({"ok": true})), "{tenant}");
        // Every user message reached Genesys exactly once, in order.
        let got: Vec<String> = sim
            .received("message")
            .iter()
            .filter(|m| m.body["channel"]["from"]["id"] == user)
            .filter_map(|m| m.body["text"].as_str().map(str::to_string))
            .filter(|t| !t.starts_with("Transcript"))
            .collect();
        let want: Vec<String> = (0..10).map(|i| format!("{user} says {i}")).collect();
        assert_eq!(got, want, "{tenant}");
    }

    // Genesys events need the tenant's API key.
    let ev = sim
        .eventbridge(&conv_a, "customer.end", Some("CLIENT"), None)
        .to_string()
        .into_bytes();
    let url = format!("{base}/handover/genesysCloudOM/acme/events");
    let (s, _) = request(
        "POST",
        &url,
        &[("authorization".into(), "wrong".into())],
        &ev,
    )
    .await
    .unwrap();
    assert_eq!(s, 401);
    let (s, _) = request(
        "POST",
        &url,
        &[("authorization".into(), "globex-events-key".into())],
        &ev,
    )
    .await
    .unwrap();
    assert_eq!(s, 401, "another tenant's key is refused");
    let (s, _) = request(
        "POST",
        &url,
        &[("authorization".into(), "acme-events-key".into())],
        &ev,
    )
    .await
    .unwrap();
    assert_eq!(s, 200);
    let (_, v) = call(
        "GET",
        &format!("{base}/api/acme/sessions/a1-session/actions?wait=100"),
        Value::Null,
    )
    .await;
    assert_eq!(
        crate::support::actions(&v),
        [json!({"Status": {"Ended": "CustomerEnded"}})]
    );

    // A tenant outside the whitelist is refused; a bad signature is 401; metrics show the swap.
    let (s, _) = call(
        "POST",
        &format!("{base}/api/initech/start"),
        json!({"user": {"user_id": "x", "session_id": "y"}}),
    )
    .await;
    assert_eq!(
        s, 401,
        "a tenant outside the whitelist answers like an unknown one"
    );
    let (s, _) = request(
        "POST",
        &format!("{base}/handover/genesysCloudOM/globex"),
        &[("x-hub-signature-256".into(), "sha256=AAAA".into())],
        b"{}",
    )
    .await
    .unwrap();
    assert_eq!(s, 401);
    let (_, metrics) = request("GET", &format!("{base}/metrics"), &[], b"")
        .await
        .unwrap();
    let metrics = String::from_utf8(metrics).unwrap();
    assert!(
        metrics.contains("handover_component_swaps_total{tenant=\"acme\"} 1"),
        "{metrics}"
    );
    assert!(
        !metrics.contains("handover_component_swaps_total{tenant=\"globex\""),
        "{metrics}"
    );
    assert!(
        metrics.contains("handover_hook_calls_total{tenant=\"globex\",hook=\"agent-message\"} 11"),
        "{metrics}"
    );
    assert!(
        metrics.contains("handover_hook_errors_total{tenant=\"globex\",kind=\"bad-signature\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("handover_hook_duration_ms_bucket{le=\"+Inf\",hook=\"start\"} 2"),
        "{metrics}"
    );
    // The compiled v1 and v2 are cached by content hash.
    let cached = std::fs::read_dir(dir.join("cache")).unwrap().count();
    assert_eq!(cached, 2);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Wait (up to 20 s) until the tenant's new calls run `version`: the watcher validates a
/// changed component off the request path, then serves it.
pub async fn served_version(base: &str, tenant: &str, version: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (_, v) = call("GET", &format!("{base}/api/{tenant}/version"), Value::Null).await;
        if v["version"] == version {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{tenant} still serves {v} instead of {version}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_in_flight_during_a_swap_finishes_on_the_old_version() {
    let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await.unwrap();
    let tenants = [("acme", "AcmeDeployment", "acme-webhook-secret-1")];
    let (dir, base, _) = serve_tenants("genesys-om-serve-inflight", &sim, &tenants, &["*"]).await;
    let (s, _) = call(
        "POST",
        &format!("{base}/api/acme/start"),
        json!({"user": {"user_id": "a1", "session_id": "a1-session"}}),
    )
    .await;
    assert_eq!(s, 200);

    // Genesys turns slow: the next user message is still in flight when v2 arrives.
    sim.set_faults(
        genesys_sim::Faults {
            rate: 1.0,
            weights: [0, 0, 0, 0, 1],
            retry_after_secs: 0,
            slow_ms: 5000,
        },
        9,
    );
    let url = format!("{base}/api/acme/message");
    let before = sim.requests("message");
    let in_flight = tokio::spawn(async move {
        call(
            "POST",
            &url,
            json!({"user_id": "a1", "text": "sent during the swap"}),
        )
        .await
    });
    // In flight: Genesys has the request and is taking its time to answer.
    crate::support::wait_until(
        "the message to reach Genesys",
        std::time::Duration::from_secs(10),
        || async { sim.requests("message") > before },
    )
    .await;
    let tmp = dir.join("acme.wasm.new");
    std::fs::copy(artifact("genesys-om-handover-v2.wasm"), &tmp).unwrap();
    std::fs::rename(&tmp, dir.join("acme.wasm")).unwrap();
    served_version(&base, "acme", "0.1.0+v2").await;
    assert!(!in_flight.is_finished(), "the old call is still running");
    let (s, v) = in_flight.await.unwrap();
    assert_eq!(s, 200, "the call that started on v1 finished on v1: {v}");
    sim.set_faults(genesys_sim::Faults::default(), 1);
    let texts: Vec<Value> = sim
        .received("message")
        .iter()
        .map(|m| m.body["text"].clone())
        .collect();
    assert_eq!(
        texts
            .iter()
            .filter(|t| *t == "sent during the swap")
            .count(),
        1
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The feature source's flags by name: `GENESYS_CLOUD_OM_HANDLE_BOT_MESSAGE` is a host-wide
/// default (a bot's message reaches the user as a status update) that a tenant's own
/// `handle-bot-messages` overrides; `FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST` picks tenants.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feature_source_flags_gate_tenants_and_default_their_settings() {
    use genesys_om_host::flags::Flags;
    let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await.unwrap();
    let dir = std::env::temp_dir().join(format!("genesys-om-flags-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut integrations = Vec::new();
    for (tenant, override_) in [("acme", None), ("globex", Some("false")), ("initech", None)] {
        let deployment = format!("{tenant}-deployment");
        tenant_file(&dir, tenant, &deployment, "flag-secret");
        if let Some(v) = override_ {
            let path = dir.join(format!("{tenant}.json"));
            let mut f: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            f["config"]["handle-bot-messages"] = json!(v);
            std::fs::write(&path, f.to_string()).unwrap();
        }
        integrations.push(sim.add_integration(&deployment, "", "flag-secret"));
    }
    let vars = [
        ("FEATURE_ENABLE_GENESYS_CLOUD_OM", "true"),
        ("FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST", "acme,globex"),
        ("GENESYS_CLOUD_OM_HANDLE_BOT_MESSAGE", "true"),
    ];
    let egress = Egress::redirect(&sim.base_url()).unwrap();
    let mut opts = ServeOptions::new(dir.clone(), Store::memory(), egress);
    opts.listen = "127.0.0.1:0".parse().unwrap();
    opts.cache_dir = dir.join("cache");
    opts.flags = Flags::from_vars(|k| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    });
    let addr = serve::start(Server::new(opts, engine().unwrap()))
        .await
        .unwrap();
    let base = format!("http://{addr}");
    let start = |t: &str| {
        let url = format!("{base}/api/{t}/start");
        async move {
            call(
                "POST",
                &url,
                json!({"user": {"user_id": "b1", "session_id": "b1-session"}}),
            )
            .await
            .0
        }
    };
    assert_eq!(start("initech").await, 401, "not on the whitelist");
    for (tenant, integration, forwarded) in [
        ("acme", &integrations[0], true),
        ("globex", &integrations[1], false),
    ] {
        assert_eq!(start(tenant).await, 200);
        sim.set_webhook_url(
            integration,
            &format!("{base}/handover/genesysCloudOM/{tenant}"),
        );
        let conv = sim
            .state
            .lock()
            .unwrap()
            .conversations
            .values()
            .find(|c| &c.integration_id == integration)
            .unwrap()
            .id
            .clone();
        let status = sim
            .send_webhook(&conv, AgentSends::BotText("You are number 3".into()))
            .await
            .unwrap();
        assert_eq!(status, 200);
        let (_, v) = call(
            "GET",
            &format!("{base}/api/{tenant}/sessions/b1-session/actions?wait=300"),
            Value::Null,
        )
        .await;
        let got = v["actions"].to_string().contains("You are number 3");
        assert_eq!(got, forwarded, "{tenant}: {v}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
