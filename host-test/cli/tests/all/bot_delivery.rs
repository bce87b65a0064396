//! Acknowledged delivery to the bot side, the way production breaks it: a replica killed
//! -9 after it took a batch off the shared stream and before the bot read its answer, a
//! bot client that drops the connection mid-answer, a bot that acknowledges late. Two
//! `serve` replicas over one Redis; every action reaches the bot, in order, and a repeat
//! is only a redelivery under the same id.

use crate::replicas::{send, serve_args, tenants_dir, Replica, Sent, CLIENT_ID, CLIENT_SECRET};
use crate::replicas::{DEPLOYMENT, SECRET};
use genesys_sim::{request, AgentSends, Simulator};
use handover_testkit::{RedisServer, TempDir};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The visibility timeout the replicas run with.
const VISIBILITY: Duration = Duration::from_millis(1500);

struct Setup {
    redis: RedisServer,
    sim: Simulator,
    replicas: Vec<Replica>,
    _dir: TempDir,
}

impl Setup {
    /// Two replicas over one Redis, and a handover of `user` (session `<user>-session`).
    async fn new(user: &str) -> (Setup, String) {
        let redis = RedisServer::for_test();
        let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await.unwrap();
        sim.add_integration(DEPLOYMENT, "", SECRET);
        let dir = TempDir::with_prefix("bot-delivery").unwrap();
        tenants_dir(dir.path());
        let mut args = serve_args(&redis.url(), &sim.base_url(), 0);
        args.extend([
            "--action-visibility-ms".into(),
            VISIBILITY.as_millis().to_string(),
        ]);
        let replicas = vec![
            Replica::spawn(dir.path(), &args),
            Replica::spawn(dir.path(), &args),
        ];
        let start = json!({"user": {"user_id": user, "session_id": format!("{user}-session")}});
        let url = format!("{}/api/acme/start", replicas[1].base());
        match send("POST", &url, start.to_string().as_bytes()).await {
            Sent::Answered(200, _) => {}
            _ => panic!("start failed"),
        }
        let conv = sim.conversation_of(user).unwrap().id;
        let setup = Setup {
            redis,
            sim,
            replicas,
            _dir: dir,
        };
        (setup, conv)
    }

    /// The agent says `text`, through replica 1's webhook endpoint.
    async fn agent_says(&self, conv: &str, text: &str) {
        let w = self
            .sim
            .webhook(conv, AgentSends::Text(text.into()))
            .unwrap();
        let url = format!("{}/handover/genesysCloudOM/acme", self.replicas[1].base());
        let (status, _) = request("POST", &url, &w.headers, &w.body).await.unwrap();
        assert_eq!(status, 200);
    }

    /// Entries of `session`'s stream handed out and not acknowledged (Redis's pending
    /// list), and all its entries, asked of Redis itself.
    fn pending_of(&self, session: &str) -> (u64, u64) {
        let ask = |args: &[&str]| -> u64 {
            let out = std::process::Command::new("redis-cli")
                .args(["-p", &self.redis.port().to_string()])
                .args(args)
                .output()
                .expect("redis-cli runs");
            let text = String::from_utf8_lossy(&out.stdout);
            text.lines()
                .next()
                .and_then(|l| l.trim().parse().ok())
                .unwrap_or(0)
        };
        let key = format!("gom:x:bus/acme/{session}");
        (ask(&["XPENDING", &key, "bot"]), ask(&["XLEN", &key]))
    }
}

/// One poll of `session` on `base`: the (id, text) of its send-text actions, and its cursor.
async fn poll(
    base: &str,
    session: &str,
    wait_ms: u64,
    after: Option<&str>,
) -> (Vec<(String, String)>, Option<String>) {
    let mut url = format!("{base}/api/acme/sessions/{session}/actions?wait={wait_ms}");
    if let Some(c) = after {
        url += &format!("&after={c}");
    }
    let Sent::Answered(200, v) = send("GET", &url, b"").await else {
        panic!("the poll on {base} was not answered");
    };
    (texts(&v), v["cursor"].as_str().map(str::to_string))
}

fn texts(v: &Value) -> Vec<(String, String)> {
    v["actions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| {
            let text = a.pointer("/action/SendText/text")?.as_str()?;
            Some((a["id"].as_str()?.to_string(), text.to_string()))
        })
        .collect()
}

