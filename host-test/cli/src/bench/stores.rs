//! Per-hook cost of each store behind `wasi:keyvalue`, as `serve` runs a call: a fresh
//! instance, the hook, and the store's writes made durable before the answer.

use super::check;
use super::inputs::{end_event, in_process, median, micros, profile, webhook};
use anyhow::{bail, Result};
use genesys_om_host::api::Settings;
use genesys_om_host::bindings::types::{EndSignal, HandoverSettings, UserEvent, Webhook};
use genesys_om_host::{Plugin, Store, Tenant};
use std::time::Instant;
use wasmtime::component::Component;
use wasmtime::Engine;

/// Medians in µs of start, user-message, agent-message and end through `plugin`.
async fn per_hook(plugin: &Plugin, tenant: &Tenant, iters: usize, tag: &str) -> Result<[f64; 4]> {
    let mut t = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
    // The node's defaults, as the bot side's API gives them.
    let settings = HandoverSettings::from(&Settings::default());
    for i in 0..iters {
        let user = profile(&format!("store-{tag}-{i}"));
        let (headers, body) = webhook(&user.user_id, 3_000_000 + i);
        let s = Instant::now();
        check(plugin.start(tenant, &user, &[], &settings).await?)?;
        t[0].push(micros(s.elapsed()));
        let s = Instant::now();
        let text = UserEvent::Text("Hello, anyone there?".into());
        check(
            plugin
                .user_message(tenant, &user.user_id, &text, None)
                .await?,
        )?;
        t[1].push(micros(s.elapsed()));
        // The agent's greeting announces the agent (untimed).
        let (gh, gb) = webhook(&user.user_id, 6_000_000 + i);
        let greeting = Webhook {
            headers: gh,
            body: gb,
        };
        check(plugin.agent_message(tenant, &greeting).await?)?;
        let s = Instant::now();
        check(
            plugin
                .agent_message(tenant, &Webhook { headers, body })
                .await?,
        )?;
        t[2].push(micros(s.elapsed()));
        let s = Instant::now();
        let ev = EndSignal::GenesysEvent(end_event(&user.user_id));
        check(plugin.end(tenant, &ev).await?)?;
        t[3].push(micros(s.elapsed()));
    }
    Ok(t.map(median))
}

/// Figures for memory, the on-disk file store and (when `redis-server` is installed) Redis.
pub async fn run(
    engine: &Engine,
    component: &Component,
    tenant: &Tenant,
    iters: usize,
) -> Result<Vec<(String, [f64; 4])>> {
    let dir = handover_testkit::TempDir::with_prefix("bench-store")?;
    let mut stores = vec![
        ("memory".to_string(), Store::memory()),
        (
            "file (redb, fsync per call)".to_string(),
            Store::open_file(&dir.join("kv"))?,
        ),
    ];
    let redis = handover_testkit::RedisServer::start().ok();
    match &redis {
        Some(r) => stores.push((
            "redis (loopback)".to_string(),
            Store::open_redis(&r.url()).await?,
        )),
        None => {
            println!("(redis-server is not installed: no Redis figures; `make redis` installs it)")
        }
    }
    let mut out = Vec::new();
    for (name, kv) in stores {
        let plugin = Plugin::from_component(engine, component, in_process(), kv)?;
        let t = per_hook(&plugin, tenant, iters, &name[..4]).await?;
        if t.iter().any(|x| *x <= 0.0) {
            bail!("no figures for {name}");
        }
        out.push((name, t));
    }
    Ok(out)
}
