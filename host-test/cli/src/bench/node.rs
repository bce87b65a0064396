//! The Node.js peer: `host-test/node/bench-peer.mjs` does the agent-message hot path the
//! way a Node.js provider does, on the very webhook bytes the component gets, in the same
//! run. Node is on the machines this runs on; without it the column says so.

use super::inputs::webhook;
use anyhow::{bail, Context, Result};
use genesys_om_handover::testing::fixtures::WEBHOOK_SECRET;
use serde_json::{json, Value};
use std::path::Path;

/// The peer's medians: (agent-message µs, verify + parse µs), or None without `node`.
pub fn peer(out_dir: &Path, iters: usize) -> Result<Option<(f64, f64)>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../node/bench-peer.mjs");
    let webhooks: Vec<Value> = (0..iters)
        .map(|i| {
            let (headers, body) = webhook(&format!("node-user-{}", i % 50), 3_000_000 + i);
            let signature = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("x-hub-signature-256"))
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            json!({ "signature": signature, "body": String::from_utf8_lossy(&body) })
        })
        .collect();
    let input = out_dir.join("node-peer-input.json");
    std::fs::write(
        &input,
        json!({ "secret": WEBHOOK_SECRET, "webhooks": webhooks }).to_string(),
    )?;
    let out = match std::process::Command::new("node")
        .arg(&script)
        .arg(&input)
        .output()
    {
        Ok(o) => o,
        Err(_) => return Ok(None),
    };
    if !out.status.success() {
        bail!(
            "the Node.js peer failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let v: Value = serde_json::from_slice(&out.stdout).context("the Node.js peer's output")?;
    match (
        v["agent_message_us"].as_f64(),
        v["verify_parse_us"].as_f64(),
    ) {
        (Some(a), Some(b)) => Ok(Some((a, b))),
        _ => bail!("the Node.js peer printed {v}"),
    }
}