/// Polls `session` on `base` until a batch comes (within `within`); when it came.
async fn next_batch(
    base: &str,
    session: &str,
    within: Duration,
) -> (Vec<(String, String)>, Option<String>, Instant) {
    let deadline = Instant::now() + within;
    loop {
        assert!(Instant::now() < deadline, "no batch within {within:?}");
        let (got, cursor) = poll(base, session, 500, None).await;
        if !got.is_empty() {
            return (got, cursor, Instant::now());
        }
    }
}

/// Polls `session` on `base`, acknowledging each batch with the next poll, until a batch
/// holding the send-text `text` came; that one acknowledged too.
async fn collect_until(base: &str, session: &str, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut cursor = None;
    loop {
        assert!(Instant::now() < deadline, "{text:?} never came");
        let (got, next) = poll(base, session, 500, cursor.as_deref()).await;
        cursor = next.or(cursor);
        if got.iter().any(|(_, t)| t == text) {
            poll(base, session, 0, cursor.as_deref()).await;
            return;
        }
    }
}

/// A GET of the long-poll on a raw connection: the request is sent, nothing is read.
async fn unread_poll(port: u16, session: &str, wait_ms: u64) -> tokio::net::TcpStream {
    let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let req = format!(
        "GET /api/acme/sessions/{session}/actions?wait={wait_ms} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n"
    );
    conn.write_all(req.as_bytes()).await.unwrap();
    conn
}

/// Replica 0 takes the batch off the shared stream (Redis shows it pending) and is killed
/// -9 before the bot reads a byte of its answer. Replica 1 hands out nothing while the
/// batch is in flight, then the same batch, under the same ids, once its visibility ended;
/// acknowledged, it never comes again, and what the agent says next follows alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_taken_by_a_replica_killed_before_it_answered_comes_again_on_another() {
    let (mut s, conv) = Setup::new("k9").await;
    for text in ["one", "two", "three"] {
        s.agent_says(&conv, text).await;
    }
    let conn = unread_poll(s.replicas[0].port, "k9-session", 0).await;
    crate::support::wait_until("replica 0 took the batch", Duration::from_secs(10), || {
        let (pending, all) = s.pending_of("k9-session");
        async move { pending > 0 && pending == all }
    })
    .await;
    let taken = Instant::now();
    s.replicas[0].kill();
    drop(conn);

    let live = s.replicas[1].base();
    let (during, _) = poll(&live, "k9-session", 0, None).await;
    assert!(during.is_empty(), "handed out twice at once: {during:?}");
    let (again, cursor, at) = next_batch(&live, "k9-session", Duration::from_secs(15)).await;
    assert!(
        at - taken >= VISIBILITY - Duration::from_millis(100),
        "came again after {:?}",
        at - taken
    );
    let said: Vec<&str> = again.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(said, ["one", "two", "three"], "the whole batch, in order");
    // Acknowledged with the next poll: only what comes next.
    s.agent_says(&conv, "four").await;
    let (next, _) = poll(&live, "k9-session", 5000, cursor.as_deref()).await;
    let said: Vec<&str> = next.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(said, ["four"]);
    let id = |s: &str| s.parse::<genesys_om_host::kv::EntryId>().unwrap();
    assert!(id(&next[0].0) > id(&again[2].0), "ids increase");
}

/// A bot client whose long-poll is answered, reads the first bytes of the answer and drops
/// the connection: the batch comes again (same ids) after the visibility, on any replica.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_drops_the_connection_mid_answer_gets_the_batch_again() {
    let (s, conv) = Setup::new("drop").await;
    // What the start and the agent's joining queued is collected and acknowledged first,
    // so the answer below holds exactly the one message.
    s.agent_says(&conv, "hello").await;
    collect_until(&s.replicas[1].base(), "drop-session", "hello").await;
    assert_eq!(s.pending_of("drop-session"), (0, 0), "settled");
    // Waiting on replica 0 before anything is there; the agent speaks through replica 1.
    let mut conn = unread_poll(s.replicas[0].port, "drop-session", 10_000).await;
    s.agent_says(&conv, "are you there?").await;
    let mut first = [0u8; 12];
    conn.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200", "the answer began");
    let dropped = Instant::now();
    drop(conn);
    assert_eq!(
        s.pending_of("drop-session"),
        (1, 1),
        "in flight, not acknowledged"
    );

    let (again, cursor, at) = next_batch(
        &s.replicas[1].base(),
        "drop-session",
        Duration::from_secs(15),
    )
    .await;
    assert!(
        at - dropped >= VISIBILITY - Duration::from_millis(200),
        "came again after {:?}",
        at - dropped
    );
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].1, "are you there?");
    poll(&s.replicas[0].base(), "drop-session", 0, cursor.as_deref()).await;
    assert_eq!(
        s.pending_of("drop-session"),
        (0, 0),
        "acknowledged and removed"
    );
}

