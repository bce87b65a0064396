//! Store round trips per hook, as `serve` counts them in `/metrics`
//! (`handover_store_round_trips_total{tenant,hook}`), held to what the store received: over
//! Redis, each hook call of a handover is bracketed by marker commands while `MONITOR`
//! watches, and the call's counted figure must equal the commands `serve` sent Redis in
//! between (a script's own commands, shown as `lua`, are part of its one command).

use crate::keeps_serving::{serve_dir, tenant};
use crate::serving::call;
use crate::support::{artifact, metrics, sample, wait_until};
use genesys_om_host::Store;
use genesys_sim::{request, AgentSends, Simulator};
use handover_testkit::{RedisServer, TempDir};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const CLIENT_ID: &str = crate::keeps_serving::CLIENT_ID;
const CLIENT_SECRET: &str = crate::keeps_serving::CLIENT_SECRET;

/// Every command Redis executes, as `MONITOR` lists them, in order.
struct Monitor {
    lines: Arc<Mutex<Vec<String>>>,
    marker: TcpStream,
    marks: usize,
}

impl Monitor {
    async fn attach(port: u16) -> Monitor {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(b"MONITOR\r\n").await.unwrap();
        let mut reader = BufReader::new(s);
        let mut ok = String::new();
        reader.read_line(&mut ok).await.unwrap();
        assert_eq!(ok.trim_end(), "+OK", "MONITOR refused");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let into = lines.clone();
        tokio::spawn(async move {
            let mut line = String::new();
            while reader.read_line(&mut line).await.unwrap_or(0) > 0 {
                into.lock().unwrap().push(std::mem::take(&mut line));
            }
        });
        let marker = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        Monitor {
            lines,
            marker,
            marks: 0,
        }
    }

    /// Sends a marker command of its own; returns the marker's name.
    async fn mark(&mut self) -> String {
        self.marks += 1;
        let name = format!("round-trip-marker-{}", self.marks);
        let cmd = format!("GET {name}\r\n");
        self.marker.write_all(cmd.as_bytes()).await.unwrap();
        let mut nil = [0u8; 5];
        self.marker.read_exact(&mut nil).await.unwrap();
        assert_eq!(&nil, b"$-1\r\n");
        name
    }

    /// The commands other clients sent between two markers (scripts' inner commands and the
    /// connection's keep-alive `PING` left out), once the later marker has been seen.
    async fn between(&self, from: &str, to: &str) -> Vec<String> {
        let quoted = |m: &str| format!("\"{m}\"");
        let (from, to) = (quoted(from), quoted(to));
        wait_until(
            "MONITOR to show the marker",
            Duration::from_secs(10),
            || {
                let seen = self.lines.lock().unwrap().iter().any(|l| l.contains(&to));
                async move { seen }
            },
        )
        .await;
        let lines = self.lines.lock().unwrap();
        let start = lines.iter().position(|l| l.contains(&from)).unwrap();
        let end = lines.iter().position(|l| l.contains(&to)).unwrap();
        lines[start + 1..end]
            .iter()
            .filter(|l| !l.contains(" [0 lua] ") && !l.contains("\"PING\""))
            .map(|l| l.trim_end().to_string())
            .collect()
    }
}

/// What one hook call of acme costs: (the round trips `/metrics` counted for it, the
/// commands Redis received meanwhile).
async fn measured<F, Fut>(base: &str, mon: &mut Monitor, hook: &str, run: F) -> (u64, Vec<String>)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = u16>,
{
    let calls = format!("handover_hook_calls_total{{tenant=\"acme\",hook=\"{hook}\"}}");
    let trips = format!("handover_store_round_trips_total{{tenant=\"acme\",hook=\"{hook}\"}}");
    let before = metrics(base).await;
    let from = mon.mark().await;
    let status = run().await;
    assert_eq!(status, 200, "{hook}");
    let to = mon.mark().await;
    let after = metrics(base).await;
    assert_eq!(
        sample(&after, &calls) - sample(&before, &calls),
        1,
        "one {hook} call"
    );
    let counted = sample(&after, &trips) - sample(&before, &trips);
    (counted, mon.between(&from, &to).await)
}

