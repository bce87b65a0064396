//! `host-test demo`: one whole handover on embedded defaults, printed as a person reads it.
//! Simulator, component and webhook endpoint all run in this process, on loopback.

use crate::show;
use anyhow::{anyhow, bail, Result};
use genesys_om_host::bindings::types::{
    EndSignal, Outcome, Speaker, TranscriptEntry, UserEvent, UserProfile,
};
use genesys_om_host::webhook;
use genesys_om_host::{engine, Egress, Plugin, Store, Tenant};
use genesys_sim::{AgentSends, Simulator};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub use genesys_om_handover::testing::fixtures::demo::{
    CLIENT_ID, CLIENT_SECRET, DEPLOYMENT, QUEUE_ID, WEBHOOK_SECRET,
};

/// The demo tenant's provider settings (the shared fixture).
pub fn tenant_config() -> HashMap<String, String> {
    genesys_om_handover::testing::fixtures::demo::tenant_config()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn unwrap(
    hook: &str,
    r: Result<Result<Outcome, genesys_om_host::bindings::types::Error>>,
) -> Result<Outcome> {
    match r? {
        Ok(o) => Ok(o),
        Err(e) => bail!("{hook} failed: {}", show::error(&e)),
    }
}

/// Hand a Genesys event (as the EventBridge integration would deliver it) to `end`.
async fn genesys_event(
    plugin: &Plugin,
    tenant: &Tenant,
    ev: &serde_json::Value,
) -> Result<Outcome> {
    let signal = EndSignal::GenesysEvent(ev.to_string().into_bytes());
    unwrap("end", plugin.end(tenant, &signal).await)
}

fn chat(lines: &mut Vec<String>, o: &Outcome) {
    for a in show::actions(o) {
        println!("    {a}");
        lines.push(a);
    }
}

/// Run the scripted handover; returns the chat as the user saw it.
pub async fn run(wasm: &Path) -> Result<Vec<String>> {
    println!("· starting the Genesys Cloud simulator on 127.0.0.1");
    let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await?;
    for i in 0..30 {
        sim.add_integration(
            &format!("OtherDeployment{i:02}"),
            "https://example.invalid/hook",
            "another-secret-value-123",
        );
    }
    let integration = sim.add_integration(DEPLOYMENT, "", WEBHOOK_SECRET);
    let agent = sim.add_agent("Alex Agent", Some("https://avatars.example/alex.png"));
    println!(
        "  simulator at {} (31 integrations, so the lookup reads two pages)",
        sim.base_url()
    );

    println!("· loading the component {}", wasm.display());
    let started = std::time::Instant::now();
    let egress = Egress::redirect(&sim.base_url())?;
    let plugin = Arc::new(Plugin::load(&engine()?, wasm, egress, Store::memory())?);
    println!(
        "  compiled and linked in {} ms",
        started.elapsed().as_millis()
    );
    let tenant = Tenant::new("demo", tenant_config());
    let (addr, mut deliveries) = webhook::listen(plugin.clone(), tenant.clone()).await?;
    sim.set_webhook_url(&integration, &format!("http://{addr}{}", webhook::PATH));
    println!("  webhook endpoint at http://{addr}{}", webhook::PATH);

    let user = UserProfile {
        user_id: "cognigy-user-4711".into(),
        session_id: "session-0815".into(),
        first_name: Some("Jane".into()),
        last_name: Some("Doe".into()),
        nickname: Some("Jane Doe".into()),
        email: None,
    };
    let transcript = vec![
        TranscriptEntry {
            speaker: Speaker::User,
            text: "Hi, my parcel never arrived".into(),
            data: None,
            time: None,
        },
        TranscriptEntry {
            speaker: Speaker::Bot,
            text: "Sorry to hear that! What is your order number?".into(),
            data: None,
            time: None,
        },
        TranscriptEntry {
            speaker: Speaker::User,
            text: "4711".into(),
            data: None,
            time: None,
        },
        TranscriptEntry {
            speaker: Speaker::Bot,
            text: "Let me connect you to a colleague.".into(),
            data: None,
            time: None,
        },
    ];
    let settings = genesys_om_host::bindings::types::HandoverSettings {
        language: Some("english".into()),
        skills: Some("escalation".into()),
        priority: Some("1".into()),
        enable_user_connects_message: true,
        enable_user_disconnects_message: true,
        display_agent_details: true,
        custom_attributes: Some(r#"{"customerType":"premium","tags":["urgent","vip"],"preferences":{"language":"en","notifications":true}}"#.into()),
        disconnect_message: None,
        inactivity_timeout_secs: None,
    };
    let mut lines = Vec::new();

    println!("\n· start: handing the chat over to Genesys");
    let o = unwrap(
        "start",
        plugin.start(&tenant, &user, &transcript, &settings).await,
    )?;
    chat(&mut lines, &o);
    let conv = sim
        .conversation_of(&user.user_id)
        .ok_or_else(|| anyhow!("the simulator has no conversation"))?;
    let first = sim
        .received("message")
        .first()
        .cloned()
        .ok_or_else(|| anyhow!("no first message"))?;
    println!("  Genesys conversation {} opened; the agent sees:", conv.id);
    for l in first.body["text"].as_str().unwrap_or("").lines() {
        println!("    | {l}");
    }
    println!("  participant data for the Architect flow:");
    for (k, v) in &conv.attributes {
        println!("    {k} = {v}");
    }

    println!("\n· Genesys routes the chat to an agent (EventBridge user.start)");
    sim.agent_joins(&conv.id, &agent);
    let ev = sim.eventbridge(&conv.id, "user.start", None, Some(&agent));
    let o = genesys_event(&plugin, &tenant, &ev).await?;
    chat(&mut lines, &o);

    println!("\n· the user writes while waiting");
    let text = "Are you there? It was a birthday present.";
    println!("    Jane Doe: {text}");
    unwrap(
        "user-message",
        plugin
            .user_message(&tenant, &user.user_id, &UserEvent::Text(text.into()), None)
            .await,
    )?;
    println!(
        "  Genesys received {} messages so far",
        sim.received("message").len()
    );

    println!("\n· the agent answers (signed webhooks to the host)");
    for sends in [
        AgentSends::Typing,
        AgentSends::Text(
            "Hi Jane, I am Alex. I can see order 4711; it is stuck at the depot.".into(),
        ),
        AgentSends::QuickReplies {
            text: "Shall we send it again or refund you?".into(),
            replies: vec![
                ("Send again".into(), "resend".into()),
                ("Refund".into(), "refund".into()),
            ],
        },
    ] {
        let status = sim.send_webhook(&conv.id, sends).await?;
        let delivered = tokio::time::timeout(Duration::from_secs(10), deliveries.recv())
            .await
            .map_err(|_| anyhow!("no webhook delivery"))?
            .ok_or_else(|| anyhow!("webhook endpoint closed"))?;
        match delivered {
            Ok(o) => chat(&mut lines, &o),
            Err(e) => bail!("agent-message failed (HTTP {status}): {}", show::error(&e)),
        }
    }

    println!("\n· the user picks an option");
    println!("    Jane Doe: Send again");
    unwrap(
        "user-message",
        plugin
            .user_message(
                &tenant,
                &user.user_id,
                &UserEvent::Text("Send again".into()),
                None,
            )
            .await,
    )?;

    println!("\n· the agent closes the conversation (EventBridge customer.end)");
    let ev = sim.eventbridge(&conv.id, "customer.end", Some("PEER"), None);
    let o = genesys_event(&plugin, &tenant, &ev).await?;
    chat(&mut lines, &o);
    // What the handover stored is keyed by the user or the conversation; count what is left.
    let left = genesys_om_host::keyvalue::component_keys(&plugin.kv, "demo")
        .await?
        .iter()
        .filter(|k| k.contains(&user.user_id) || k.contains(&conv.id))
        .count();
    println!("  handover state left in KV: {left} entries");
    let st = sim.state.lock().unwrap();
    println!(
        "\n✓ demo complete: {} requests to Genesys, {} token request(s), {} inbound messages",
        st.log.len(),
        st.token_requests,
        st.received.iter().filter(|r| r.kind == "message").count()
    );
    Ok(lines)
}

/// The same kind of handover through `host-test serve`: the bot side talks JSON over HTTP,
/// Genesys posts signed webhooks to the server, actions come back by long-poll.
pub async fn run_served(wasm: &Path) -> Result<Vec<String>> {
    use genesys_om_host::serve;
    use genesys_om_host::server::{ServeOptions, Server};
    use genesys_sim::request;
    use serde_json::{json, Value};
    println!("· starting the Genesys Cloud simulator and `host-test serve` on 127.0.0.1");
    let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await?;
    let integration = sim.add_integration(DEPLOYMENT, "", WEBHOOK_SECRET);
    let dir = std::env::temp_dir().join(format!("genesys-om-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    std::fs::copy(wasm, dir.join("demo.wasm"))?;
    let config: serde_json::Map<String, Value> = tenant_config()
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    std::fs::write(
        dir.join("demo.json"),
        json!({"component": "demo.wasm", "events-api-key": "demo-events-key", "config": config})
            .to_string(),
    )?;
    let egress = Egress::redirect(&sim.base_url())?;
    let mut opts = ServeOptions::new(dir.clone(), Store::memory(), egress);
    opts.listen = "127.0.0.1:0".parse()?;
    opts.cache_dir = dir.join("cache");
    let addr = serve::start(Server::new(opts, engine()?)).await?;
    let base = format!("http://{addr}");
    sim.set_webhook_url(
        &integration,
        &format!("{base}/handover/genesysCloudOM/demo"),
    );
    println!("  tenant 'demo' served at {base}/api/demo/…, webhooks at {base}/handover/genesysCloudOM/demo");
    let post = |path: String, body: Value| {
        let url = format!("{base}{path}");
        async move {
            let json = [("content-type".to_string(), "application/json".to_string())];
            let (status, out) = request("POST", &url, &json, body.to_string().as_bytes()).await?;
            anyhow::ensure!(
                status == 200,
                "POST {path}: HTTP {status} {}",
                String::from_utf8_lossy(&out)
            );
            Ok::<Value, anyhow::Error>(serde_json::from_slice(&out)?)
        }
    };
    let mut lines = Vec::new();
    println!("\n· POST /api/demo/start");
    post(
        "/api/demo/start".into(),
        json!({"user": {"user_id": "web-user-1", "session_id": "web-session-1", "first_name": "Jane"},
               "transcript": [{"speaker": "user", "text": "I want to talk to a person"}, {"speaker": "bot", "text": "Sure, one moment."}],
               "settings": {"language": "english", "custom_attributes": {"plan": "pro"}}}),
    )
    .await?;
    let conv = sim
        .conversation_of("web-user-1")
        .ok_or_else(|| anyhow!("no conversation"))?;
    println!("    Jane: Is anybody there?");
    post(
        "/api/demo/message".into(),
        json!({"user_id": "web-user-1", "text": "Is anybody there?"}),
    )
    .await?;
    println!("\n· the agent answers through the server's webhook endpoint");
    sim.send_webhook(
        &conv.id,
        AgentSends::Text("Hello Jane, Sam here. How can I help?".into()),
    )
    .await?;
    let ev = sim.eventbridge(&conv.id, "customer.end", Some("PEER"), None);
    let (status, _) = request(
        "POST",
        &format!("http://{addr}/handover/genesysCloudOM/demo/events"),
        &[("authorization".into(), "demo-events-key".into())],
        ev.to_string().as_bytes(),
    )
    .await?;
    anyhow::ensure!(status == 200, "events endpoint: HTTP {status}");
    println!("\n· GET /api/demo/sessions/web-session-1/actions (long-poll)");
    let (_, out) = request(
        "GET",
        &format!("http://{addr}/api/demo/sessions/web-session-1/actions?wait=1000"),
        &[],
        b"",
    )
    .await?;
    let v: Value = serde_json::from_slice(&out)?;
    for a in v["actions"].as_array().cloned().unwrap_or_default() {
        let action: genesys_om_host::bindings::types::Action =
            serde_json::from_value(a["action"].clone())?;
        let line = show::action(&action);
        println!("    {line}  (id {})", a["id"].as_str().unwrap_or("?"));
        lines.push(line);
    }
    // Handled: acknowledge the batch, so it does not come again.
    if let Some(cursor) = v["cursor"].as_str() {
        let (status, _) = request(
            "POST",
            &format!("http://{addr}/api/demo/sessions/web-session-1/ack"),
            &[("content-type".into(), "application/json".into())],
            json!({ "cursor": cursor }).to_string().as_bytes(),
        )
        .await?;
        anyhow::ensure!(status == 200, "ack: HTTP {status}");
        println!("    acknowledged up to {cursor}");
    }
    let (_, metrics) = request("GET", &format!("http://{addr}/metrics"), &[], b"").await?;
    let calls: Vec<String> = String::from_utf8_lossy(&metrics)
        .lines()
        .filter(|l| l.starts_with("handover_hook_calls_total"))
        .map(str::to_string)
        .collect();
    println!("\n· /metrics\n    {}", calls.join("\n    "));
    let _ = std::fs::remove_dir_all(&dir);
    println!("\n✓ served demo complete");
    Ok(lines)
}
