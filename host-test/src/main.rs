//! `host-test`: try the genesys-om-handover component without a bot platform.
//!
//! Commands: `demo` (a whole scripted handover), `run SCENARIO.json` (hooks from a file, one
//! JSON line per result), `simulator` (a Genesys Cloud simulator on loopback).

use anyhow::{bail, Context, Result};
use host_test::kv::KvStore;
use host_test::runtime::{default_wasm_path, engine, Plugin, Router};
use host_test::{demo, scenario, simulator::Simulator};
use std::path::PathBuf;

const USAGE: &str = "usage:
  host-test demo [serve] [--wasm FILE]
  host-test run SCENARIO.json [--genesys-base-url http://127.0.0.1:PORT] [--wasm FILE]
  host-test serve --tenants DIR [--port PORT] [--genesys-base-url URL]
  host-test bench [--iterations N] [--out DIR] [--wasm FILE]
  host-test simulator [--port PORT] [--client-id ID --client-secret SECRET]
                      [--deployment NAME --webhook-secret SECRET]";

struct Args {
    positional: Vec<String>,
    options: std::collections::HashMap<String, String>,
}

fn parse(args: impl Iterator<Item = String>) -> Result<Args> {
    let mut positional = Vec::new();
    let mut options = std::collections::HashMap::new();
    let mut it = args.peekable();
    while let Some(a) = it.next() {
        if let Some(name) = a.strip_prefix("--") {
            let value = it
                .next()
                .with_context(|| format!("--{name} needs a value\n{USAGE}"))?;
            options.insert(name.to_string(), value);
        } else {
            positional.push(a);
        }
    }
    Ok(Args {
        positional,
        options,
    })
}

fn wasm(args: &Args) -> PathBuf {
    args.options
        .get("wasm")
        .map(PathBuf::from)
        .unwrap_or_else(default_wasm_path)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = parse(std::env::args().skip(1))?;
    match args.positional.first().map(String::as_str) {
        Some("demo") if args.positional.get(1).map(String::as_str) == Some("serve") => {
            demo::run_served(&wasm(&args)).await?;
        }
        Some("demo") => {
            demo::run(&wasm(&args)).await?;
        }
        Some("run") => {
            let file = args
                .positional
                .get(1)
                .with_context(|| format!("run needs a scenario file\n{USAGE}"))?;
            let text = std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
            let sc: scenario::Scenario =
                serde_json::from_str(&text).with_context(|| format!("parsing {file}"))?;
            // Without a URL, start a simulator that knows the scenario's tenant.
            let (base, _sim) = match args.options.get("genesys-base-url") {
                Some(url) => (url.clone(), None),
                None => {
                    let get = |k: &str| sc.config.get(k).cloned().unwrap_or_default();
                    let sim = Simulator::start(&get("client-id"), &get("client-secret")).await?;
                    sim.add_integration(&get("deployment-name"), "", &get("webhook-secret"));
                    (sim.base_url(), Some(sim))
                }
            };
            let url: http::Uri = base.parse().context("--genesys-base-url")?;
            if !matches!(
                url.host(),
                Some("127.0.0.1" | "localhost" | "[::1]" | "::1")
            ) {
                bail!("--genesys-base-url must be a loopback address");
            }
            let plugin = Plugin::load(
                &engine()?,
                &wasm(&args),
                Router::to(url),
                KvStore::default(),
            )?;
            for line in scenario::run(&plugin, &sc).await? {
                println!("{line}");
            }
        }
        Some("bench") => {
            let iters = args
                .options
                .get("iterations")
                .map(|s| s.parse())
                .transpose()
                .context("--iterations")?
                .unwrap_or(500);
            let out = args
                .options
                .get("out")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("target/bench"));
            host_test::bench::run(&wasm(&args), &out, iters).await?;
        }
        Some("serve") => {
            let dir = args
                .options
                .get("tenants")
                .with_context(|| format!("serve needs --tenants DIR\n{USAGE}"))?;
            let port: u16 = args
                .options
                .get("port")
                .map(|p| p.parse())
                .transpose()
                .context("--port")?
                .unwrap_or(8080);
            let router = match args.options.get("genesys-base-url") {
                Some(url) => {
                    let url: http::Uri = url.parse().context("--genesys-base-url")?;
                    if !matches!(
                        url.host(),
                        Some("127.0.0.1" | "localhost" | "[::1]" | "::1")
                    ) {
                        bail!("--genesys-base-url must be a loopback address");
                    }
                    Router::to(url)
                }
                None => Router::none(),
            };
            let opts = host_test::serve::ServeOptions {
                tenants_dir: PathBuf::from(dir),
                listen: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
                router,
                cache_dir: PathBuf::from("target/serve-cache"),
                enabled: true,
                whitelist: vec!["*".into()],
            }
            .flags_from_env();
            let server = host_test::serve::Server::new(opts, engine()?);
            let addr = host_test::serve::start(server).await?;
            println!("serving tenants on http://{addr}");
            tokio::signal::ctrl_c().await?;
        }
        Some("simulator") => {
            let o = |k: &str, d: &str| {
                args.options
                    .get(k)
                    .cloned()
                    .unwrap_or_else(|| d.to_string())
            };
            let sim = Simulator::start_on(
                o("port", "0").parse().context("--port")?,
                &o("client-id", demo::CLIENT_ID),
                &o("client-secret", demo::CLIENT_SECRET),
            )
            .await?;
            let id = sim.add_integration(
                &o("deployment", demo::DEPLOYMENT),
                "",
                &o("webhook-secret", demo::WEBHOOK_SECRET),
            );
            println!("Genesys Cloud simulator listening on {}", sim.base_url());
            println!("integration {} = {id}", o("deployment", demo::DEPLOYMENT));
            tokio::signal::ctrl_c().await?;
        }
        _ => bail!("{USAGE}"),
    }
    Ok(())
}
