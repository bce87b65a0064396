//! Webhooks of a user's earlier handover (a late retry, or a replay) reach nobody once the
//! next handover is open.

use crate::support::*;
use genesys_om_handover::testing::fixtures::now_iso8601;
use genesys_om_host::bindings::types::{Action, EndSignal, UserEvent, Warning};
use genesys_sim::AgentSends;
use serde_json::{json, Value};

/// The user's previous handover's webhooks, posted again after the user opened a new one (a
/// late Genesys retry, or a replay: the signature covers only the body), reach nobody:
/// one naming the earlier conversation, and one naming none that was sent before the new
/// handover opened. The new conversation's own webhooks are delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_of_the_previous_handover_does_not_reach_the_next() {
    let h = harness().await;
    let first = h.open("u1").await;
    let old_text = h
        .webhook(&first, AgentSends::Text("from the first handover".into()))
        .unwrap();
    let o = h.agent(&old_text).await.unwrap();
    assert!(
        matches!(&o.actions[..], [Action::SendText(t)] if t.text == "from the first handover"),
        "{o:?}"
    );
    h.user_says("u1", UserEvent::Text("thanks".into()))
        .await
        .unwrap();
    let user_message_id = h.sim.received("message").last().unwrap().body["channel"]["messageId"]
        .as_str()
        .unwrap()
        .to_string();
    let old_receipt = h
        .webhook(
            &first,
            AgentSends::FailedReceipt {
                message_id: user_message_id,
                code: "GeneralError".into(),
                message: "late".into(),
            },
        )
        .unwrap();
    let old_typing = h.webhook(&first, AgentSends::Typing).unwrap();
    h.end(EndSignal::UserLeft("u1".into())).await.unwrap();

    let opened_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let second = h.open("u1").await;
    assert_ne!(second, first);
    for w in [&old_text, &old_receipt, &old_typing] {
        let o = h.agent(w).await.unwrap();
        assert!(o.actions.is_empty(), "{o:?}");
        assert_eq!(o.warnings, vec![Warning::StaleWebhookDropped]);
        assert_eq!(o.delivery_key, None);
        assert_eq!(o.genesys.unwrap().conversation_id, second);
    }

    // A webhook naming no conversation, stamped a minute before the handover opened.
    let mut body: Value = serde_json::from_slice(
        &h.sim
            .webhook(&second, AgentSends::Text("undated old".into()))
            .unwrap()
            .body,
    )
    .unwrap();
    body.as_object_mut().unwrap().remove("conversationId");
    body["channel"]["time"] = json!(genesys_om_handover::time::iso8601(opened_ms - 60_000));
    let o = h.agent(&signed(&body, WEBHOOK_SECRET)).await.unwrap();
    assert!(o.actions.is_empty(), "{o:?}");
    assert_eq!(o.warnings, vec![Warning::StaleWebhookDropped]);
    // The same, sent now: this handover's.
    body["channel"]["time"] = json!(now_iso8601());
    let o = h.agent(&signed(&body, WEBHOOK_SECRET)).await.unwrap();
    assert!(
        matches!(&o.actions[..], [Action::SendText(t)] if t.text == "undated old"),
        "{o:?}"
    );

    // The new conversation's own webhook, as the simulator sends it.
    let o = h
        .agent_sends(&second, AgentSends::Text("from the second handover".into()))
        .await
        .unwrap();
    assert!(
        matches!(&o.actions[..], [Action::SendText(t)] if t.text == "from the second handover"),
        "{o:?}"
    );
    assert!(o.warnings.is_empty(), "{o:?}");
}
