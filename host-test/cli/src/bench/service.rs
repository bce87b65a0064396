//! The service benchmark: `serve --kv redis://` (a child process, on the release component,
//! Genesys played by the simulator) and the Node.js peer service
//! (`host-test/node/peer-server.mjs`, `node:http` and the official Redis client) take the
//! same signed agent webhooks, one after the other, against one `redis-server`, from one
//! load generator ([`super::load`]): the same connections, the same open handovers, the
//! same bytes. Every webhook has a message id of its own (each service de-duplicates ids),
//! so both do the whole agent-message path every time. Figures: requests/s, p50 and p99,
//! and the store round trips per webhook (serve's from `/metrics`, the peer's own count);
//! plus serve's round trips per hook.

use super::capacity::{collect_actions, idle_polls, redis_memory, Kept, Meter};
use super::load::{drive, post, Run};
use anyhow::{bail, Context, Result};
use genesys_sim::{request, AgentSends, Simulator};
use handover_testkit::{free_port, Child, RedisServer, TempDir};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncBufReadExt;

/// Keep-alive connections the load generator keeps busy.
pub const CONNECTIONS: usize = 32;
/// Handovers open while the webhooks arrive (each webhook is for one of them, in turn).
pub const OPEN_HANDOVERS: usize = 64;
const CLIENT_ID: &str = "bench-client";
const CLIENT_SECRET: &str = "bench-client-secret";
const SECRET: &str = "bench-webhook-secret";
const DEPLOYMENT: &str = "BenchDeployment";
/// User messages each open handover gets (enough calls for `/proc`'s 10 ms ticks).
const USER_MESSAGES: usize = 8;
/// Where both services take the webhooks.
const PATH: &str = "/handover/genesysCloudOM/acme";

/// One service's figures.
pub struct Figures {
    /// Requests answered per second.
    pub rps: f64,
    /// Median latency.
    pub p50_ms: f64,
    /// 99th percentile latency.
    pub p99_ms: f64,
    /// Store round trips per webhook.
    pub round_trips: f64,
}

impl Figures {
    fn of(run: &Run, round_trips: f64) -> Self {
        Figures {
            rps: run.rps(),
            p50_ms: run.quantile_ms(0.5),
            p99_ms: run.quantile_ms(0.99),
            round_trips,
        }
    }

    fn json(&self) -> Value {
        json!({ "rps": self.rps, "p50_ms": self.p50_ms, "p99_ms": self.p99_ms,
                "round_trips": self.round_trips })
    }
}

/// What the service benchmark measured.
pub struct Service {
    /// Webhooks measured per service (after as many warm-up webhooks as a tenth of them).
    pub requests: usize,
    /// `serve --kv redis://`.
    pub serve: Figures,
    /// The Node.js peer, or why there is none.
    pub node: Result<Figures, String>,
    /// What a call of `start`, `user-message`, `agent-message` (the measured webhooks) and
    /// `end` cost through serve.
    pub per_hook: Vec<HookCost>,
    /// What Redis keeps, in bytes (see [`Kept`]).
    pub kept: Kept,
}

/// What one hook call cost through serve, averaged over a phase of calls.
pub struct HookCost {
    /// The hook.
    pub hook: String,
    /// Store round trips (serve's `/metrics`).
    pub round_trips: f64,
    /// CPU of the serve process, in µs.
    pub serve_cpu_us: f64,
    /// CPU of redis-server, in µs.
    pub redis_cpu_us: f64,
}

