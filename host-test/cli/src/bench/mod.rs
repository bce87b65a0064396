//! `host-test bench` (`make bench`): component size, compile/load/instantiate times, and
//! per-hook latency through the component next to the same domain code run natively,
//! both against an in-process fake Genesys. Figures are printed and written as JSON.

use anyhow::{bail, Result};
use genesys_om_handover as domain;
use genesys_om_handover::testing::{FakeGenesys, MapConfig, MemKv};
use genesys_om_host::bindings::types::{
    EndSignal, HandoverSettings, Speaker, TranscriptEntry, UserEvent, UserProfile, Webhook,
};
use genesys_om_host::egress::Responder;
use genesys_om_host::runtime::EPOCH_TICK;
use genesys_om_host::{engine, Egress, Plugin, Store, Tenant};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;

mod stores;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use wasmtime::component::Component;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

const WEBHOOK_SECRET: &str = "bench-webhook-secret-1";
const CUSTOM_ATTRIBUTES: &str = r#"{"customer":{"tier":"gold","address":{"city":"Berlin","zip":"10115"}},"tags":["a","b","c"],"items":[{"sku":"A1","qty":2},{"sku":"B2","qty":1}],"vip":true,"score":4.5}"#;

pub(crate) fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn transcript() -> Vec<(Speaker, String)> {
    (0..20)
        .map(|i| {
            let who = if i % 2 == 0 {
                Speaker::User
            } else {
                Speaker::Bot
            };
            (
                who,
                format!("Line {i} of the conversation before the handover, with a few words."),
            )
        })
        .collect()
}

/// A signed Genesys text webhook of about 1 KB for `user`.
pub(crate) fn webhook(user: &str, n: usize) -> (Vec<(String, String)>, Vec<u8>) {
    let id = format!("{n:032x}");
    let mut body = json!({
        "id": id,
        "channel": { "id": "integration-1", "platform": "Open", "type": "Private",
                     "to": { "id": user, "idType": "Opaque" },
                     "from": { "nickname": "CognigyHandover", "id": "integration-1", "idType": "Opaque" },
                     "time": "2026-11-25T09:14:05.001Z", "messageId": id },
        "type": "Text", "text": "", "originatingEntity": "Human", "direction": "Outbound",
        "conversationId": "conversation-1"
    });
    let pad = 1024usize.saturating_sub(body.to_string().len());
    body["text"] = json!("x".repeat(pad));
    let bytes = body.to_string().into_bytes();
    let sig = domain::signature::sign(WEBHOOK_SECRET, &bytes);
    (vec![("X-Hub-Signature-256".to_string(), sig)], bytes)
}

pub(crate) fn end_event(user: &str) -> Vec<u8> {
    json!({"userId": user, "topic": "v2.detail.events.conversation.id.customer.end", "disconnectType": "CLIENT"})
        .to_string()
        .into_bytes()
}

pub(crate) fn profile(user_id: &str) -> UserProfile {
    UserProfile {
        user_id: user_id.into(),
        session_id: format!("session-{user_id}"),
        first_name: None,
        last_name: None,
        nickname: None,
        email: None,
    }
}

struct SystemClock(std::cell::Cell<u64>);

