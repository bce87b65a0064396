//! The end of a handover, every way it can end: Genesys events in their real shapes, the
//! user or bot closing, inactivity; state cleanup and double ends.

use crate::support::*;
use genesys_om_host::bindings::types::{
    Action, EndReason, EndSignal, Error, HandoverStatus, Warning,
};
use serde_json::json;

fn ended(o: &genesys_om_host::bindings::types::Outcome) -> Option<EndReason> {
    o.actions.iter().find_map(|a| match a {
        Action::Status(HandoverStatus::Ended(r)) => Some(*r),
        _ => None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_end_from_eventbridge_ends_and_cleans_up() {
    let h = harness().await;
    let conv = h.open("u1").await;
    assert!(!h.handover_keys().await.is_empty());
    let o = h
        .event(&conv, "customer.end", Some("CLIENT"), None)
        .await
        .unwrap();
    assert_eq!(ended(&o), Some(EndReason::CustomerEnded));
    assert_eq!(o.session_id.as_deref(), Some("session-of-u1"));
    assert!(
        h.handover_keys().await.is_empty(),
        "{:?}",
        h.handover_keys().await
    );
    // A second end of the same handover is a harmless no-op.
    let again = h
        .event(&conv, "customer.end", Some("CLIENT"), None)
        .await
        .unwrap();
    assert!(again.actions.is_empty());
    assert_eq!(again.warnings, vec![Warning::NoOpenHandover]);
    // And the user can start a new handover afterwards.
    assert_eq!(
        h.start("u1").await.actions,
        vec![Action::Status(HandoverStatus::Queued)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_types_map_to_reasons() {
    for (dt, want) in [
        ("PEER", EndReason::AgentEnded),
        ("ERROR", EndReason::Error),
        ("INACTIVITY", EndReason::Inactivity),
        ("CLIENT", EndReason::CustomerEnded),
    ] {
        let h = harness().await;
        let conv = h.open("u1").await;
        let o = h
            .event(&conv, "customer.end", Some(dt), None)
            .await
            .unwrap();
        assert_eq!(ended(&o), Some(want), "{dt}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_does_not_end_the_handover_and_acw_waits_for_the_grace_period() {
    let h = harness().await;
    let conv = h.open("u1").await;
    let agent = h.sim.add_agent("First Agent", None);
    let o = h
        .event(&conv, "user.end", Some("TRANSFER"), Some(&agent))
        .await
        .unwrap();
    assert_eq!(o.actions, vec![Action::Status(HandoverStatus::Transferred)]);
    // The acw of the agent who transferred arrives right after: not the end (10 s grace).
    let o = h.event(&conv, "acw", None, Some(&agent)).await.unwrap();
    assert_eq!(ended(&o), None);
    assert_eq!(o.warnings, vec![Warning::EventIgnored]);
    assert!(!h.handover_keys().await.is_empty());
    // Messages still flow.
    h.user_says(
        "u1",
        genesys_om_host::bindings::types::UserEvent::Text("still here".into()),
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acw_after_the_grace_period_ends_the_handover() {
    let h = harness_with(|c| {
        c.insert("acw-after-transfer-grace-ms".into(), "50".into());
    })
    .await;
    let conv = h.open("u1").await;
    h.event(&conv, "user.end", Some("TRANSFER"), None)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(120)).await;
    let o = h.event(&conv, "acw", None, None).await.unwrap();
    assert_eq!(ended(&o), Some(EndReason::AgentEnded));
    assert!(
        h.handover_keys().await.is_empty(),
        "{:?}",
        h.handover_keys().await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_or_requeued_chat_is_not_the_end() {
    let h = harness().await;
    let conv = h.open("u1").await;
    // user.end without interaction (the agent never accepted): a reject or a requeue.
    let ev = json!({ "detail": { "topicName": format!("v2.detail.events.conversation.{conv}.user.end"),
        "eventBody": { "conversationId": conv, "mediaType": "MESSAGE", "messageType": "OPEN",
                       "disconnectType": "CLIENT", "alertingDurationMs": 8000 } } });
    let o = h
        .end(EndSignal::GenesysEvent(ev.to_string().into_bytes()))
        .await
        .unwrap();
    assert_eq!(o.actions, vec![Action::Status(HandoverStatus::Transferred)]);
    // A real agent end (they interacted, then disconnected) does end it.
    let o = h
        .event(&conv, "user.end", Some("CLIENT"), None)
        .await
        .unwrap();
    assert_eq!(ended(&o), Some(EndReason::AgentEnded));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_action_bodies_from_triggers() {
    let h = harness().await;
    h.open("u1").await;
    let transfer = json!({"userId": "u1", "topic": "v2.detail.events.conversation.id.user.end", "disconnectType": "TRANSFER"});
    let o = h
        .end(EndSignal::GenesysEvent(transfer.to_string().into_bytes()))
        .await
        .unwrap();
    assert_eq!(o.actions, vec![Action::Status(HandoverStatus::Transferred)]);
    let end = json!({"userId": "u1", "topic": "v2.detail.events.conversation.id.user.end", "disconnectType": "CLIENT"});
    let o = h
        .end(EndSignal::GenesysEvent(end.to_string().into_bytes()))
        .await
        .unwrap();
    assert_eq!(ended(&o), Some(EndReason::AgentEnded));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_events_and_bad_json() {
    let h = harness().await;
    let conv = h.open("u1").await;
    let chat = json!({ "detail": { "topicName": format!("v2.detail.events.conversation.{conv}.customer.end"),
        "eventBody": { "conversationId": conv, "mediaType": "CHAT" } } });
    let o = h
        .end(EndSignal::GenesysEvent(chat.to_string().into_bytes()))
        .await
        .unwrap();
    assert_eq!(o.warnings, vec![Warning::EventIgnored]);
    let o = h.event(&conv, "acd.start", None, None).await.unwrap();
    assert_eq!(o.warnings, vec![Warning::EventIgnored]);
    let o = h
        .event("not-a-known-conversation", "customer.end", None, None)
        .await
        .unwrap();
    assert_eq!(o.warnings, vec![Warning::NoOpenHandover]);
    for bad in [&b"{"[..], b"null", b"{\"hello\":1}"] {
        assert!(matches!(
            h.end(EndSignal::GenesysEvent(bad.to_vec())).await,
            Err(Error::InvalidInput(_))
        ));
    }
    assert!(!h.handover_keys().await.is_empty(), "nothing ended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_user_leaving_disconnects_the_genesys_customer_after_the_goodbye() {
    let h = harness().await;
    let mut s = settings();
    s.disconnect_message = Some("The customer closed the chat.".into());
    h.start_with(&user("u1"), &transcript(), &s).await.unwrap();
    let conv = h.sim.conversation_of("u1").unwrap();
    let o = h.end(EndSignal::UserLeft("u1".into())).await.unwrap();
    assert_eq!(ended(&o), Some(EndReason::UserLeft));
    let after = h.sim.conversation_of("u1").unwrap();
    assert!(after.ended);
    let customer = &conv.participants[0];
    assert_eq!(
        h.sim.state.lock().unwrap().disconnects,
        vec![(conv.id.clone(), customer.id.clone())]
    );
    let last = h.sim.received("message").last().unwrap().body["text"].clone();
    assert_eq!(last, "The customer closed the chat.");
    // The goodbye went before the PATCH.
    let log = h.sim.state.lock().unwrap().log.clone();
    let msg = log
        .iter()
        .rposition(|l| l.contains("/inbound/open/message"))
        .unwrap();
    let patch = log.iter().position(|l| l.starts_with("PATCH")).unwrap();
    assert!(msg < patch, "{log:?}");
    assert!(
        h.handover_keys().await.is_empty(),
        "{:?}",
        h.handover_keys().await
    );
    assert_eq!(
        h.end(EndSignal::UserLeft("u1".into()))
            .await
            .unwrap()
            .warnings,
        vec![Warning::NoOpenHandover]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_closing_also_disconnects_without_a_goodbye_when_none_is_set() {
    let h = harness().await;
    h.open("u1").await;
    let o = h.end(EndSignal::BotClosed("u1".into())).await.unwrap();
    assert_eq!(ended(&o), Some(EndReason::BotClosed));
    assert_eq!(h.sim.received("message").len(), 1);
    assert_eq!(h.sim.state.lock().unwrap().disconnects.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inactivity_closes_only_idle_handovers() {
    let h = harness().await;
    h.open("u1").await;
    let o = h
        .end(EndSignal::InactivityCheck("u1".into()))
        .await
        .unwrap();
    assert_eq!(ended(&o), None, "just started: not idle");
    assert!(!h.handover_keys().await.is_empty());

    let h = harness_with(|c| {
        c.insert("inactivity-timeout-secs".into(), "0".into());
    })
    .await;
    h.open("u1").await;
    let o = h
        .end(EndSignal::InactivityCheck("u1".into()))
        .await
        .unwrap();
    assert_eq!(ended(&o), Some(EndReason::Inactivity));
    assert_eq!(h.sim.state.lock().unwrap().disconnects.len(), 1);
    assert!(
        h.handover_keys().await.is_empty(),
        "{:?}",
        h.handover_keys().await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_genesys_no_longer_knows_still_ends_locally() {
    let h = harness().await;
    let conv = h.open("u1").await;
    h.sim.state.lock().unwrap().conversations.remove(&conv);
    let o = h.end(EndSignal::UserLeft("u1".into())).await.unwrap();
    assert_eq!(ended(&o), Some(EndReason::UserLeft));
    assert!(
        h.handover_keys().await.is_empty(),
        "{:?}",
        h.handover_keys().await
    );
}