impl Service {
    /// The printed table.
    pub fn print(&self) {
        println!(
            "service: {} signed agent webhooks (1 KiB) over {CONNECTIONS} keep-alive connections, \
             {OPEN_HANDOVERS} open handovers, one redis-server:",
            self.requests
        );
        println!(
            "{:<38} {:>12} {:>9} {:>9} {:>22}",
            "service", "requests/s", "p50", "p99", "store round trips/call"
        );
        let row = |name: &str, f: &Figures| {
            println!(
                "{name:<38} {:>12} {:>9} {:>9} {:>22}",
                format!("{:.0}", f.rps),
                format!("{:.2} ms", f.p50_ms),
                format!("{:.2} ms", f.p99_ms),
                format!("{:.1}", f.round_trips)
            )
        };
        row("serve --kv redis://", &self.serve);
        match &self.node {
            Ok(f) => row("Node.js peer (node:http + redis)", f),
            Err(why) => println!("{:<38} {why}", "Node.js peer (node:http + redis)"),
        }
        println!(
            "{:<38} {:>12} {:>16} {:>16}",
            "per call through serve", "round trips", "serve CPU", "redis CPU"
        );
        for c in &self.per_hook {
            println!(
                "{:<38} {:>12} {:>16} {:>16}",
                c.hook,
                format!("{:.1}", c.round_trips),
                format!("{:.0} µs", c.serve_cpu_us),
                format!("{:.0} µs", c.redis_cpu_us)
            );
        }
        let k = &self.kept;
        println!(
            "kept in Redis: {:.0} bytes and {:.1} keys per open handover; per user message \
             {:.0} bytes, per agent message {:.0} bytes ({:.0} while its action waits for the bot)",
            k.handover_bytes,
            k.handover_keys,
            k.user_message_bytes,
            k.agent_message_bytes,
            k.queued_action_bytes
        );
        println!(
            "one long-poll waiting on an empty session: {:.0} µs CPU per second in serve, {:.0} µs in Redis; {:.0} bytes of serve's memory",
            k.idle_poll.serve_cpu_us, k.idle_poll.redis_cpu_us, k.idle_poll.held_bytes
        );
    }

    /// `service` and `store_round_trips` of bench.json.
    pub fn json(&self) -> (Value, Value) {
        let node = self.node.as_ref().map_or(Value::Null, Figures::json);
        let hooks: serde_json::Map<String, Value> = self
            .per_hook
            .iter()
            .map(|c| (c.hook.clone(), json!(c.round_trips)))
            .collect();
        let cpu: serde_json::Map<String, Value> = self
            .per_hook
            .iter()
            .map(|c| {
                let v = json!({"serve": c.serve_cpu_us, "redis": c.redis_cpu_us});
                (c.hook.clone(), v)
            })
            .collect();
        let k = &self.kept;
        let kept = json!({
            "handover_bytes": k.handover_bytes, "handover_keys": k.handover_keys,
            "user_message_bytes": k.user_message_bytes,
            "agent_message_bytes": k.agent_message_bytes,
            "queued_action_bytes": k.queued_action_bytes,
            "idle_poll_cpu_us_per_s": {"serve": k.idle_poll.serve_cpu_us, "redis": k.idle_poll.redis_cpu_us},
            "idle_poll_held_bytes": k.idle_poll.held_bytes,
        });
        (
            json!({ "serve": self.serve.json(), "node": node, "requests": self.requests,
                    "connections": CONNECTIONS, "open_handovers": OPEN_HANDOVERS,
                    "cpu_us_per_call": cpu, "redis_kept": kept }),
            Value::Object(hooks),
        )
    }
}

