//! `host-test bench --against OTHER.wasm`: two builds measured in alternating rounds in one
//! process, so that a noisy machine (other tenants, frequency changes) slows both alike; the
//! figure that counts is the median of the per-round ratios, not either absolute time.

use super::component_hooks;
use super::inputs::{in_process, median};
use anyhow::Result;
use genesys_om_handover::testing::MapConfig;
use genesys_om_host::{Plugin, Store, Tenant};
use std::path::Path;
use wasmtime::component::Component;

/// Rounds of each build, alternating.
const ROUNDS: usize = 15;
/// Handovers per round.
const PER_ROUND: usize = 60;

/// Print, for `wasm` and `other`, the best round's figures and the median per-round ratio
/// (other ÷ wasm) of agent-message, verify + parse, and the refusal path.
pub async fn run(wasm: &Path, other: &Path) -> Result<()> {
    let engine = genesys_om_host::engine()?;
    let tenant = Tenant::new("bench", MapConfig::working().0);
    let plugin = |p: &Path| -> Result<Plugin> {
        let c = Component::new(&engine, std::fs::read(p)?)?;
        Plugin::from_component(&engine, &c, in_process(), Store::memory())
    };
    let (a, b) = (plugin(wasm)?, plugin(other)?);
    let mut rows: [Vec<[f64; 3]>; 2] = [Vec::new(), Vec::new()];
    for round in 0..ROUNDS {
        // Alternate which goes first, so neither always follows the other.
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            let p = if i == 0 { &a } else { &b };
            let (t, _, _, refuse, verify) = component_hooks(p, &tenant, PER_ROUND).await?;
            rows[i].push([t[2], verify, refuse]);
        }
    }
    let names = ["agent-message", "verify + parse", "refusal"];
    println!(
        "{:<16} {:>12} {:>12} {:>22}",
        "µs (best round)",
        short(wasm),
        short(other),
        "ratio (median of rounds)"
    );
    for (k, name) in names.iter().enumerate() {
        let best = |i: usize| rows[i].iter().map(|r| r[k]).fold(f64::MAX, f64::min);
        let ratios: Vec<f64> = (0..ROUNDS).map(|r| rows[1][r][k] / rows[0][r][k]).collect();
        println!(
            "{:<16} {:>12.1} {:>12.1} {:>22.3}",
            name,
            best(0),
            best(1),
            median(ratios)
        );
    }
    Ok(())
}

fn short(p: &Path) -> String {
    p.file_name().map_or_else(String::new, |n| {
        n.to_string_lossy().chars().take(12).collect()
    })
}
