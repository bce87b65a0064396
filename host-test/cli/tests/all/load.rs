//! The load of the multi-replica suites: conversations driven both ways through random
//! `serve` replicas (user messages under an `Idempotency-Key`, every agent webhook posted
//! twice at once, the bot side long-polling with acknowledgements and dropping one answer
//! in ten), with a disruption mid-run, then checked end to end: every acknowledged message
//! at Genesys once and in order, every agent text at the bot once and in order, nothing of
//! an ended handover left in the store, and no answer a 5xx other than 503 + Retry-After.

use crate::replicas::{send, serve_args, tenants_dir, Replica, Sent};
use crate::replicas::{CLIENT_ID, CLIENT_SECRET, DEPLOYMENT, SECRET};
use genesys_om_handover::testing::fixtures::Rng;
use genesys_om_host::bindings::types::Action;
use genesys_om_host::Store;
use genesys_sim::{request_full, AgentSends, Simulator};
use handover_testkit::{RedisCluster, TempDir};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What happens mid-run.
pub enum Disrupt {
    /// Nothing: the baseline.
    Nothing,
    /// Replica 0 is killed -9 a third of the way through, and started again.
    Kill,
    /// A rolling restart: each replica in turn gets SIGTERM, drains, exits 0 and is
    /// started again, spread over the middle of the run.
    Roll,
    /// The Redis Cluster master of tenant `acme` is killed -9 a third of the way through;
    /// its replica takes over, and the old node comes back as the new master's replica.
    KillMaster(Arc<Mutex<RedisCluster>>),
}

impl Disrupt {
    fn name(&self) -> &'static str {
        match self {
            Disrupt::Nothing => "undisturbed",
            Disrupt::Kill => "replica 0 killed -9",
            Disrupt::Roll => "rolling restart",
            Disrupt::KillMaster(_) => "Redis master killed -9",
        }
    }
}

/// What a run lost, repeated or put out of order, over every conversation.
#[derive(Debug, Default)]
pub struct Counted {
    /// User messages acknowledged (200) but never at Genesys.
    pub user_lost: usize,
    /// User messages at Genesys more than once.
    pub user_repeated: usize,
    /// Agent texts never handed to the bot.
    pub agent_lost: usize,
    /// Agent texts handed to the bot twice under different ids.
    pub agent_repeated: usize,
    /// Conversations with a text out of order, on either side.
    pub out_of_order: usize,
}

impl Counted {
    /// Nothing lost, repeated or out of order.
    pub fn nothing(&self) -> bool {
        self.user_lost + self.user_repeated + self.agent_lost + self.agent_repeated == 0
            && self.out_of_order == 0
    }

    fn add(&mut self, user: (usize, usize, bool), agent: (usize, usize, bool)) {
        self.user_lost += user.0;
        self.user_repeated += user.1;
        self.agent_lost += agent.0;
        self.agent_repeated += agent.1;
        self.out_of_order += usize::from(!user.2) + usize::from(!agent.2);
    }
}

/// How many of `want` are missing from `got`, how many of `got` come more than once, and
/// whether the rest is in `want`'s order.
fn compare(want: &[String], got: &[String]) -> (usize, usize, bool) {
    let missing = want.iter().filter(|t| !got.contains(t)).count();
    let unique: HashSet<&String> = got.iter().collect();
    let mut seen = HashSet::new();
    let firsts: Vec<&String> = got.iter().filter(|t| seen.insert(*t)).collect();
    let wanted: Vec<&String> = want.iter().filter(|t| firsts.contains(t)).collect();
    let in_order = firsts.iter().filter(|t| want.contains(t)).eq(wanted.iter());
    (missing, got.len() - unique.len(), in_order)
}

/// Answers that are not a handled call: 503s (each with Retry-After) and requests lost or
/// refused on the way (a replica down, or closing its connections).
#[derive(Default)]
pub struct Turned {
    /// Answered 503 with Retry-After.
    pub busy: AtomicU64,
    /// Refused: nothing listened on the replica's port (down, or not yet up again).
    pub refused: AtomicU64,
    /// Lost: connected, and no answer came (the replica died or closed the connection).
    pub lost: AtomicU64,
}

