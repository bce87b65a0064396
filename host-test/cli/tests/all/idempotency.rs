//! `Idempotency-Key` on the bot side's POSTs through `serve`: a repeat answers as the first
//! call did (marked `Idempotent-Replayed`) and sends Genesys nothing again; the key reused
//! for another request is a 422; a malformed key a 400; the keys go with the handover.
//! (The crash case, a call repeated after its replica died mid-call, is in `replicas.rs`.)

use crate::replicas::{send_with, serve_args, tenants_dir, Replica, Sent};
use crate::replicas::{CLIENT_ID, CLIENT_SECRET, DEPLOYMENT, SECRET};
use genesys_sim::Simulator;
use handover_testkit::TempDir;
use serde_json::{json, Value};

async fn post(base: &str, path: &str, key: &str, body: &Value) -> (u16, Value) {
    let headers = [("idempotency-key".to_string(), key.to_string())];
    let url = format!("{base}{path}");
    match send_with("POST", &url, &headers, body.to_string().as_bytes()).await {
        Sent::Answered(s, v) => (s, v),
        _ => panic!("{path} not answered"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_key_answers_again_sends_nothing_twice_and_refuses_another_request() {
    let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await.unwrap();
    sim.add_integration(DEPLOYMENT, "", SECRET);
    let dir = TempDir::with_prefix("idempotency").unwrap();
    tenants_dir(dir.path());
    let replica = Replica::spawn(dir.path(), &serve_args("memory", &sim.base_url(), 0));
    let base = replica.base();

    let start = json!({"user": {"user_id": "i1", "session_id": "i1-session"}});
    let first = post(&base, "/api/acme/start", "start-1", &start).await;
    assert_eq!(first.0, 200, "{first:?}");
    let conv = sim.conversation_of("i1").unwrap().id;
    let sent = sim.received("message").len();
    let again = post(&base, "/api/acme/start", "start-1", &start).await;
    assert_eq!(again, first, "the same answer, not already-in-progress");
    assert_eq!(sim.received("message").len(), sent, "nothing sent again");

    let hello = json!({"user_id": "i1", "text": "hello once"});
    let said = post(&base, "/api/acme/message", "turn-1", &hello).await;
    assert_eq!(said.0, 200, "{said:?}");
    let headers = [
        ("content-type".to_string(), "application/json".to_string()),
        ("idempotency-key".to_string(), "turn-1".to_string()),
    ];
    let url = format!("{base}/api/acme/message");
    let body = hello.to_string();
    let answer = genesys_sim::request_full("POST", &url, &headers, body.as_bytes())
        .await
        .unwrap();
    assert_eq!(answer.0, 200);
    assert_eq!(
        answer.1.get("idempotent-replayed").map(String::as_str),
        Some("true")
    );
    assert_eq!(serde_json::from_slice::<Value>(&answer.2).unwrap(), said.1);
    let texts = sim.texts_of("i1");
    assert_eq!(
        texts.iter().filter(|t| *t == "hello once").count(),
        1,
        "{texts:?}"
    );

    // The key reused for another text: refused, nothing sent.
    let other = json!({"user_id": "i1", "text": "something else"});
    let (s, v) = post(&base, "/api/acme/message", "turn-1", &other).await;
    assert_eq!(s, 422, "{v}");
    assert!(
        v["error"].as_str().unwrap().contains("Idempotency-Key"),
        "{v}"
    );
    assert!(!sim.texts_of("i1").contains(&"something else".to_string()));
    // A key that is no key.
    let (s, v) = post(&base, "/api/acme/message", "has space", &other).await;
    assert_eq!(s, 400, "{v}");

    // The handover ends; its keys go with it: the same key starts the next one anew.
    let end = json!({"user_id": "i1", "reason": "bot_closed"});
    assert_eq!(post(&base, "/api/acme/end", "end-1", &end).await.0, 200);
    let next = post(&base, "/api/acme/start", "start-1", &start).await;
    assert_eq!(next.0, 200, "{next:?}");
    let next_conv = sim.conversation_of("i1").unwrap().id;
    assert_ne!(next_conv, conv, "a new handover, not a replay");
}
