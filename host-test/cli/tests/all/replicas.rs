//! Many replicas over one Redis: the `serve` processes of the multi-replica suites (and
//! their helpers), the load of `load.rs` on three replicas with one killed -9 and restarted
//! mid-run (and on one replica, the baseline of the printed figures), and the crash window
//! between a webhook's call and its queue, made certain.

use crate::load::{texts, Disrupt};
use crate::support::artifact;
use genesys_om_host::Store;
use genesys_sim::{request, AgentSends, Simulator};
use handover_testkit::{free_port, Child, RedisServer, TempDir};
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

pub const CLIENT_ID: &str = "replica-client";
pub const CLIENT_SECRET: &str = "replica-client-secret";
pub const SECRET: &str = "replica-webhook-secret";
pub const DEPLOYMENT: &str = "ReplicaDeployment";

/// A tenants directory with tenant `acme` on the release component.
pub fn tenants_dir(dir: &Path) {
    tenants_dir_with(dir, &[]);
}

/// The same, with more provider settings.
pub fn tenants_dir_with(dir: &Path, settings: &[(&str, &str)]) {
    std::fs::copy(artifact("genesys-om-handover.wasm"), dir.join("acme.wasm")).unwrap();
    let mut file = json!({
        "component": "acme.wasm", "events-api-key": "acme-events-key",
        "config": { "host": "mypurecloud.de", "deployment-name": DEPLOYMENT, "webhook-secret": SECRET,
                    "client-id": CLIENT_ID, "client-secret": CLIENT_SECRET, "queue-id": "q" }
    });
    for (k, v) in settings {
        file["config"][*k] = json!(v);
    }
    std::fs::write(dir.join("acme.json"), file.to_string()).unwrap();
}

/// One `host-test serve` process.
/// `serve`'s arguments for a replica of these suites: tenants from the working directory,
/// the store at `kv`, Genesys at `genesys`, a flush round every second and the inactivity
/// round every `inactivity_every` seconds (0: none).
pub fn serve_args(kv: &str, genesys: &str, inactivity_every: u32) -> Vec<String> {
    let every = inactivity_every.to_string();
    [
        "--tenants",
        ".",
        "--kv",
        kv,
        "--genesys-base-url",
        genesys,
        "--cache",
        "cache",
        "--flush-every",
        "1",
        "--inactivity-every",
        &every,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

pub struct Replica {
    pub port: u16,
    args: Vec<String>,
    cwd: std::path::PathBuf,
    child: Option<Child>,
}

impl Replica {
    pub fn spawn(cwd: &Path, extra: &[String]) -> Replica {
        let port = free_port();
        let mut args: Vec<String> = ["serve", "--port", &port.to_string()]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.extend(extra.iter().cloned());
        let mut r = Replica {
            port,
            args,
            cwd: cwd.to_path_buf(),
            child: None,
        };
        r.start();
        r
    }

    pub fn start(&mut self) {
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_host-test"))
            .args(&self.args)
            .current_dir(&self.cwd)
            .env("RUST_LOG", "warn")
            .env("FEATURE_ENABLE_GENESYS_CLOUD_OM", "true")
            .env("FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST", "*")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("host-test serve starts");
        self.child = Some(Child::new(child));
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "replica on {} never listened",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL, no goodbye.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill_now();
        }
    }

    /// SIGTERM: the replica drains; its process, to wait for.
    pub fn terminate(&mut self) -> std::process::Child {
        let child = self.child.take().expect("running").into_inner();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        child
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// The outcome of one request: answered, refused before it was sent (safe to send
/// elsewhere), or lost on the way (it may or may not have been handled).
pub enum Sent {
    Answered(u16, Value),
    Refused,
    Lost,
}

pub async fn send(method: &str, url: &str, body: &[u8]) -> Sent {
    send_with(method, url, &[], body).await
}

/// [`send`] with more headers.
pub async fn send_with(method: &str, url: &str, more: &[(String, String)], body: &[u8]) -> Sent {
    let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
    headers.extend(more.iter().cloned());
    match request(method, url, &headers, body).await {
        Ok((status, out)) => {
            Sent::Answered(status, serde_json::from_slice(&out).unwrap_or(Value::Null))
        }
        Err(e) if format!("{e:#}").contains("onnection refused") => Sent::Refused,
        Err(_) => Sent::Lost,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_over_one_redis_lose_and_repeat_nothing() {
    let redis = RedisServer::for_test();
    let counted = crate::load::run(&redis.url(), 3, Disrupt::Kill).await;
    assert!(counted.nothing(), "{counted:?}");
}

/// The same load on one replica: the baseline for the figures.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_replica_over_redis_loses_and_repeats_nothing() {
    let redis = RedisServer::for_test();
    let counted = crate::load::run(&redis.url(), 1, Disrupt::Nothing).await;
    assert!(counted.nothing(), "{counted:?}");
}

/// The crash window, made certain: a replica runs `agent-message` for a webhook (the
/// component counts its message id) and dies before its actions reach the session's queue.
/// Genesys's retry of the same webhook, on a replica that lives, queues them; further
/// copies queue nothing; the handover's end forgets the delivery keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_whose_first_call_died_before_its_queue_is_delivered_by_a_copy() {
    use crate::support::{settings, transcript, user, webhook};
    use genesys_om_host::bindings::types::EndSignal;
    use genesys_om_host::server::{Call, ServeOptions, Server};
    use genesys_om_host::Egress;

    let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await.unwrap();
    sim.add_integration(DEPLOYMENT, "", SECRET);
    let dir = TempDir::with_prefix("crash-window").unwrap();
    tenants_dir(dir.path());
    let egress = Egress::redirect(&sim.base_url()).unwrap();
    let mut opts = ServeOptions::new(dir.path().to_path_buf(), Store::memory(), egress);
    opts.cache_dir = dir.path().join("cache");
    let server = Server::new(opts, genesys_om_host::engine().unwrap());
    let acme = server.tenant("acme").await.unwrap();
    let u = user("crash-user");
    let started = server
        .run(&acme, Call::Start(u.clone(), transcript(), settings()))
        .await
        .unwrap();
    assert!(started.is_ok(), "{started:?}");
    let conv = sim.conversation_of("crash-user").unwrap().id;
    let w = webhook(
        sim.webhook(&conv, AgentSends::Text("said once".into()))
            .unwrap(),
    );

    // The replica that died: the hook ran, its outcome went nowhere.
    let lost = acme.plugin.agent_message(&acme.tenant, &w).await.unwrap();
    assert!(lost.unwrap().warnings.is_empty(), "the first copy");
    for _ in 0..3 {
        let o = server
            .run(&acme, Call::AgentMessage(w.clone()))
            .await
            .unwrap();
        assert!(o.is_ok(), "{o:?}");
    }
    let queued = server
        .bus
        .take("acme", &u.session_id, None, Duration::ZERO)
        .await
        .unwrap();
    let queued: Vec<Value> = queued.actions.into_iter().map(|d| d.action).collect();
    assert_eq!(texts(&queued), ["said once"], "delivered once: {queued:?}");

    let delivered = format!("bus-delivered/acme/{}", u.session_id);
    assert_eq!(server.kv.set_members(&delivered).await.unwrap().len(), 1);
    let end = EndSignal::UserLeft("crash-user".into());
    let ended = server.run(&acme, Call::End(end)).await.unwrap();
    assert!(ended.is_ok(), "{ended:?}");
    assert!(
        server.kv.set_members(&delivered).await.unwrap().is_empty(),
        "the ended handover's delivery keys are gone"
    );
}