impl Turned {
    /// Checks an answer: a 5xx is only ever a 503 with Retry-After. False if the request
    /// must be sent again (503, or no answer).
    fn handled(
        &self,
        url: &str,
        answer: &anyhow::Result<(u16, std::collections::HashMap<String, String>, Vec<u8>)>,
    ) -> bool {
        match answer {
            Ok((503, headers, _)) => {
                assert!(
                    headers.contains_key("retry-after"),
                    "{url}: 503 without Retry-After"
                );
                self.busy.fetch_add(1, Ordering::Relaxed);
                false
            }
            Ok((status, _, body)) => {
                assert!(
                    *status < 500,
                    "{url} answered {status}: {}",
                    String::from_utf8_lossy(body)
                );
                true
            }
            Err(e) if format!("{e:#}").contains("onnection refused") => {
                self.refused.fetch_add(1, Ordering::Relaxed);
                false
            }
            Err(_) => {
                self.lost.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
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

/// POST under an `Idempotency-Key` to a random replica until one handles it; a 503 or a
/// call lost on the way (its replica died or drained) is sent again, with the same key,
/// elsewhere.
pub async fn post_keyed(
    bases: &[String],
    rng: &Mutex<Rng>,
    turned: &Turned,
    path: &str,
    body: &Value,
    key: &str,
) -> (u16, Value) {
    let headers = [
        ("content-type".to_string(), "application/json".to_string()),
        ("idempotency-key".to_string(), key.to_string()),
    ];
    for _ in 0..2000 {
        let i = rng.lock().unwrap().below(bases.len() as u64) as usize;
        let url = format!("{}{path}", bases[i]);
        let answer = request_full("POST", &url, &headers, body.to_string().as_bytes()).await;
        if turned.handled(&url, &answer) {
            let (status, _, out) = answer.unwrap();
            return (status, serde_json::from_slice(&out).unwrap_or(Value::Null));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no replica answered {path} under {key}");
}

/// Posts a signed webhook to `base`; whether it was handled (200).
async fn post_webhook(
    base: &str,
    turned: &Turned,
    headers: &[(String, String)],
    body: &[u8],
) -> bool {
    let url = format!("{base}/handover/genesysCloudOM/acme");
    let answer = request_full("POST", &url, headers, body).await;
    turned.handled(&url, &answer) && matches!(answer, Ok((200, _, _)))
}

/// One long-poll on `url`: its answer, if one was given (a 503 or no answer: none).
async fn poll_once(url: &str, turned: &Turned) -> Option<Value> {
    let answer = request_full("GET", url, &[], b"").await;
    match turned.handled(url, &answer) {
        true => {
            let (status, _, out) = answer.unwrap();
            assert_eq!(status, 200, "{url}");
            Some(serde_json::from_slice(&out).unwrap_or(Value::Null))
        }
        false => None,
    }
}

/// The texts of the send-text actions among `actions`, in order.
pub fn texts(actions: &[Value]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| serde_json::from_value::<Action>(a.clone()).ok())
        .filter_map(|a| match a {
            Action::SendText(t) => Some(t.text),
            _ => None,
        })
        .collect()
}

/// The load on `count` replicas over the store `kv` (a `--kv` spec every replica shares),
/// disrupted as `disrupt` says: what it lost, repeated or put out of order (the caller
/// says what is allowed); the other checks of the module doc are asserted here.
pub async fn run(kv: &str, count: usize, disrupt: Disrupt) -> Counted {
    const CONVERSATIONS: usize = 30;
    const MESSAGES: usize = 10;
    const TOTAL: usize = CONVERSATIONS * MESSAGES;
    let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await.unwrap();
    sim.add_integration(DEPLOYMENT, "", SECRET);
    let dir = TempDir::with_prefix("replicas").unwrap();
    tenants_dir(dir.path());
    let mut args = serve_args(kv, &sim.base_url(), 0);
    args.extend(["--action-visibility-ms".to_string(), "800".to_string()]);
    let replicas: Vec<Replica> = (0..count)
        .map(|_| Replica::spawn(dir.path(), &args))
        .collect();
    let bases: Arc<Vec<String>> = Arc::new(replicas.iter().map(Replica::base).collect());
    let replicas = Arc::new(Mutex::new(replicas));
    let rng = Arc::new(Mutex::new(Rng::new(0x9e37_79b9_7f4a_7c15)));
    let sent = Arc::new(AtomicU64::new(0));
    let turned = Arc::new(Turned::default());
    let started = Instant::now();

    let name = disrupt.name();
    let cluster = match &disrupt {
        Disrupt::KillMaster(c) => Some(c.clone()),
        _ => None,
    };
    let disruptor = {
        let (replicas, sent) = (replicas.clone(), sent.clone());
        tokio::spawn(async move {
            let reached = |n: usize| {
                let sent = sent.clone();
                async move {
                    while sent.load(Ordering::Relaxed) < n as u64 {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
            };
            match disrupt {
                Disrupt::Nothing => {}
                Disrupt::Kill => {
                    reached(TOTAL / 3).await;
                    replicas.lock().unwrap()[0].kill();
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    tokio::task::spawn_blocking(move || replicas.lock().unwrap()[0].start())
                        .await
                        .unwrap();
                }
                Disrupt::Roll => {
                    let n = replicas.lock().unwrap().len();
                    for i in 0..n {
                        reached((i + 1) * TOTAL / (n + 2)).await;
                        let replicas = replicas.clone();
                        tokio::task::spawn_blocking(move || {
                            let mut child = replicas.lock().unwrap()[i].terminate();
                            let code =
                                crate::drain::exit_within(&mut child, Duration::from_secs(30));
                            assert_eq!(code, Some(0), "replica {i} drained and exited 0");
                            replicas.lock().unwrap()[i].start();
                        })
                        .await
                        .unwrap();
                    }
                }
                Disrupt::KillMaster(cluster) => {
                    reached(TOTAL / 3).await;
                    tokio::task::spawn_blocking(move || {
                        let mut c = cluster.lock().unwrap();
                        let victim = c.master_of_tag("acme").unwrap();
                        let replica = c.replica_of(victim).unwrap();
                        c.kill(victim).unwrap();
                        c.wait_promoted(replica, RedisCluster::SETTLE_TIMEOUT)
                            .unwrap();
                        // Back as the new master's replica: `WAIT 1` can be met again.
                        c.restart(victim).unwrap();
                        c.wait_settled(RedisCluster::SETTLE_TIMEOUT).unwrap();
                    })
                    .await
                    .unwrap();
                }
            }
        })
    };

    let mut tasks = Vec::new();
    for c in 0..CONVERSATIONS {
        let (bases, rng, sim, sent) = (bases.clone(), rng.clone(), sim.clone(), sent.clone());
        let turned = turned.clone();
        tasks.push(tokio::spawn(async move {
            let user = format!("replica-user-{c}");
            let session = format!("replica-session-{c}");
            let start = json!({"user": {"user_id": user, "session_id": session}, "transcript": [{"speaker": "user", "text": "help"}]});
            let key = format!("{user}-start");
            let (status, v) = post_keyed(&bases, &rng, &turned, "/api/acme/start", &start, &key).await;
            assert_eq!(status, 200, "{v}");
            let conv = sim.conversation_of(&user).expect("one conversation").id;
            let mut acknowledged = Vec::new();
            for i in 0..MESSAGES {
                // The bot platform's id of the turn: a call lost with its replica is sent
                // again under it, so every message is acknowledged, and at Genesys once.
                let text = format!("{user} says {i}");
                let body = json!({"user_id": user, "text": text});
                let key = format!("{user}-turn-{i}");
                let (status, v) = post_keyed(&bases, &rng, &turned, "/api/acme/message", &body, &key).await;
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
                    let (x, y) = tokio::join!(
                        post_webhook(&bases[a], &turned, &headers, &w.body),
                        post_webhook(&bases[b], &turned, &headers, &w.body)
                    );
                    if x || y {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            // The bot side: long-poll any replica until every agent text is in (or a minute
            // passed: a text lost stays lost); one answer in ten is dropped unread (the
            // client went away), so its batch comes again. Actions are taken once by id; a
            // repeat must be a redelivery (same id, same action).
            let mut got = Vec::new();
            let mut by_id: std::collections::HashMap<String, Value> = Default::default();
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut poll = crate::support::Poll::new("acme", &session);
            let expected: Vec<String> = (0..MESSAGES).map(|i| format!("agent to {user}: {i}")).collect();
            while !expected.iter().all(|t| texts(&got).contains(t)) && Instant::now() < deadline {
                let (i, drop_it) = {
                    let mut r = rng.lock().unwrap();
                    (r.below(bases.len() as u64) as usize, r.below(10) == 0)
                };
                let url = format!("{}{}", bases[i], poll.next(500));
                let Some(v) = poll_once(&url, &turned).await else { continue };
                if drop_it {
                    continue;
                }
                for a in v["actions"].as_array().cloned().unwrap_or_default() {
                    let id = a["id"].as_str().expect("an id").to_string();
                    match by_id.get(&id) {
                        Some(first) => {
                            assert_eq!(first, &a["action"], "{user}: id {id} came with another action");
                        }
                        None => {
                            by_id.insert(id, a["action"].clone());
                            got.push(a["action"].clone());
                        }
                    }
                }
                poll.took(&v);
            }
            let agent = compare(&expected, &texts(&got));
            (user, acknowledged, agent)
        }));
    }
    let mut done = Vec::new();
    for t in tasks {
        done.push(t.await.unwrap());
    }
    let elapsed = started.elapsed();
    disruptor.await.unwrap();
    println!(
        "{count} replica(s), {name}: {TOTAL} user messages and {TOTAL} agent webhooks (posted twice) in {:.2} s: {:.0} user messages/s; {} answers 503 + Retry-After, {} refused and {} lost (sent again)",
        elapsed.as_secs_f64(),
        TOTAL as f64 / elapsed.as_secs_f64(),
        turned.busy.load(Ordering::Relaxed),
        turned.refused.load(Ordering::Relaxed),
        turned.lost.load(Ordering::Relaxed),
    );

    // Genesys's side, once every acknowledged message arrived and no outbox has anything
    // waiting (the flush timer's rounds send what a killed replica left), or a minute
    // passed (a message lost stays lost).
    let store = Store::open(kv).await.unwrap();
    let records = genesys_om_host::records::Records::new(store.clone());
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let all_arrived = done.iter().all(|(user, acknowledged, _)| {
            let arrived = sim.texts_of(user);
            acknowledged.iter().all(|t| arrived.contains(t))
        });
        if all_arrived && records.pending("acme").await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut counted = Counted::default();
    for (user, acknowledged, agent) in &done {
        let arrived: Vec<String> = sim
            .texts_of(user)
            .into_iter()
            .filter(|t| t.contains(" says "))
            .collect();
        counted.add(compare(acknowledged, &arrived), *agent);
    }
    println!("{name}: {counted:?}");

    // Every handover ends, and leaves nothing behind in Redis.
    for (user, _, _) in &done {
        let body = json!({"user_id": user, "reason": "bot_closed"});
        let key = format!("{user}-end");
        let (status, v) = post_keyed(&bases, &rng, &turned, "/api/acme/end", &body, &key).await;
        assert_eq!(status, 200, "{v}");
    }
    let keys = genesys_om_host::keyvalue::component_keys(&store, "acme")
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
    if let Some(cluster) = cluster {
        // And none on any master, asked of each.
        let mut c = cluster.lock().unwrap();
        for master in c.masters().unwrap() {
            let raw = c.cli(master, &["KEYS", "gom:k:*"]).unwrap();
            let left: Vec<&str> = raw
                .lines()
                .filter(|k| done.iter().any(|(u, _, _)| k.contains(u.as_str())))
                .collect();
            assert!(left.is_empty(), "master {master} keeps: {left:?}");
        }
    }
    counted
}