impl domain::Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }
    fn new_id(&self) -> String {
        self.0.set(self.0.get() + 1);
        format!("00000000-0000-4000-8000-{:012x}", self.0.get())
    }
    fn sleep_ms(&self, ms: u64) {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

/// Genesys answered in process by the domain crate's fake: no network in the figures.
struct FakeResponder;

impl Responder for FakeResponder {
    fn respond(&self, method: &str, url: &str, body: &[u8]) -> (u16, Vec<u8>) {
        use genesys_om_handover::ports::Http as _;
        let method = match method {
            "GET" => "GET",
            "PATCH" => "PATCH",
            "PUT" => "PUT",
            "DELETE" => "DELETE",
            _ => "POST",
        };
        let req = genesys_om_handover::HttpRequest {
            method,
            url: url.to_string(),
            headers: Vec::new(),
            body: body.to_vec(),
            timeout_ms: 0,
        };
        match FakeGenesys::default().send(&req) {
            Ok(r) => (r.status, r.body),
            Err(_) => (503, Vec::new()),
        }
    }
}

pub(crate) fn in_process() -> Egress {
    Egress::InProcess(Arc::new(FakeResponder))
}

/// Per-hook medians in µs: start, user-message, agent-message, end.
type HookTimes = [f64; 4];

async fn component_hooks(
    plugin: &Plugin,
    tenant: &Tenant,
    iters: usize,
) -> Result<(HookTimes, f64, usize, f64, f64)> {
    let mut store = plugin.store(tenant);
    store.set_epoch_deadline(u64::MAX / 2);
    let inst = plugin.instantiate(&mut store).await?;
    let hooks = inst.handover_genesys_om_hooks();
    let settings = HandoverSettings {
        language: Some("english".into()),
        skills: Some("escalation".into()),
        priority: Some("1".into()),
        enable_user_connects_message: true,
        enable_user_disconnects_message: true,
        display_agent_details: false,
        custom_attributes: Some(CUSTOM_ATTRIBUTES.into()),
        disconnect_message: None,
    };
    let lines: Vec<TranscriptEntry> = transcript()
        .into_iter()
        .map(|(speaker, text)| TranscriptEntry {
            speaker,
            text,
            data: None,
        })
        .collect();
    let mut t = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
    for i in 0..iters {
        let user = profile(&format!("bench-{i}"));
        let (headers, body) = webhook(&user.user_id, i);
        let w = Webhook { headers, body };
        let ev = EndSignal::GenesysEvent(end_event(&user.user_id));
        let s = Instant::now();
        check(
            hooks
                .call_start(&mut store, &user, &lines, &settings)
                .await?,
        )?;
        t[0].push(micros(s.elapsed()));
        let s = Instant::now();
        check(
            hooks
                .call_user_message(
                    &mut store,
                    &user.user_id,
                    &UserEvent::Text("Hello, anyone there?".into()),
                )
                .await?,
        )?;
        t[1].push(micros(s.elapsed()));
        let s = Instant::now();
        let o = check(hooks.call_agent_message(&mut store, &w).await?)?;
        t[2].push(micros(s.elapsed()));
        if o.actions.len() != 1 {
            bail!("agent-message gave {:?}", o.actions);
        }
        let s = Instant::now();
        check(hooks.call_end(&mut store, &ev).await?)?;
        t[3].push(micros(s.elapsed()));
    }
    // The cost of refusing an unsigned webhook: call overhead plus two config reads.
    let unsigned = Webhook {
        headers: vec![],
        body: b"{}".to_vec(),
    };
    let mut refuse = Vec::new();
    for _ in 0..iters {
        let s = Instant::now();
        let r = hooks.call_agent_message(&mut store, &unsigned).await?;
        refuse.push(micros(s.elapsed()));
        if r.is_ok() {
            bail!("an unsigned webhook was accepted");
        }
    }
    let refuse = median(refuse);
    // Signature check and body parse only: a signed webhook for a user with no handover.
    let mut verify = Vec::new();
    for i in 0..iters {
        let (headers, body) = webhook("nobody", 2_000_000 + i);
        let w = Webhook { headers, body };
        let s = Instant::now();
        let r = hooks.call_agent_message(&mut store, &w).await?;
        verify.push(micros(s.elapsed()));
        if !matches!(
            r,
            Err(genesys_om_host::bindings::types::Error::UnknownConversation(_))
        ) {
            bail!("expected unknown-conversation, got {r:?}");
        }
    }
    let verify = median(verify);
    // Throughput: many webhooks for one open handover.
    let user = profile("bench-throughput");
    check(
        hooks
            .call_start(&mut store, &user, &lines, &settings)
            .await?,
    )?;
    let calls = iters * 5;
    let hooks_w: Vec<Webhook> = (0..calls)
        .map(|n| {
            let (headers, body) = webhook("bench-throughput", 1_000_000 + n);
            Webhook { headers, body }
        })
        .collect();
    let s = Instant::now();
    for w in &hooks_w {
        check(hooks.call_agent_message(&mut store, w).await?)?;
    }
    let per_sec = calls as f64 / s.elapsed().as_secs_f64();
    let peak = store.data().limiter.peak_memory;
    Ok((t.map(median), per_sec, peak, refuse, verify))
}

fn check<T>(r: Result<T, genesys_om_host::bindings::types::Error>) -> Result<T> {
    r.map_err(|e| anyhow::anyhow!("hook failed: {}", crate::show::error(&e)))
}

fn native_hooks(iters: usize) -> Result<(HookTimes, f64, f64)> {
    let (http, kv, config, clock) = (
        FakeGenesys::default(),
        MemKv::default(),
        MapConfig::working(),
        SystemClock(0.into()),
    );
    let env = domain::Env {
        http: &http,
        kv: &kv,
        config: &config,
        clock: &clock,
    };
    let settings = domain::HandoverSettings {
        language: Some("english".into()),
        skills: Some("escalation".into()),
        priority: Some("1".into()),
        custom_attributes: Some(CUSTOM_ATTRIBUTES.into()),
        ..Default::default()
    };
    let lines: Vec<domain::TranscriptEntry> = transcript()
        .into_iter()
        .map(|(s, text)| domain::TranscriptEntry {
            speaker: if s == Speaker::User {
                domain::Speaker::User
            } else {
                domain::Speaker::Bot
            },
            text,
            data: None,
        })
        .collect();
    let e = |r: Result<domain::Outcome, domain::Error>| r.map_err(|e| anyhow::anyhow!("{e}"));
    let mut t = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
    for i in 0..iters {
        let user = domain::UserProfile {
            user_id: format!("bench-{i}"),
            session_id: format!("s-{i}"),
            ..Default::default()
        };
        let (headers, body) = webhook(&user.user_id, i);
        let w = domain::Webhook { headers, body };
        let ev = domain::EndSignal::GenesysEvent(end_event(&user.user_id));
        let s = Instant::now();
        e(domain::hooks::start(&env, &user, &lines, &settings))?;
        t[0].push(micros(s.elapsed()));
        let s = Instant::now();
        e(domain::hooks::user_message(
            &env,
            &user.user_id,
            &domain::UserEvent::Text("Hello, anyone there?".into()),
        ))?;
        t[1].push(micros(s.elapsed()));
        let s = Instant::now();
        e(domain::hooks::agent_message(&env, &w))?;
        t[2].push(micros(s.elapsed()));
        let s = Instant::now();
        e(domain::hooks::end(&env, &ev))?;
        t[3].push(micros(s.elapsed()));
    }
    let user = domain::UserProfile {
        user_id: "bench-throughput".into(),
        session_id: "s".into(),
        ..Default::default()
    };
    e(domain::hooks::start(&env, &user, &lines, &settings))?;
    let calls = iters * 5;
    let hooks_w: Vec<domain::Webhook> = (0..calls)
        .map(|n| {
            let (headers, body) = webhook("bench-throughput", 1_000_000 + n);
            domain::Webhook { headers, body }
        })
        .collect();
    let s = Instant::now();
    for w in &hooks_w {
        e(domain::hooks::agent_message(&env, w))?;
    }
    let tput = calls as f64 / s.elapsed().as_secs_f64();
    let mut verify = Vec::new();
    for i in 0..iters {
        let (headers, body) = webhook("nobody", 2_000_000 + i);
        let w = domain::Webhook { headers, body };
        let s = Instant::now();
        let r = domain::hooks::agent_message(&env, &w);
        verify.push(micros(s.elapsed()));
        if !matches!(r, Err(domain::Error::UnknownConversation(_))) {
            bail!("expected unknown-conversation, got {r:?}");
        }
    }
    Ok((t.map(median), tput, median(verify)))
}

async fn instantiate_median(plugin: &Plugin, tenant: &Tenant, n: usize) -> Result<f64> {
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let mut store = plugin.store(tenant);
        let s = Instant::now();
        plugin.instantiate(&mut store).await?;
        v.push(micros(s.elapsed()));
    }
    Ok(median(v))
}

