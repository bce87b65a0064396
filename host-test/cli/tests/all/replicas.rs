//! Many replicas over one Redis: three `host-test serve` processes, every request to a
//! random replica, every agent webhook posted twice at once to two replicas, one replica
//! killed with SIGKILL and restarted mid-run. Both sides see every message once, in order.
//! The same load on a single replica is the baseline of the printed figures.

use crate::support::artifact;
use genesys_om_handover::testing::fixtures::Rng;
use genesys_om_host::bindings::types::Action;
use genesys_om_host::Store;
use genesys_sim::{request, AgentSends, Simulator};
use handover_testkit::{free_port, Child, RedisServer, TempDir};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
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

/// POST to a random replica; a refused connection moves on to another one.
pub async fn post_any(
    bases: &[String],
    rng: &Mutex<Rng>,
    path: &str,
    body: &Value,
) -> Option<(u16, Value)> {
    for _ in 0..200 {
        let i = rng.lock().unwrap().below(bases.len() as u64) as usize;
        match send(
            "POST",
            &format!("{}{path}", bases[i]),
            body.to_string().as_bytes(),
        )
        .await
        {
            Sent::Answered(s, v) => return Some((s, v)),
            Sent::Lost => return None,
            Sent::Refused => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    panic!("no replica answered {path}");
}

/// POST under an `Idempotency-Key` to a random replica until one answers other than 503;
/// a call lost on the way (its replica died) is sent again, with the same key, elsewhere.
pub async fn post_keyed(
    bases: &[String],
    rng: &Mutex<Rng>,
    path: &str,
    body: &Value,
    key: &str,
) -> (u16, Value) {
    let headers = [("idempotency-key".to_string(), key.to_string())];
    for _ in 0..2000 {
        let i = rng.lock().unwrap().below(bases.len() as u64) as usize;
        let url = format!("{}{path}", bases[i]);
        match send_with("POST", &url, &headers, body.to_string().as_bytes()).await {
            Sent::Answered(503, _) | Sent::Refused | Sent::Lost => {
                tokio::time::sleep(Duration::from_millis(10)).await
            }
            Sent::Answered(s, v) => return (s, v),
        }
    }
    panic!("no replica answered {path} under {key}");
}

fn texts(actions: &[Value]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| serde_json::from_value::<Action>(a.clone()).ok())
        .filter_map(|a| match a {
            Action::SendText(t) => Some(t.text),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_over_one_redis_lose_and_repeat_nothing() {
    over_redis(3, true).await;
}

/// The same load on one replica: the baseline for the figures.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_replica_over_redis_loses_and_repeats_nothing() {
    over_redis(1, false).await;
}

/// `count` replicas over one Redis; with `kill`, replica 0 is killed and restarted mid-run.
async fn over_redis(count: usize, kill: bool) {
    const CONVERSATIONS: usize = 30;
    const MESSAGES: usize = 10;
    let redis = RedisServer::for_test();
    let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await.unwrap();
    sim.add_integration(DEPLOYMENT, "", SECRET);
    let dir = TempDir::with_prefix("replicas").unwrap();
    tenants_dir(dir.path());
    let mut args = serve_args(&redis.url(), &sim.base_url(), 0);
    args.extend(["--action-visibility-ms".to_string(), "800".to_string()]);
    let replicas: Vec<Replica> = (0..count)
        .map(|_| Replica::spawn(dir.path(), &args))
        .collect();
    let bases: Arc<Vec<String>> = Arc::new(replicas.iter().map(Replica::base).collect());
    let replicas = Arc::new(Mutex::new(replicas));
    let rng = Arc::new(Mutex::new(Rng::new(0x9e37_79b9_7f4a_7c15)));
    let sent = Arc::new(AtomicU64::new(0));
    let started = Instant::now();

    // Kill replica 0 once a third of the user messages are through, then bring it back.
    let killer = {
        let (replicas, sent) = (replicas.clone(), sent.clone());
        tokio::spawn(async move {
            if !kill {
                return;
            }
            while sent.load(Ordering::Relaxed) < (CONVERSATIONS * MESSAGES / 3) as u64 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            replicas.lock().unwrap()[0].kill();
            tokio::time::sleep(Duration::from_millis(300)).await;
            tokio::task::spawn_blocking(move || replicas.lock().unwrap()[0].start())
                .await
                .unwrap();
        })
    };

    let mut tasks = Vec::new();
    for c in 0..CONVERSATIONS {
        let (bases, rng, sim, sent) = (bases.clone(), rng.clone(), sim.clone(), sent.clone());
        tasks.push(tokio::spawn(async move {
            let user = format!("replica-user-{c}");
            let session = format!("replica-session-{c}");
            let start = json!({"user": {"user_id": user, "session_id": session}, "transcript": [{"speaker": "user", "text": "help"}]});
            let (status, v) = post_any(&bases, &rng, "/api/acme/start", &start).await.expect("start answered");
            assert_eq!(status, 200, "{v}");
            let conv = sim.conversation_of(&user).expect("one conversation").id;
            let mut acknowledged = Vec::new();
            for i in 0..MESSAGES {
                // The bot platform's id of the turn: a call lost with its replica is sent
                // again under it, so every message is acknowledged, and at Genesys once.
                let text = format!("{user} says {i}");
                let body = json!({"user_id": user, "text": text});
                let key = format!("{user}-turn-{i}");
                let (status, v) = post_keyed(&bases, &rng, "/api/acme/message", &body, &key).await;
                assert_eq!(status, 200, "{v}");
                acknowledged.push(text);
                sent.fetch_add(1, Ordering::Relaxed);
                // The agent answers; Genesys's copy arrives twice at once, on two replicas,
                // and is posted again until one copy is answered 200 (Genesys retries).
                let w = sim.webhook(&conv, AgentSends::Text(format!("agent to {user}: {i}"))).unwrap();
                let headers: Vec<(String, String)> = w.headers.clone();
                loop {
                    let (a, b) = {
                        let mut r = rng.lock().unwrap();
                        let a = r.below(bases.len() as u64) as usize;
                        (a, (a + 1 + r.below(bases.len() as u64 - 1) as usize) % bases.len())
                    };
                    let post = |base: String| {
                        let (headers, body) = (headers.clone(), w.body.clone());
                        async move {
                            request("POST", &format!("{base}/handover/genesysCloudOM/acme"), &headers, &body)
                                .await
                                .map(|r| r.0)
                                .unwrap_or(0)
                        }
                    };
                    let (x, y) = tokio::join!(post(bases[a].clone()), post(bases[b].clone()));
                    if x == 200 || y == 200 {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            // The bot side: long-poll any replica until every agent text is in; one answer
            // in ten is dropped unread (the client went away), so its batch comes again.
            // Actions are taken once by id; a repeat must be a redelivery (same id, same
            // action), in order.
            let mut got = Vec::new();
            let mut by_id: std::collections::HashMap<String, Value> = Default::default();
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut poll = crate::support::Poll::new("acme", &session);
            let mut redelivered = 0;
            while texts(&got).len() < MESSAGES && Instant::now() < deadline {
                let (i, drop_it) = {
                    let mut r = rng.lock().unwrap();
                    (r.below(bases.len() as u64) as usize, r.below(10) == 0)
                };
                let url = format!("{}{}", bases[i], poll.next(500));
                let Sent::Answered(200, v) = send("GET", &url, b"").await else { continue };
                if drop_it {
                    continue;
                }
                for a in v["actions"].as_array().cloned().unwrap_or_default() {
                    let id = a["id"].as_str().expect("an id").to_string();
                    match by_id.get(&id) {
                        Some(first) => {
                            assert_eq!(first, &a["action"], "{user}: id {id} came with another action");
                            redelivered += 1;
                        }
                        None => {
                            by_id.insert(id, a["action"].clone());
                            got.push(a["action"].clone());
                        }
                    }
                }
                poll.took(&v);
            }
            let expected: Vec<String> = (0..MESSAGES).map(|i| format!("agent to {user}: {i}")).collect();
            assert_eq!(texts(&got), expected, "{user}: agent texts once each, in order ({redelivered} redelivered)");
            (user, session, acknowledged)
        }));
    }
    let mut done = Vec::new();
    for t in tasks {
        done.push(t.await.unwrap());
    }
    let elapsed = started.elapsed();
    killer.await.unwrap();
    println!(
        "{count} replica(s) over Redis: {} user messages and {} agent webhooks (posted twice) in {:.2} s: {:.0} user messages/s",
        CONVERSATIONS * MESSAGES,
        CONVERSATIONS * MESSAGES,
        elapsed.as_secs_f64(),
        (CONVERSATIONS * MESSAGES) as f64 / elapsed.as_secs_f64()
    );

    // Genesys's side: every acknowledged message once, in order; nothing twice. Waited for
    // until every acknowledged message arrived and no outbox has anything waiting (the
    // flush timer's rounds send what a killed replica left), so nothing more is coming.
    let kv = Store::open_redis(&redis.url()).await.unwrap();
    let records = genesys_om_host::records::Records::new(kv.clone());
    crate::support::wait_until(
        "every acknowledged message at Genesys and no outbox waiting",
        Duration::from_secs(60),
        || async {
            let all_arrived = done.iter().all(|(user, _, acknowledged)| {
                let arrived = sim.texts_of(user);
                acknowledged.iter().all(|t| arrived.contains(t))
            });
            all_arrived && records.pending("acme").await.unwrap().is_empty()
        },
    )
    .await;
    for (user, _, acknowledged) in &done {
        let arrived: Vec<String> = sim
            .texts_of(user)
            .into_iter()
            .filter(|t| t.contains(" says "))
            .collect();
        let unique: std::collections::HashSet<&String> = arrived.iter().collect();
        assert_eq!(
            unique.len(),
            arrived.len(),
            "{user}: nothing twice: {arrived:?}"
        );
        assert_eq!(
            arrived.len(),
            MESSAGES,
            "{user}: every message: {arrived:?}"
        );
        let acked_order: Vec<&String> = arrived
            .iter()
            .filter(|t| acknowledged.contains(t))
            .collect();
        assert_eq!(
            acked_order.len(),
            acknowledged.len(),
            "{user}: every acknowledged message arrived: {arrived:?}"
        );
        assert!(
            acked_order.iter().zip(acknowledged).all(|(a, b)| *a == b),
            "{user}: in order: {arrived:?}"
        );
    }

    // Every handover ends, and leaves nothing behind in Redis.
    for (user, _, _) in &done {
        let body = json!({"user_id": user, "reason": "bot_closed"});
        let (status, v) = post_any(&bases, &rng, "/api/acme/end", &body)
            .await
            .unwrap();
        assert_eq!(status, 200, "{v}");
    }
    let keys = genesys_om_host::keyvalue::component_keys(&kv, "acme")
        .await
        .unwrap();
    let left: Vec<&String> = keys
        .iter()
        .filter(|k| done.iter().any(|(u, _, _)| k.contains(u.as_str())))
        .collect();
    assert!(
        left.is_empty(),
        "keys of ended handovers left in Redis: {left:?}"
    );
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