/// Run both services on `wasm`'s component; None without `redis-server`.
pub async fn run(wasm: &Path, iters: usize) -> Result<Option<Service>> {
    let Ok(redis) = RedisServer::start() else {
        println!("(redis-server is not installed: no service figures; `make redis` installs it)");
        return Ok(None);
    };
    let requests = (iters * 40).max(1000);
    let warmup = requests / 10;
    let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await?;
    sim.add_integration(DEPLOYMENT, "", SECRET);
    let dir = TempDir::with_prefix("bench-service")?;
    let serve = Serve::start(dir.path(), wasm, &redis.url(), &sim.base_url())?;
    let base = format!("http://127.0.0.1:{}", serve.port);
    let pids = (serve.pid, redis.pid().context("redis-server's pid")?);
    let n = OPEN_HANDOVERS as f64;
    let memory = || redis_memory(redis.port());

    // The open handovers, each hook's round trips measured over its phase.
    let users: Vec<String> = (0..OPEN_HANDOVERS).map(|i| format!("svc-{i}")).collect();
    let mut per_hook = Vec::new();
    // One handover first: the component compiled, the token and the integration cached.
    let body = json!({"user": {"user_id": "svc-warm", "session_id": "svc-warm-session"}});
    ok(&base, "/api/acme/start", &[], &body.to_string()).await?;
    let body = json!({"user_id": "svc-warm", "reason": "user_left"});
    ok(&base, "/api/acme/end", &[], &body.to_string()).await?;
    let empty = memory()?;
    let phase = Phase::begin(&base, "start", pids).await?;
    for u in &users {
        let body = json!({"user": {"user_id": u, "session_id": format!("{u}-session")}});
        ok(&base, "/api/acme/start", &[], &body.to_string()).await?;
    }
    per_hook.push(phase.end().await?);
    let started = memory()?;
    let phase = Phase::begin(&base, "user-message", pids).await?;
    for i in 0..USER_MESSAGES {
        for u in &users {
            let body = json!({"user_id": u, "text": format!("Hello, anyone there? ({i})")});
            ok(&base, "/api/acme/message", &[], &body.to_string()).await?;
        }
    }
    per_hook.push(phase.end().await?);
    let said = memory()?;
    let mut conversations = Vec::new();
    for u in &users {
        let conv = sim.conversation_of(u).context("a conversation")?.id;
        // The agent's greeting announces the agent: the webhooks measured are content only.
        let w = sim.webhook(&conv, AgentSends::Text("Hi, Alex here.".into()))?;
        ok(&base, PATH, &w.headers, &String::from_utf8_lossy(&w.body)).await?;
        conversations.push(conv);
    }
    collect_actions(&base, &users).await?;
    let open = memory()?;

    // The webhooks, each a message id of its own: the same bytes for both services.
    let text = "x".repeat(620);
    let mut webhooks = Vec::with_capacity(warmup + requests);
    for i in 0..warmup + requests {
        let w = sim.webhook(
            &conversations[i % OPEN_HANDOVERS],
            AgentSends::Text(text.clone()),
        )?;
        webhooks.push(post(PATH, &w.headers, &w.body));
    }
    let webhooks = Arc::new(webhooks);
    let measured = warmup..warmup + requests;

    drive(serve.port, webhooks.clone(), 0..warmup, CONNECTIONS).await?;
    let phase = Phase::begin(&base, "agent-message", pids).await?;
    let serve_run = drive(serve.port, webhooks.clone(), measured.clone(), CONNECTIONS).await?;
    let agent = phase.end().await?;
    let serve_figures = Figures::of(&serve_run, agent.round_trips);
    per_hook.push(agent);
    let queued = memory()?;
    collect_actions(&base, &users).await?;
    let collected = memory()?;
    let idle_poll = idle_polls(&base, &users, pids).await?;
    let messages = (warmup + requests) as f64;
    let kept = Kept {
        handover_bytes: (open.0 - empty.0) / n,
        handover_keys: (open.1 - empty.1) / n,
        user_message_bytes: (said.0 - started.0) / (n * USER_MESSAGES as f64),
        agent_message_bytes: (collected.0 - open.0) / messages,
        queued_action_bytes: (queued.0 - open.0) / messages,
        idle_poll,
    };
    let phase = Phase::begin(&base, "end", pids).await?;
    for u in &users {
        let body = json!({"user_id": u, "reason": "user_left"});
        ok(&base, "/api/acme/end", &[], &body.to_string()).await?;
    }
    per_hook.push(phase.end().await?);
    drop(serve);

    let handovers: Vec<Value> = users
        .iter()
        .zip(&conversations)
        .map(|(u, c)| json!({"user_id": u, "session_id": format!("{u}-session"), "conversation_id": c}))
        .collect();
    let input = dir.join("peer-input.json");
    std::fs::write(
        &input,
        json!({"secret": SECRET, "handovers": handovers}).to_string(),
    )?;
    let node = match NodePeer::start(&input, &redis.url()).await {
        Ok(peer) => {
            drive(peer.port, webhooks.clone(), 0..warmup, CONNECTIONS).await?;
            let before = peer.stats().await?;
            let run = drive(peer.port, webhooks, measured, CONNECTIONS).await?;
            let after = peer.stats().await?;
            let webhooks = after.1 - before.1;
            if webhooks != requests as f64 {
                bail!("the Node.js peer counted {webhooks} webhooks of {requests}");
            }
            Ok(Figures::of(&run, (after.0 - before.0) / webhooks))
        }
        Err(e) => Err(format!("did not run: {e:#}")),
    };
    Ok(Some(Service {
        requests,
        serve: serve_figures,
        node,
        per_hook,
        kept,
    }))
}

/// `host-test serve` as a child process (this very binary), over Redis, Genesys at the
/// simulator, timers off; killed on drop.
struct Serve {
    port: u16,
    pid: u32,
    _child: Child,
}

