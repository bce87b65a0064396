//! `host-test`: try the genesys-om-handover component without a bot platform, or run the
//! reference host for real. Commands: `demo`, `run`, `serve`, `bench`, `simulator`.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use genesys_om_host::runtime::default_wasm_path;
use genesys_om_host::server::{ServeOptions, Server};
use genesys_om_host::{engine, Egress, Plugin, Store};
use genesys_sim::Simulator;
use host_test::{demo, scenario};
use std::path::PathBuf;
use std::time::Duration;

/// mimalloc for the whole process: per-call allocations of `serve` (see `Cargo.toml`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "host-test",
    about = "Try genesys-om-handover, or host it for real"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// A whole scripted handover against a local Genesys simulator.
    Demo {
        /// `serve`: the same through the multi-tenant server (HTTP API, webhooks, long-poll).
        mode: Option<DemoMode>,
        /// Component file (default: the release build).
        #[arg(long)]
        wasm: Option<PathBuf>,
    },
    /// Run hooks from a scenario file, one JSON line per result.
    Run {
        /// The scenario file.
        scenario: PathBuf,
        /// Where Genesys hosts go (a loopback simulator); default: a simulator of its own.
        #[arg(long)]
        genesys_base_url: Option<String>,
        /// A PEM root to trust for an `https://` --genesys-base-url (the certificate
        /// `host-test simulator --tls` writes); only for that loopback redirect.
        #[arg(long, requires = "genesys_base_url")]
        genesys_ca: Option<PathBuf>,
        /// Component file (default: the release build).
        #[arg(long)]
        wasm: Option<PathBuf>,
    },
    /// The multi-tenant reference host.
    Serve {
        /// Directory of tenant files (`<tenant>.json`).
        #[arg(long, env = "GENESYS_OM_TENANTS")]
        tenants: PathBuf,
        /// Address to listen on (`0.0.0.0:8080` in a container).
        #[arg(
            long,
            env = "GENESYS_OM_LISTEN",
            default_value = "127.0.0.1:8080",
            conflicts_with = "port"
        )]
        listen: std::net::SocketAddr,
        /// Port on 127.0.0.1 (the same as `--listen 127.0.0.1:PORT`).
        #[arg(long, env = "GENESYS_OM_PORT")]
        port: Option<u16>,
        /// The store: `memory`, `file:DIR` (the default, survives a crash),
        /// `redis://HOST:PORT[/DB]` (many replicas) or
        /// `redis+cluster://HOST:PORT[,HOST:PORT…][?wait_replicas=N]` (a Redis Cluster).
        #[arg(long, env = "GENESYS_OM_KV", default_value = "file:serve-data")]
        kv: String,
        /// Send Genesys hosts to this loopback URL (a simulator) instead of Genesys Cloud.
        #[arg(long, env = "GENESYS_OM_GENESYS_BASE_URL")]
        genesys_base_url: Option<String>,
        /// A PEM root to trust for an `https://` --genesys-base-url (the certificate
        /// `host-test simulator --tls` writes); only for that loopback redirect.
        #[arg(long, env = "GENESYS_OM_GENESYS_CA", requires = "genesys_base_url")]
        genesys_ca: Option<PathBuf>,
        /// Where compiled components are cached.
        #[arg(long, env = "GENESYS_OM_CACHE", default_value = "target/serve-cache")]
        cache: PathBuf,
        /// Seconds between flushes of outboxes with something waiting (0: off).
        #[arg(long, env = "GENESYS_OM_FLUSH_EVERY", default_value_t = 5)]
        flush_every: u64,
        /// Seconds between inactivity checks of open handovers (0: off).
        #[arg(long, env = "GENESYS_OM_INACTIVITY_EVERY", default_value_t = 60)]
        inactivity_every: u64,
        /// Milliseconds a request's headers may take; also how long an idle keep-alive
        /// connection stays open.
        #[arg(long, env = "GENESYS_OM_HEADER_TIMEOUT_MS", default_value_t = 10_000)]
        header_timeout_ms: u64,
        /// Milliseconds a request's body may take.
        #[arg(long, env = "GENESYS_OM_BODY_TIMEOUT_MS", default_value_t = 20_000)]
        body_timeout_ms: u64,
        /// Connections open at once; more wait in the listen backlog.
        #[arg(long, env = "GENESYS_OM_MAX_CONNECTIONS", default_value_t = 1024)]
        max_connections: usize,
        /// Milliseconds one hook call may run before it is stopped.
        #[arg(long, env = "GENESYS_OM_HOOK_TIMEOUT_MS", default_value_t = 30_000)]
        hook_timeout_ms: u64,
        /// Milliseconds a batch of actions handed to the bot side may stay unacknowledged
        /// before it is handed out again (on any replica).
        #[arg(
            long,
            env = "GENESYS_OM_ACTION_VISIBILITY_MS",
            default_value_t = 15_000
        )]
        action_visibility_ms: u64,
        /// Seconds a session's actions are kept when no bot polls for them.
        #[arg(long, env = "GENESYS_OM_ACTION_TTL_SECS", default_value_t = 3600)]
        action_ttl_secs: u64,
        /// Milliseconds a drain (`SIGTERM`) lets requests in flight finish before exiting.
        #[arg(long, env = "GENESYS_OM_DRAIN_TIMEOUT_MS", default_value_t = 20_000)]
        drain_timeout_ms: u64,
        /// Hook calls running at once on this replica, over every tenant (the instance
        /// pool's size); a call past them waits, within its tenant's `max-queue-wait-ms`.
        #[arg(long, env = "GENESYS_OM_MAX_INSTANCES", default_value_t = genesys_om_host::engine::DEFAULT_INSTANCES)]
        max_instances: u32,
        /// Threads of a pool of their own for hook calls, apart from the HTTP workers
        /// (0: calls run on the HTTP workers, yielding at every epoch tick).
        #[arg(long, env = "GENESYS_OM_GUEST_THREADS", default_value_t = 0)]
        guest_threads: usize,
    },
    /// Component and native figures side by side.
    Bench {
        /// Handovers per figure.
        #[arg(long, default_value_t = 500)]
        iterations: usize,
        /// Where bench.json goes.
        #[arg(long, default_value = "target/bench")]
        out: PathBuf,
        /// Component file (default: the release build).
        #[arg(long)]
        wasm: Option<PathBuf>,
        /// Instead of the full benchmark: compare the hot path of this other build with
        /// `--wasm`'s, in alternating rounds, as ratios (for noisy machines).
        #[arg(long)]
        against: Option<PathBuf>,
        /// Only the service figures (`serve --kv redis://` against the Node.js peer),
        /// printed, without bench.json: for trying a change to the service path.
        #[arg(long)]
        service_only: bool,
    },
    /// A Genesys Cloud simulator on 127.0.0.1.
    Simulator {
        /// Port (0: any free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// OAuth client id it accepts.
        #[arg(long, default_value = demo::CLIENT_ID)]
        client_id: String,
        /// OAuth client secret it accepts.
        #[arg(long, default_value = demo::CLIENT_SECRET)]
        client_secret: String,
        /// Name of its Open Messaging integration.
        #[arg(long, default_value = demo::DEPLOYMENT)]
        deployment: String,
        /// The integration's webhook signature secret.
        #[arg(long, default_value = demo::WEBHOOK_SECRET)]
        webhook_secret: String,
        /// Serve HTTPS with a test certificate made at start (ALPN: h2 and http/1.1).
        #[arg(long)]
        tls: bool,
        /// With --tls: offer http/1.1 only.
        #[arg(long, requires = "tls")]
        http1_only: bool,
        /// With --tls: where to write the test CA's certificate (PEM), for a client to trust.
        #[arg(long, default_value = "target/simulator-ca.pem")]
        ca_out: PathBuf,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum DemoMode {
    /// Through `host-test serve`.
    Serve,
}

fn init_logs(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().flatten_event(true).init();
    } else {
        builder.without_time().init();
    }
}

