//! `user-message` over TLS: the component's hook on a warm instance against the simulator
//! serving HTTPS on loopback (its test CA trusted, nothing else relaxed), through the pool's
//! kept connection — HTTP/2 as the simulator offers it, and HTTP/1.1 keep-alive when it
//! offers only that — next to a fresh connection (TCP, TLS and HTTP handshakes) per request.

use super::check;
use super::inputs::{median, micros, profile};
use anyhow::{Context, Result};
use genesys_om_handover::testing::fixtures;
use genesys_om_host::api::Settings;
use genesys_om_host::bindings::types::{HandoverSettings, UserEvent};
use genesys_om_host::pool::{Pool, TlsClient};
use genesys_om_host::{Egress, Plugin, Store, Tenant};
use genesys_sim::{Simulator, Tls};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;
use wasmtime::component::Component;
use wasmtime::Engine;

/// Medians in µs, and the connections each run opened for its timed messages.
pub(crate) struct TlsFigures {
    pooled: (f64, u64),
    pooled_http1: (f64, u64),
    fresh: (f64, u64),
    iters: usize,
}

/// Messages sent before timing (the pooled runs open their connection then).
const WARM_UP: usize = 10;

async fn user_messages(
    engine: &Engine,
    component: &Component,
    offer: Tls,
    fresh: bool,
    iters: usize,
) -> Result<(f64, u64)> {
    let sim = Simulator::start_tls(fixtures::CLIENT_ID, fixtures::CLIENT_SECRET, offer).await?;
    sim.add_integration(fixtures::DEPLOYMENT_NAME, "", fixtures::WEBHOOK_SECRET);
    let tls = TlsClient::trusting(sim.ca_pem().context("a TLS simulator")?)?;
    let pool = Arc::new(if fresh {
        Pool::fresh(tls)
    } else {
        Pool::new(tls)
    });
    let egress = Egress::redirect_with(&sim.base_url(), pool.clone())?;
    let plugin = Plugin::from_component(engine, component, egress, Store::memory())?;
    let tenant = Tenant::new("bench-tls", fixtures::tenant_config_map());
    let mut store = plugin.store(&tenant);
    store.set_epoch_deadline(u64::MAX / 2);
    let inst = plugin.instantiate(&mut store).await?;
    let hooks = inst.handover_genesys_om_hooks();
    let user = profile("bench-tls");
    let settings = HandoverSettings::from(&Settings::default());
    check(hooks.call_start(&mut store, &user, &[], &settings).await?)?;
    let text = UserEvent::Text("Hello, anyone there?".into());
    for _ in 0..WARM_UP {
        check(
            hooks
                .call_user_message(&mut store, &user.user_id, &text, None)
                .await?,
        )?;
    }
    let before = pool.opened();
    let mut t = Vec::with_capacity(iters);
    for _ in 0..iters {
        let s = Instant::now();
        let o = check(
            hooks
                .call_user_message(&mut store, &user.user_id, &text, None)
                .await?,
        )?;
        t.push(micros(s.elapsed()));
        anyhow::ensure!(o.warnings.is_empty(), "user-message warned: {o:?}");
    }
    let delivered = sim.received("message").len();
    anyhow::ensure!(
        delivered > iters,
        "only {delivered} messages reached the simulator"
    );
    Ok((median(t), pool.opened() - before))
}

/// Time `user-message` each way, `iters` messages in one handover.
pub(crate) async fn run(
    engine: &Engine,
    component: &Component,
    iters: usize,
) -> Result<TlsFigures> {
    Ok(TlsFigures {
        pooled: user_messages(engine, component, Tls::Http2AndHttp1, false, iters).await?,
        pooled_http1: user_messages(engine, component, Tls::Http1Only, false, iters).await?,
        fresh: user_messages(engine, component, Tls::Http2AndHttp1, true, iters).await?,
        iters,
    })
}

impl TlsFigures {
    /// The table's rows.
    pub(crate) fn print(&self) {
        let row = |name: &str, (us, opened): (f64, u64)| {
            println!(
                "{:<38} {:>14} {:>14}",
                name,
                format!("{us:.1} µs"),
                format!("{opened} conn.")
            );
        };
        println!(
            "user-message over TLS ({} messages of one handover; loopback simulator):",
            self.iters
        );
        row("  pooled, one HTTP/2 connection", self.pooled);
        row("  pooled, HTTP/1.1 keep-alive", self.pooled_http1);
        row("  fresh connection per request", self.fresh);
        println!(
            "{:<38} {:>14}",
            "  fresh / pooled",
            format!("{:.2}", self.fresh.0 / self.pooled.0)
        );
    }

    /// `hooks_us["user-message-tls"]`.
    pub(crate) fn json(&self) -> Value {
        json!({
            "pooled": self.pooled.0,
            "pooled_http1": self.pooled_http1.0,
            "fresh": self.fresh.0,
            "connections_opened": {
                "pooled": self.pooled.1,
                "pooled_http1": self.pooled_http1.1,
                "fresh": self.fresh.1
            },
            "messages": self.iters
        })
    }
}
