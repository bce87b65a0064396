//! A user's choice among the agent's quick replies reaches Genesys as a structured response,
//! and `queue-status` gives the simulator's figures, cached per queue, with typed errors:
//! through the plugin, and end to end through `host-test serve`'s bot API.

use crate::serving::{call, serve_tenants};
use crate::support::harness;
use genesys_om_host::bindings::types::{
    Action, ButtonResponse, ChoiceKind, Error, QueueFigures, UserEvent,
};
use genesys_sim::{AgentSends, Simulator};
use serde_json::{json, Value};

/// The OAuth client of `serving::tenant_file`'s tenants.
const CLIENT_ID: &str = "serve-client";
const CLIENT_SECRET: &str = "serve-client-secret";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chosen_quick_reply_is_a_structured_response_in_genesys() {
    let h = harness().await;
    let conv = h.open("u1").await;
    let replies = vec![
        ("Blue box".into(), "blue".into()),
        ("Red box".into(), "red".into()),
    ];
    let o = h
        .agent_sends(
            &conv,
            AgentSends::QuickReplies {
                text: "Which parcel?".into(),
                replies,
            },
        )
        .await
        .unwrap();
    let offered = o
        .actions
        .iter()
        .find_map(|a| match a {
            Action::SendChoices(c) => Some(c.clone()),
            _ => None,
        })
        .expect("the choices reach the user");
    let choice = &offered.choices[1];
    let chosen = UserEvent::ButtonResponse(ButtonResponse {
        originating_message_id: offered.message_id.clone(),
        kind: ChoiceKind::QuickReply,
        text: choice.label.clone(),
        payload: choice.value.clone(),
    });
    let o = h.user_says("u1", chosen).await.unwrap();
    assert!(o.warnings.is_empty(), "{:?}", o.warnings);
    let got = h.sim.received("structured-response");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].integration_id, h.integration);
    assert_eq!(got[0].conversation_id.as_deref(), Some(conv.as_str()));
    let b = &got[0].body;
    assert_eq!(
        b["buttonResponse"],
        json!({"type": "QuickReply", "text": "Red box", "payload": "red"})
    );
    assert_eq!(b["originatingMessageId"], offered.message_id.as_str());
    assert_eq!(b["channel"]["from"]["id"], "u1");
    // Not also sent as a text.
    assert!(!h.sim.texts_of("u1").contains(&"Red box".to_string()));
    // Without an open handover it is refused, and nothing more reaches Genesys.
    let stray = UserEvent::ButtonResponse(ButtonResponse {
        originating_message_id: offered.message_id,
        kind: ChoiceKind::Button,
        text: "Yes".into(),
        payload: "yes".into(),
    });
    let e = h.user_says("nobody", stray).await.unwrap_err();
    assert!(matches!(e, Error::UnknownConversation(_)), "{e:?}");
    assert_eq!(h.sim.requests("structured-response"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_status_through_the_plugin_is_typed() {
    let h = harness().await;
    let queue = genesys_om_handover::testing::fixtures::QUEUE_ID;
    h.sim.set_queue(queue, Some(180), 4, 1);
    let q = h.plugin.queue_status(&h.tenant, None).await.unwrap();
    let want = QueueFigures {
        estimated_wait_seconds: Some(180),
        agents_on_queue: 4,
        agents_available: 1,
        interacting: 3,
    };
    assert_eq!(q, Ok(want));
    match h
        .plugin
        .queue_status(&h.tenant, Some("no-such-queue"))
        .await
    {
        Ok(Err(Error::Api(e))) => assert_eq!((e.status, e.code.as_str()), (404, "not.found")),
        other => panic!("{other:?}"),
    }
    let bad = h.plugin.queue_status(&h.tenant, Some("../users/me")).await;
    assert!(matches!(bad, Ok(Err(Error::InvalidInput(_)))), "{bad:?}");
    assert_eq!(h.sim.requests("estimated-wait"), 2);
    // No handover is needed, and none was opened.
    assert!(h.sim.state.lock().unwrap().conversations.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_api_sends_choices_and_reads_the_queue() {
    let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await.unwrap();
    let tenants = [("acme", "AcmeDeployment", "acme-webhook-secret-1")];
    let (_dir, base, ids) = serve_tenants("genesys-om-structured", &sim, &tenants, &["acme"]).await;
    sim.set_webhook_url(&ids[0], &format!("{base}/handover/genesysCloudOM/acme"));

    // The user picks one of the agent's quick replies.
    let user = json!({"user_id": "a1", "session_id": "a1-session"});
    let (s, v) = call(
        "POST",
        &format!("{base}/api/acme/start"),
        json!({"user": user}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let conv = sim.conversation_of("a1").unwrap().id;
    let replies = vec![("Yes".into(), "yes".into()), ("No".into(), "no".into())];
    let sends = AgentSends::QuickReplies {
        text: "Shall I call you back?".into(),
        replies,
    };
    assert_eq!(sim.send_webhook(&conv, sends).await.unwrap(), 200);
    let url = format!("{base}/api/acme/sessions/a1-session/actions?wait=2000");
    let (_, v) = call("GET", &url, Value::Null).await;
    let offered = crate::support::actions(&v)
        .iter()
        .find_map(|a| a.get("SendChoices"))
        .cloned()
        .expect("send-choices");
    let message_id = offered["message_id"].as_str().unwrap();
    let choice = json!({"type": "QuickReply", "text": "Yes", "payload": "yes", "originating_message_id": message_id});
    let msg = format!("{base}/api/acme/message");
    let (s, v) = call(
        "POST",
        &msg,
        json!({"user_id": "a1", "button_response": choice}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let got = sim.received("structured-response");
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].body["buttonResponse"],
        json!({"type": "QuickReply", "text": "Yes", "payload": "yes"})
    );
    assert_eq!(got[0].body["originatingMessageId"], message_id);
    // A type Genesys does not have is the bot API's 400; nothing reaches Genesys.
    let wrong = json!({"type": "Link", "text": "Yes", "payload": "yes", "originating_message_id": message_id});
    let (s, _) = call(
        "POST",
        &msg,
        json!({"user_id": "a1", "button_response": wrong}),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(sim.requests("structured-response"), 1);

    // The tenant's queue (`queue-id` "acme-queue"), then within the cache window again.
    sim.set_queue("acme-queue", Some(240), 3, 2);
    let status = format!("{base}/api/acme/queue-status");
    let want = json!({"ok": {"estimated_wait_seconds": 240, "agents_on_queue": 3, "agents_available": 2, "interacting": 1}});
    let (s, v) = call("GET", &status, Value::Null).await;
    assert_eq!((s, &v), (200, &want));
    let asked = (
        sim.requests("estimated-wait"),
        sim.requests("queue-observations"),
    );
    assert_eq!(asked, (1, 1));
    sim.set_queue("acme-queue", Some(30), 9, 9);
    let (s, v) = call("GET", &status, Value::Null).await;
    assert_eq!((s, &v), (200, &want), "served from the cache");
    let again = (
        sim.requests("estimated-wait"),
        sim.requests("queue-observations"),
    );
    assert_eq!(
        again, asked,
        "no new Genesys request within the cache window"
    );
    // Another queue by its id; an unknown queue is Genesys's typed 404.
    sim.set_queue("other-queue", None, 0, 0);
    let (s, v) = call(
        "GET",
        &format!("{status}?queue_id=other-queue"),
        Value::Null,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["ok"]["estimated_wait_seconds"], Value::Null);
    assert_eq!(v["ok"]["agents_on_queue"], 0);
    let (s, v) = call("GET", &format!("{status}?queue_id=nope"), Value::Null).await;
    assert_eq!(s, 502, "{v}");
    assert_eq!(v["error"]["Api"]["status"], 404);
    assert_eq!(v["error"]["Api"]["code"], "not.found");
    let (s, v) = call("GET", &format!("{status}?queue_id=a%20b"), Value::Null).await;
    assert_eq!(s, 400, "{v}");
    assert!(v["error"]["InvalidInput"].is_string(), "{v}");
    // Another tenant's name is the one unauthorized answer.
    let (s, _) = call(
        "GET",
        &format!("{base}/api/globex/queue-status"),
        Value::Null,
    )
    .await;
    assert_eq!(s, 401);
}
