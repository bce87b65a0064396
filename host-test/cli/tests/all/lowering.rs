//! The hooks' results cross the component boundary whole: the component lowers
//! `result<outcome, error>` by hand, once (`src/component/lower.rs`), so this suite reads
//! back, field by field, the cases no other suite reads through the component: every
//! outcome field, a warning with a text, a string-less one, and an error's non-ASCII text.

use crate::support::*;
use genesys_om_host::bindings::types::{Action, Error, HandoverStatus, Warning, Webhook};
use genesys_sim::AgentSends;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_outcome_field_and_a_warning_with_its_text_read_back() {
    let h = harness().await;
    let mut s = settings();
    s.display_agent_details = true;
    let o = h.start_with(&user("u1"), &transcript(), &s).await.unwrap();
    let conv = h.sim.conversation_of("u1").unwrap().id;
    assert_eq!(o.user_id.as_deref(), Some("u1"));
    assert_eq!(
        o.session_id.as_deref(),
        Some(user("u1").session_id.as_str())
    );
    let g = o.genesys.as_ref().expect("the Genesys side is named");
    assert_eq!(g.conversation_id, conv);
    assert!(!g.integration_id.is_empty());
    assert_eq!(o.delivery_key, None);
    assert_eq!(o.actions, vec![Action::Status(HandoverStatus::Queued)]);

    // An agent Genesys names without a name: the lookup's warning carries its reason.
    let agent = h.sim.add_agent("", None);
    h.sim.agent_joins(&conv, &agent);
    let joined = h
        .event(&conv, "user.start", None, Some(&agent))
        .await
        .unwrap();
    assert_eq!(
        joined.actions,
        vec![Action::Status(HandoverStatus::AgentJoined(None))]
    );
    let reasons: Vec<&str> = joined
        .warnings
        .iter()
        .filter_map(|w| match w {
            Warning::AgentLookupFailed(r) => Some(r.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(reasons.len(), 1, "{joined:?}");
    assert!(reasons[0].contains("name"), "{}", reasons[0]);

    // A message's actions come under its delivery key, with the conversation in it.
    let o = h
        .agent_sends(&conv, AgentSends::Text("Hello there".into()))
        .await
        .unwrap();
    let key = o.delivery_key.as_deref().expect("a delivery key");
    assert!(key.starts_with(&format!("{conv}/")), "{key}");
    let [Action::SendText(t)] = o.actions.as_slice() else {
        panic!("{o:?}")
    };
    assert_eq!((t.text.as_str(), t.agent.as_ref()), ("Hello there", None));
    assert!(!t.message_id.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_url_warns_next_to_the_text_and_an_error_keeps_its_text() {
    let h = harness().await;
    let conv = h.open("u1").await;
    let o = h
        .agent_sends(
            &conv,
            AgentSends::Attachment {
                url: "http://127.0.0.1/secret.pdf".into(),
                mime: "application/pdf".into(),
                filename: "secret.pdf".into(),
            },
        )
        .await
        .unwrap();
    assert!(
        o.warnings.contains(&Warning::UnsafeUrlDropped),
        "{:?}",
        o.warnings
    );
    assert!(
        !o.actions
            .iter()
            .any(|a| matches!(a, Action::SendAttachment(_))),
        "{:?}",
        o.actions
    );

    // An error's text reads back whole, non-ASCII included: a signed webhook for a user
    // with no handover.
    let body = serde_json::to_vec(&serde_json::json!({
        "id": "m-1", "type": "Text", "text": "hi", "originatingEntity": "Human",
        "channel": { "to": { "id": "nobody-\u{e9}\u{1F600}" } }
    }))
    .unwrap();
    let w = Webhook {
        headers: vec![(
            "x-hub-signature-256".into(),
            genesys_sim::sign(WEBHOOK_SECRET, &body),
        )],
        body,
    };
    let e = h.agent(&w).await.unwrap_err();
    let Error::UnknownConversation(m) = e else {
        panic!("{e:?}")
    };
    assert!(m.contains("nobody-\u{e9}\u{1F600}"), "{m}");
}