/// The loopback redirect, trusting `ca` (a PEM file) on top of the web PKI roots if given.
fn redirect(base: &str, ca: Option<&std::path::Path>) -> Result<Egress> {
    match ca {
        None => Egress::redirect(base),
        Some(path) => {
            let pem = std::fs::read_to_string(path)
                .with_context(|| format!("--genesys-ca {}", path.display()))?;
            Egress::redirect_trusting(base, &pem)
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let wasm = |w: Option<PathBuf>| w.unwrap_or_else(default_wasm_path);
    match cli.command {
        Command::Demo {
            mode: Some(DemoMode::Serve),
            wasm: w,
        } => {
            init_logs(false);
            demo::run_served(&wasm(w)).await?;
        }
        Command::Demo {
            mode: None,
            wasm: w,
        } => {
            init_logs(false);
            demo::run(&wasm(w)).await?;
        }
        Command::Run {
            scenario: file,
            genesys_base_url,
            genesys_ca,
            wasm: w,
        } => {
            init_logs(false);
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let mut sc: scenario::Scenario = serde_json::from_str(&text)
                .with_context(|| format!("parsing {}", file.display()))?;
            // The feature source's flags, as `serve` reads them.
            let flags = genesys_om_host::flags::Flags::from_env();
            anyhow::ensure!(
                flags.allows(&sc.tenant),
                "Genesys Cloud Open Messaging is not enabled for tenant {:?}: set FEATURE_ENABLE_GENESYS_CLOUD_OM=true and FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST to * or a list naming it",
                sc.tenant
            );
            sc.config = genesys_om_host::flags::overlay(&flags.defaults, &sc.config);
            // Without a URL, start a simulator that knows the scenario's tenant.
            let (base, _sim) = match genesys_base_url {
                Some(url) => (url, None),
                None => {
                    let get = |k: &str| sc.config.get(k).cloned().unwrap_or_default();
                    let sim = Simulator::start(&get("client-id"), &get("client-secret")).await?;
                    sim.add_integration(&get("deployment-name"), "", &get("webhook-secret"));
                    (sim.base_url(), Some(sim))
                }
            };
            let plugin = Plugin::load(
                &engine()?,
                &wasm(w),
                redirect(&base, genesys_ca.as_deref())?,
                Store::memory(),
            )?;
            for line in scenario::run(&plugin, &sc).await? {
                println!("{line}");
            }
        }
        Command::Bench {
            iterations,
            out,
            wasm: w,
            against,
            service_only,
        } => match against {
            Some(other) => host_test::bench::compare::run(&wasm(w), &other).await?,
            None if service_only => host_test::bench::service_only(&wasm(w), iterations).await?,
            None => {
                host_test::bench::run(&wasm(w), &out, iterations).await?;
            }
        },
        Command::Serve {
            tenants,
            listen,
            port,
            kv,
            genesys_base_url,
            genesys_ca,
            cache,
            flush_every,
            inactivity_every,
            header_timeout_ms,
            body_timeout_ms,
            max_connections,
            hook_timeout_ms,
            action_visibility_ms,
            action_ttl_secs,
            drain_timeout_ms,
            max_instances,
            guest_threads,
        } => {
            init_logs(true);
            let egress = match genesys_base_url {
                Some(url) => redirect(&url, genesys_ca.as_deref())?,
                None => Egress::Genesys,
            };
            let store = Store::open(&kv)
                .await
                .with_context(|| format!("--kv {}", redacted(&kv)))?;
            let mut opts = ServeOptions::new(tenants, store, egress).flags_from_env();
            if !opts.flags.enabled || opts.flags.whitelist.is_empty() {
                eprintln!("warning: no tenant is served until FEATURE_ENABLE_GENESYS_CLOUD_OM=true and FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST (* or tenant names) are set");
            }
            opts.listen = port.map_or(listen, |p| ([127, 0, 0, 1], p).into());
            opts.cache_dir = cache;
            opts.flush_every = Duration::from_secs(flush_every);
            opts.inactivity_every = Duration::from_secs(inactivity_every);
            opts.conn = genesys_om_host::http::ConnLimits {
                header_timeout: Duration::from_millis(header_timeout_ms),
                body_timeout: Duration::from_millis(body_timeout_ms),
                max_connections,
            };
            opts.limits.hook_timeout = Duration::from_millis(hook_timeout_ms);
            opts.bus = genesys_om_host::bus::BusOptions {
                visibility: Duration::from_millis(action_visibility_ms.max(1)),
                ttl: Duration::from_secs(action_ttl_secs.max(1)),
            };
            opts.max_instances = max_instances;
            opts.guest_threads = guest_threads;
            let engine = genesys_om_host::engine_for(max_instances, &opts.limits)?;
            let server = Server::new(opts, engine);
            let running = genesys_om_host::serve::start_drainable(server.clone()).await?;
            println!("serving tenants on http://{} (store: {kv})", running.addr);
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
            tokio::select! {
                _ = term.recv() => {}
                r = tokio::signal::ctrl_c() => r?,
            }
            let bound = Duration::from_millis(drain_timeout_ms);
            tracing::info!(?bound, "draining");
            let closed = genesys_om_host::serve::drain(&server, running, bound).await;
            tracing::info!(closed, "drained; exiting");
            std::process::exit(0);
        }
        Command::Simulator {
            port,
            client_id,
            client_secret,
            deployment,
            webhook_secret,
            tls,
            http1_only,
            ca_out,
        } => {
            let offer = tls.then_some(if http1_only {
                genesys_sim::Tls::Http1Only
            } else {
                genesys_sim::Tls::Http2AndHttp1
            });
            let sim = Simulator::start_with(port, &client_id, &client_secret, offer).await?;
            let id = sim.add_integration(&deployment, "", &webhook_secret);
            println!("Genesys Cloud simulator listening on {}", sim.base_url());
            if let Some(pem) = sim.ca_pem() {
                if let Some(dir) = ca_out.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                std::fs::write(&ca_out, pem)?;
                println!(
                    "test CA certificate (trust it with --genesys-ca): {}",
                    ca_out.display()
                );
            }
            println!("integration {deployment} = {id}");
            tokio::signal::ctrl_c().await?;
        }
    }
    Ok(())
}

/// A store spec fit for a message: the user info of a URL (which may hold a password)
/// becomes `***`.
fn redacted(spec: &str) -> String {
    match (spec.find("://"), spec.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***{}", &spec[..scheme], &spec[at..])
        }
        _ => spec.to_string(),
    }
}