impl Serve {
    fn start(dir: &Path, wasm: &Path, redis: &str, genesys: &str) -> Result<Serve> {
        std::fs::copy(wasm, dir.join("acme.wasm"))?;
        let file = json!({
            "component": "acme.wasm", "events-api-key": "acme-events-key",
            "config": { "host": "mypurecloud.de", "deployment-name": DEPLOYMENT,
                        "webhook-secret": SECRET, "client-id": CLIENT_ID,
                        "client-secret": CLIENT_SECRET }
        });
        std::fs::write(dir.join("acme.json"), file.to_string())?;
        let port = free_port();
        let child = std::process::Command::new(std::env::current_exe()?)
            .args(["serve", "--port", &port.to_string(), "--tenants"])
            .arg(dir)
            .args(["--kv", redis, "--genesys-base-url", genesys, "--cache"])
            .arg(dir.join("cache"))
            .args(["--flush-every", "0", "--inactivity-every", "0"])
            .env("RUST_LOG", "warn")
            .env("FEATURE_ENABLE_GENESYS_CLOUD_OM", "true")
            .env("FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST", "*")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .context("starting host-test serve")?;
        let child = Child::new(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("host-test serve never listened on {port}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Serve {
            port,
            pid: child.id(),
            _child: child,
        })
    }
}

/// A POST that must be answered 200.
async fn ok(base: &str, path: &str, headers: &[(String, String)], body: &str) -> Result<()> {
    let mut headers = headers.to_vec();
    if headers.is_empty() {
        headers.push(("content-type".into(), "application/json".into()));
    }
    let (status, out) =
        request("POST", &format!("{base}{path}"), &headers, body.as_bytes()).await?;
    if status != 200 {
        bail!(
            "{path} answered {status}: {}",
            String::from_utf8_lossy(&out)
        );
    }
    Ok(())
}

/// A stretch of calls of one hook through serve: its round trips per call from `/metrics`,
/// and the CPU serve and Redis spent on it.
struct Phase {
    base: String,
    hook: &'static str,
    at: (f64, f64),
    meter: Meter,
}

impl Phase {
    async fn begin(base: &str, hook: &'static str, pids: (u32, u32)) -> Result<Phase> {
        let at = counters(base, hook).await?;
        Ok(Phase {
            base: base.to_string(),
            hook,
            at,
            meter: Meter::begin(pids.0, pids.1)?,
        })
    }

    async fn end(self) -> Result<HookCost> {
        let (calls, trips) = counters(&self.base, self.hook).await?;
        let calls = calls - self.at.0;
        if calls <= 0.0 {
            bail!("no {} call was counted", self.hook);
        }
        let (serve_cpu_us, redis_cpu_us) = self.meter.per_call_us(calls)?;
        Ok(HookCost {
            hook: self.hook.to_string(),
            round_trips: (trips - self.at.1) / calls,
            serve_cpu_us,
            redis_cpu_us,
        })
    }
}

/// (hook calls, store round trips) of acme's `hook` so far, from serve's `/metrics`.
async fn counters(base: &str, hook: &str) -> Result<(f64, f64)> {
    let (_, body) = request("GET", &format!("{base}/metrics"), &[], b"").await?;
    let text = String::from_utf8_lossy(&body);
    let value = |name: &str| {
        let series = format!("{name}{{tenant=\"acme\",hook=\"{hook}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&series)?.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    Ok((
        value("handover_hook_calls_total"),
        value("handover_store_round_trips_total"),
    ))
}

/// `node host-test/node/peer-server.mjs`, killed on drop.
struct NodePeer {
    port: u16,
    _child: tokio::process::Child,
}

impl NodePeer {
    async fn start(input: &Path, redis: &str) -> Result<NodePeer> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../node/peer-server.mjs");
        let port = free_port();
        let mut child = tokio::process::Command::new("node")
            .arg(&script)
            .arg(port.to_string())
            .arg(redis)
            .arg(input)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("starting node (is Node.js installed?)")?;
        let stdout = child.stdout.take().context("the peer's stdout")?;
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await;
        match first {
            Ok(Ok(Some(l))) if l.starts_with("listening") => Ok(NodePeer {
                port,
                _child: child,
            }),
            _ => bail!(
                "the peer did not start (its Redis client comes from `npm install` in \
                 host-test/node, which `make bench` runs)"
            ),
        }
    }

    /// (round trips, webhooks) the peer counted so far.
    async fn stats(&self) -> Result<(f64, f64)> {
        let url = format!("http://127.0.0.1:{}/stats", self.port);
        let (_, body) = request("GET", &url, &[], b"").await?;
        let v: Value = serde_json::from_slice(&body)?;
        match (v["round_trips"].as_f64(), v["webhooks"].as_f64()) {
            (Some(r), Some(w)) => Ok((r, w)),
            _ => bail!("the peer's stats: {v}"),
        }
    }
}