/// A bot that acknowledges late: its batch came again meanwhile (to another poller, same
/// ids); the late acknowledgement is harmless, the redelivered batch's acknowledgement
/// counts, and nothing is lost or repeated after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_that_acknowledges_late_loses_nothing_and_sees_only_redeliveries() {
    let (s, conv) = Setup::new("late").await;
    let (a, b) = (s.replicas[0].base(), s.replicas[1].base());
    s.agent_says(&conv, "first").await;
    let (slow, slow_cursor) = poll(&a, "late-session", 5000, None).await;
    assert_eq!(slow.len(), 1);
    // The slow bot does not acknowledge within the visibility: the batch comes again.
    let (again, cursor, _) = next_batch(&b, "late-session", Duration::from_secs(15)).await;
    assert_eq!(again, slow, "a redelivery: same id, same action");
    s.agent_says(&conv, "second").await;
    // The slow bot's late acknowledgement, then the other's: "second" comes once.
    let (late, _) = poll(&a, "late-session", 5000, slow_cursor.as_deref()).await;
    let mut seen: Vec<(String, String)> = late;
    let (more, _) = poll(&b, "late-session", 200, cursor.as_deref()).await;
    seen.extend(more);
    let said: Vec<&str> = seen.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(said, ["second"], "after both acknowledgements: {seen:?}");
    let (rest, _) = poll(&b, "late-session", 200, None).await;
    assert!(rest.is_empty() || rest == seen, "nothing new: {rest:?}");
}

/// A long-poll waiting on replica 0 does not read Redis over and over: it waits for the
/// stream's wake (Redis pub/sub) and reads again only every few seconds; an action the
/// agent sends through replica 1 wakes it, and it answers with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_long_poll_reads_redis_a_few_times_and_wakes_on_another_replica_s_add() {
    let (s, conv) = Setup::new("idle").await;
    s.agent_says(&conv, "hello").await;
    collect_until(&s.replicas[1].base(), "idle-session", "hello").await;
    let scripts = || -> u64 {
        let out = std::process::Command::new("redis-cli")
            .args(["-p", &s.redis.port().to_string(), "INFO", "commandstats"])
            .output()
            .expect("redis-cli runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let line = text.lines().find(|l| l.starts_with("cmdstat_eval:"));
        line.and_then(|l| l.split("calls=").nth(1)?.split(',').next()?.parse().ok())
            .unwrap_or(0)
    };
    let before = scripts();
    let waited = Instant::now();
    let (idle, _) = poll(&s.replicas[0].base(), "idle-session", 3000, None).await;
    let took = waited.elapsed();
    let reads = scripts() - before;
    assert!(idle.is_empty(), "{idle:?}");
    // Every 20 ms (the old way) would be 150 reads; now 2, plus the timers' lease
    // renewals and flush rounds of both replicas.
    assert!(
        reads <= 30,
        "{reads} scripts ran in {took:?} of one waiting long-poll"
    );

    let waiting = tokio::spawn({
        let base = s.replicas[0].base();
        async move { poll(&base, "idle-session", 20_000, None).await }
    });
    let base = s.replicas[0].base();
    crate::support::wait_until("the long-poll waits", Duration::from_secs(10), || {
        let base = base.clone();
        async move {
            let text = crate::support::metrics(&base).await;
            crate::support::sample(&text, "handover_long_polls_waiting") == 1
        }
    })
    .await;
    let said_at = Instant::now();
    s.agent_says(&conv, "are you still there?").await;
    let (woken, _) = waiting.await.unwrap();
    let said: Vec<&str> = woken.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(said, ["are you still there?"]);
    // Woken, not found by its next re-read (which would come only after RECHECK_EVERY).
    let after = said_at.elapsed();
    assert!(
        after < genesys_om_host::bus::RECHECK_EVERY,
        "answered {after:?} after the agent spoke"
    );
}