fn pooling_engine() -> Result<Engine> {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(64)
        .total_memories(64)
        .total_tables(64)
        .total_core_instances(64);
    pool.max_memory_size(64 << 20);
    let mut config = Config::new();
    config.epoch_interruption(true);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    let engine = Engine::new(&config)?;
    let weak = engine.weak();
    std::thread::spawn(move || {
        while let Some(e) = weak.upgrade() {
            e.increment_epoch();
            drop(e);
            std::thread::sleep(EPOCH_TICK);
        }
    });
    Ok(engine)
}

/// Run everything; prints the table and returns the figures as JSON.
pub async fn run(wasm: &Path, out_dir: &Path, iters: usize) -> Result<serde_json::Value> {
    let bytes = std::fs::read(wasm)?;
    let size = bytes.len();
    let engine = engine()?;
    let mut compile = Vec::new();
    let mut component = None;
    for _ in 0..3 {
        let s = Instant::now();
        component = Some(Component::new(&engine, &bytes)?);
        compile.push(s.elapsed().as_secs_f64() * 1e3);
    }
    let component = component.expect("compiled");
    let cwasm = component.serialize()?;
    std::fs::create_dir_all(out_dir)?;
    std::fs::write(out_dir.join("genesys-om-handover.cwasm"), &cwasm)?;
    let mut load = Vec::new();
    for _ in 0..20 {
        let s = Instant::now();
        // Safety: bytes this engine serialized a moment ago.
        let c = unsafe { Component::deserialize(&engine, &cwasm)? };
        load.push(s.elapsed().as_secs_f64() * 1e3);
        drop(c);
    }
    let config: std::collections::HashMap<String, String> = MapConfig::working().0;
    let tenant = Tenant::new("bench", config);
    let plugin = Plugin::from_component(&engine, &component, in_process(), Store::memory())?;
    let inst_on_demand = instantiate_median(&plugin, &tenant, 2000).await?;
    let pengine = pooling_engine()?;
    let pcomponent = Component::new(&pengine, &bytes)?;
    let pplugin = Plugin::from_component(&pengine, &pcomponent, in_process(), Store::memory())?;
    let inst_pooling = instantiate_median(&pplugin, &tenant, 2000).await?;

    let (od_t, _, _, _, _) = component_hooks(&plugin, &tenant, iters.min(100)).await?;
    println!(
        "(on-demand allocator, {} handovers: agent-message {:.1} µs)",
        iters.min(100),
        od_t[2]
    );
    let (wasm_t, wasm_tput, peak, refuse, verify) =
        component_hooks(&pplugin, &tenant, iters).await?;
    let (native_t, native_tput, native_verify) = native_hooks(iters)?;
    let names = ["start", "user-message", "agent-message", "end"];
    let ratio = |i: usize| {
        if native_t[i] > 0.0 {
            wasm_t[i] / native_t[i]
        } else {
            0.0
        }
    };

    let targets_ok = |ok: bool| if ok { "ok" } else { "MISSED" };
    println!("genesys-om-handover benchmark ({iters} handovers, medians)");
    println!(
        "{:<38} {:>14} {:>14} {:>8}",
        "figure", "component", "native", "ratio"
    );
    println!(
        "{:<38} {:>14} {:>14} {:>8}",
        ".wasm size (target <= 300 KB)",
        format!("{:.1} KB", size as f64 / 1024.0),
        "",
        targets_ok(size <= 300 * 1024)
    );
    println!(
        "{:<38} {:>14}",
        "cold compile",
        format!("{:.1} ms", median(compile.clone()))
    );
    println!(
        "{:<38} {:>14}",
        "precompiled .cwasm load",
        format!("{:.2} ms", median(load.clone()))
    );
    println!(
        "{:<38} {:>14} {:>14} {:>8}",
        "instantiate, on-demand (target 50 µs)",
        format!("{inst_on_demand:.1} µs"),
        "",
        targets_ok(inst_on_demand <= 50.0)
    );
    println!(
        "{:<38} {:>14} {:>14} {:>8}",
        "instantiate, pooling (target 50 µs)",
        format!("{inst_pooling:.1} µs"),
        "",
        targets_ok(inst_pooling <= 50.0)
    );
    for (i, n) in names.iter().enumerate() {
        let note = if i == 2 {
            format!("{:.2} {}", ratio(i), targets_ok(ratio(i) <= 2.0))
        } else {
            format!("{:.2}", ratio(i))
        };
        println!(
            "{:<38} {:>14} {:>14} {:>8}",
            format!("hook {n}"),
            format!("{:.1} µs", wasm_t[i]),
            format!("{:.1} µs", native_t[i]),
            note
        );
    }
    println!(
        "{:<38} {:>14} {:>14} {:>8}",
        "agent-message throughput",
        format!("{wasm_tput:.0}/s"),
        format!("{native_tput:.0}/s"),
        format!("{:.2}", native_tput / wasm_tput)
    );
    println!(
        "{:<38} {:>14} {:>14} {:>8}",
        "agent-message: verify + parse only",
        format!("{verify:.1} µs"),
        format!("{native_verify:.1} µs"),
        format!("{:.2}", verify / native_verify)
    );
    println!(
        "{:<38} {:>14}",
        "hook call overhead (unsigned refused)",
        format!("{refuse:.1} µs")
    );
    println!(
        "{:<38} {:>14}",
        "peak linear memory of one instance",
        format!("{:.0} KB", peak as f64 / 1024.0)
    );

    let per_store = stores::run(&engine, &component, &tenant, iters.min(200)).await?;
    println!("per-hook cost by store (fresh instance per call, writes durable before the answer):");
    println!(
        "{:<38} {:>10} {:>12} {:>13} {:>10}",
        "store", "start", "user-message", "agent-message", "end"
    );
    for (name, t) in &per_store {
        println!(
            "{:<38} {:>10} {:>12} {:>13} {:>10}",
            name,
            format!("{:.0} µs", t[0]),
            format!("{:.0} µs", t[1]),
            format!("{:.0} µs", t[2]),
            format!("{:.0} µs", t[3])
        );
    }
    let report = json!({
        "per_store_us": per_store.iter().map(|(n, t)| (n.clone(), json!({
            "start": t[0], "user-message": t[1], "agent-message": t[2], "end": t[3]
        }))).collect::<serde_json::Map<_, _>>(),
        "iterations": iters,
        "wasm_bytes": size,
        "cold_compile_ms": median(compile),
        "cwasm_load_ms": median(load),
        "instantiate_us": { "on_demand": inst_on_demand, "pooling": inst_pooling },
        "hooks_us": names.iter().enumerate().map(|(i, n)| (n.to_string(), json!({
            "component": wasm_t[i], "native": native_t[i], "ratio": ratio(i)
        }))).collect::<serde_json::Map<_, _>>(),
        "agent_message_per_sec": { "component": wasm_tput, "native": native_tput },
        "peak_memory_bytes": peak,
        "call_overhead_us": refuse,
        "agent_message_verify_parse_us": { "component": verify, "native": native_verify },
        "targets": {
            "wasm_size_ok": size <= 300 * 1024,
            "agent_message_ratio_ok": ratio(2) <= 2.0,
            "instantiate_ok": inst_on_demand.min(inst_pooling) <= 50.0
        }
    });
    std::fs::write(
        out_dir.join("bench.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    println!(
        "figures written to {}",
        out_dir.join("bench.json").display()
    );
    Ok(report)
}
