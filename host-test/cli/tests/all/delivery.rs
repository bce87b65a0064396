//! The bot side reporting an agent message's delivery back to Genesys through `serve`
//! (`POST /api/<tenant>/delivery`, the `report-delivery` hook).

use crate::serving::{call, CLIENT_ID, CLIENT_SECRET};
use crate::support::artifact;
use genesys_sim::{request, AgentSends, Simulator};
use serde_json::{json, Value};

/// The bot side tells Genesys whether an agent message reached the user: `POST
/// /api/<tenant>/delivery` with the `message_id` of the `send-text` action it got from the
/// long-poll; the simulator's receipt endpoint gets a `Delivered` and a `Failed` receipt (with
/// the reason) for that message. The route needs the bot key like the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_side_reports_an_agent_message_s_delivery_to_genesys() {
    use crate::keeps_serving::{serve_dir, tenant};
    let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await.unwrap();
    let dir = handover_testkit::TempDir::with_prefix("delivery").unwrap();
    let secret = "delivery-secret";
    tenant(
        dir.path(),
        "acme",
        &artifact("genesys-om-handover.wasm"),
        secret,
        json!({"bot-api-key": "acme-bot-key"}),
    );
    let integration = sim.add_integration("acme-deployment", "", secret);
    let base = serve_dir(dir.path(), &sim, |_| {}).await;
    let bot = |method: &'static str, path: String, body: Value, key: &'static str| {
        let url = format!("{base}{path}");
        async move {
            let headers = [
                ("content-type".to_string(), "application/json".to_string()),
                ("authorization".to_string(), format!("Bearer {key}")),
            ];
            let bytes = if body.is_null() {
                Vec::new()
            } else {
                body.to_string().into_bytes()
            };
            let (status, out) = request(method, &url, &headers, &bytes).await.unwrap();
            (
                status,
                serde_json::from_slice::<Value>(&out).unwrap_or(Value::Null),
            )
        }
    };
    let key = "acme-bot-key";
    let start = json!({"user": {"user_id": "d1", "session_id": "d1-session"}});
    let (s, v) = bot("POST", "/api/acme/start".into(), start, key).await;
    assert_eq!(s, 200, "{v}");
    sim.set_webhook_url(
        &integration,
        &format!("{base}/handover/genesysCloudOM/acme"),
    );
    let conv = sim.conversation_of("d1").unwrap().id;
    let status = sim
        .send_webhook(&conv, AgentSends::Text("Your parcel left the depot".into()))
        .await
        .unwrap();
    assert_eq!(status, 200);

    // The bot side gets the agent's text with its message id.
    let mut message_id = None;
    let mut poll = crate::support::Poll::new("acme", "d1-session");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while message_id.is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "no send-text reached the session"
        );
        let (s, v) = bot("GET", poll.next(500), Value::Null, key).await;
        assert_eq!(s, 200, "{v}");
        message_id = poll.took(&v).iter().find_map(|a| {
            (a.pointer("/SendText/text") == Some(&json!("Your parcel left the depot")))
                .then(|| {
                    a.pointer("/SendText/message_id")?
                        .as_str()
                        .map(str::to_string)
                })
                .flatten()
        });
    }
    let message_id = message_id.unwrap();
    assert!(sim.received("receipt").is_empty());

    // Delivered, then Failed with the reason.
    let delivered = json!({"user_id": "d1", "message_id": message_id, "delivered": true});
    let (s, v) = bot("POST", "/api/acme/delivery".into(), delivered, key).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["ok"]["user_id"], "d1", "{v}");
    let failed = json!({"user_id": "d1", "message_id": message_id, "delivered": false,
        "reason": "the chat tab was closed"});
    let (s, v) = bot("POST", "/api/acme/delivery".into(), failed.clone(), key).await;
    assert_eq!(s, 200, "{v}");
    let receipts = sim.received("receipt");
    assert_eq!(receipts.len(), 2, "{receipts:?}");
    let (r0, r1) = (&receipts[0].body, &receipts[1].body);
    assert_eq!(r0["status"], "Delivered");
    assert_eq!(r0["id"], message_id.as_str());
    assert_eq!(r0["channel"]["to"]["id"], "d1");
    assert!(r0.get("reasons").is_none(), "{r0}");
    assert_eq!(r1["status"], "Failed");
    assert_eq!(r1["id"], message_id.as_str());
    assert_eq!(
        r1["reasons"][0]["message"], "the chat tab was closed",
        "{r1}"
    );

    // The same uniform 401 as every bot-side route: wrong key, no key, unknown tenant.
    let wrong = bot("POST", "/api/acme/delivery".into(), failed.clone(), "nope").await;
    let unknown = bot("POST", "/api/initech/delivery".into(), failed.clone(), key).await;
    let (s, v) = call("POST", &format!("{base}/api/acme/delivery"), failed.clone()).await;
    let other = bot(
        "POST",
        "/api/acme/end".into(),
        json!({"user_id": "d1"}),
        "nope",
    )
    .await;
    assert_eq!(wrong.0, 401);
    assert_eq!(wrong, (s, v), "no key answers as a wrong key");
    assert_eq!(wrong, unknown, "an unknown tenant answers as a wrong key");
    assert_eq!(wrong, other, "as the other bot-side routes");
    assert_eq!(
        sim.received("receipt").len(),
        2,
        "nothing sent when refused"
    );

    // A body that is not a delivery report is a 400; a user without a handover a 404.
    let bad = json!({"user_id": "d1", "message_id": message_id, "delivered": "yes"});
    let (s, _) = bot("POST", "/api/acme/delivery".into(), bad, key).await;
    assert_eq!(s, 400);
    let nobody = json!({"user_id": "nobody", "message_id": "x", "delivered": true});
    let (s, v) = bot("POST", "/api/acme/delivery".into(), nobody, key).await;
    assert_eq!(s, 404, "{v}");
    assert!(v["error"].get("UnknownConversation").is_some(), "{v}");
    assert_eq!(sim.received("receipt").len(), 2);
}