/// A signed webhook of the simulator's agent, posted to acme's provider URL.
async fn agent_posts(base: &str, sim: &Simulator, conv: &str, text: &str) -> u16 {
    let w = sim
        .webhook(conv, AgentSends::Text(text.into()))
        .expect("a webhook");
    let url = format!("{base}/handover/genesysCloudOM/acme");
    request("POST", &url, &w.headers, &w.body).await.unwrap().0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hook_s_counted_round_trips_are_the_commands_redis_received() {
    let redis = RedisServer::for_test();
    let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await.unwrap();
    let dir = TempDir::with_prefix("round-trips").unwrap();
    let secret = "round-trips-secret";
    tenant(
        dir.path(),
        "acme",
        &artifact("genesys-om-handover.wasm"),
        secret,
        json!({}),
    );
    sim.add_integration("acme-deployment", "", secret);
    let kv = Store::open_redis(&redis.url()).await.unwrap();
    let base = serve_dir(dir.path(), &sim, |o| o.kv = kv).await;
    let mut mon = Monitor::attach(redis.port()).await;

    let start = |user: &str| {
        let (base, user) = (base.clone(), user.to_string());
        move || async move {
            let body = json!({"user": {"user_id": user, "session_id": format!("{user}-s")}});
            call("POST", &format!("{base}/api/acme/start"), body)
                .await
                .0
        }
    };
    let says = |user: &str| {
        let (base, user) = (base.clone(), user.to_string());
        move || async move {
            let body = json!({"user_id": user, "text": "hello"});
            call("POST", &format!("{base}/api/acme/message"), body)
                .await
                .0
        }
    };
    let ends = |user: &str| {
        let (base, user) = (base.clone(), user.to_string());
        move || async move {
            let body = json!({"user_id": user, "reason": "user_left"});
            call("POST", &format!("{base}/api/acme/end"), body).await.0
        }
    };

    // A whole handover first: the tenant loads, the store connects, the host's records of
    // the integration are written; what is measured after is the steady state.
    for (user, agent_says) in [("warm", "welcome"), ("u1", "hello there")] {
        let mut figures: Vec<(&str, (u64, Vec<String>))> = Vec::new();
        figures.push((
            "start",
            measured(&base, &mut mon, "start", start(user)).await,
        ));
        let conv = sim.conversation_of(user).expect("a conversation").id;
        let said = measured(&base, &mut mon, "user-message", says(user)).await;
        figures.push(("user-message", said));
        for text in [agent_says, "a second message"] {
            let post = || agent_posts(&base, &sim, &conv, text);
            let posted = measured(&base, &mut mon, "agent-message", post).await;
            figures.push(("agent-message", posted));
        }
        figures.push(("end", measured(&base, &mut mon, "end", ends(user)).await));
        if user == "warm" {
            continue;
        }
        // The steady state, with the call's writes riding on its reads: a user message and
        // an agent's second message (12 and 8 when every write was a request of its own;
        // the agent message 6 while the agent's epoch and its announcer were two reads);
        // a start and an end, whose host records and clean-ups go in one batch (11 and 22
        // when each was a request of its own; an end's clean-ups read nothing first, 17
        // when they did; 15 while the end read its counters one by one, the outbox's head
        // and newest item apart and the token once per request; a start 9 while it read the
        // outbox's head and newest item apart).
        let last = |hook: &str| figures.iter().rev().find(|f| f.0 == hook).expect(hook).1 .0;
        let (said, posted) = (last("user-message"), last("agent-message"));
        assert!(said <= 7, "user-message: {said} round trips");
        assert!(posted <= 5, "agent-message: {posted} round trips");
        let (started, ended) = (last("start"), last("end"));
        assert!(started <= 8, "start: {started} round trips");
        assert!(ended <= 10, "end: {ended} round trips");
        for (hook, (counted, commands)) in figures {
            println!("{hook}: {counted} round trips");
            assert!(counted > 0, "{hook} counted no round trip");
            assert_eq!(
                counted,
                commands.len() as u64,
                "{hook}: counted {counted}, Redis received {}:\n{}",
                commands.len(),
                commands.join("\n")
            );
        }
    }
    let (s, v): (u16, Value) = call("GET", &format!("{base}/healthz"), Value::Null).await;
    assert_eq!(s, 200, "{v}");
}
