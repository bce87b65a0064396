//! `docs/genesys-setup.md` as it stands: its tenant file serves a handover against the
//! simulator, its EventBridge rule pattern matches Genesys's Open Messaging events and
//! nothing else, and its Data Action body (which fits its input contract) ends a handover
//! when posted to the provider URL.

use crate::support::artifact;
use genesys_om_host::serve;
use genesys_om_host::server::{ServeOptions, Server};
use genesys_om_host::tenant::{EndDetection, TenantFile};
use genesys_om_host::{engine, Egress, Store};
use genesys_sim::{request, Simulator};
use handover_testkit::TempDir;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The JSON block after `<!-- example: NAME -->` in the guide.
fn example(name: &str) -> Value {
    let guide = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/genesys-setup.md"),
    )
    .unwrap();
    let marker = format!("<!-- example: {name} -->");
    let after = &guide[guide.find(&marker).unwrap_or_else(|| panic!("no {marker}"))..];
    let start = after.find("```json\n").unwrap() + "```json\n".len();
    let end = after[start..].find("```").unwrap();
    serde_json::from_str(&after[start..start + end]).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// EventBridge's matching for the pattern forms the guide uses: nested objects, and arrays
/// of allowed values at the leaves.
fn matches(pattern: &Value, event: &Value) -> bool {
    match pattern {
        Value::Object(fields) => fields
            .iter()
            .all(|(k, p)| event.get(k).is_some_and(|e| matches(p, e))),
        Value::Array(allowed) => allowed.contains(event),
        _ => false,
    }
}

#[test]
fn the_rule_pattern_lets_through_open_messaging_events_only() {
    let pattern = example("eventbridge-rule-pattern");
    let sim_event = json!({
        "source": "aws.partner/genesys.com/cloud/o/s",
        "detail": {"eventBody": {"mediaType": "MESSAGE", "messageType": "OPEN", "conversationId": "c"}}
    });
    assert!(matches(&pattern, &sim_event));
    let mut webchat = sim_event.clone();
    webchat["detail"]["eventBody"]["messageType"] = json!("WEBMESSAGING");
    assert!(!matches(&pattern, &webchat));
    let mut voice = sim_event;
    voice["detail"]["eventBody"]["mediaType"] = json!("VOICE");
    assert!(!matches(&pattern, &voice));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guide_s_tenant_file_and_data_action_body_work_as_written() {
    let file = example("tenant-file");
    let config = &file["config"];
    let s = |v: &Value| v.as_str().unwrap().to_string();
    let sim = Simulator::start(&s(&config["client-id"]), &s(&config["client-secret"]))
        .await
        .unwrap();
    sim.add_integration(
        &s(&config["deployment-name"]),
        "",
        &s(&config["webhook-secret"]),
    );
    let dir = TempDir::with_prefix("guide").unwrap();
    std::fs::copy(artifact("genesys-om-handover.wasm"), dir.join("acme.wasm")).unwrap();
    std::fs::write(dir.join("acme.json"), file.to_string()).unwrap();
    let parsed = TenantFile::read(&dir.join("acme.json")).unwrap();
    assert_eq!(parsed.end_detection.len(), 3);
    assert!(parsed.detects_by(EndDetection::Notifications));

    let egress = Egress::redirect(&sim.base_url()).unwrap();
    let mut opts = ServeOptions::new(dir.path().to_path_buf(), Store::memory(), egress);
    opts.listen = "127.0.0.1:0".parse().unwrap();
    opts.cache_dir = dir.join("cache");
    let addr = serve::start(Server::new(opts, engine().unwrap()))
        .await
        .unwrap();
    let base = format!("http://{addr}");

    // The bot side with the guide's bot key; the user of the guide's Data Action body.
    let body = example("data-action-body");
    let user = s(&body["userId"]);
    let bot = [
        ("content-type".to_string(), "application/json".to_string()),
        (
            "authorization".to_string(),
            format!("Bearer {}", s(&file["bot-api-key"])),
        ),
    ];
    let start = json!({"user": {"user_id": user, "session_id": "guide-session"}});
    let (status, out) = request(
        "POST",
        &format!("{base}/api/acme/start"),
        &bot,
        start.to_string().as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&out));

    // Notifications with the guide's topics: both topics of the conversation subscribed.
    let deadline = Instant::now() + Duration::from_secs(30);
    while sim.channel_topics().iter().map(|(_, n)| n).sum::<usize>() != 2 {
        assert!(Instant::now() < deadline, "{:?}", sim.channel_topics());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The Data Action body fits the input contract, and ends the handover as posted.
    let contract = example("data-action-input-contract");
    for (field, schema) in contract["properties"].as_object().unwrap() {
        assert_eq!(schema["type"], "string");
        assert!(body[field].is_string(), "{field}");
    }
    let events = [
        ("content-type".to_string(), "application/json".to_string()),
        ("authorization".to_string(), s(&file["events-api-key"])),
    ];
    let (status, out) = request(
        "POST",
        &format!("{base}/handover/genesysCloudOM"),
        &events,
        body.to_string().as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&out));
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert!(v.to_string().contains("Ended"), "the handover ended: {v}");
}
