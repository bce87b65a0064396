//! The hooks' results cross the component boundary whole: this suite reads back, field by
//! field, what wit-bindgen's generated lowering hands the host: every outcome field, every
//! member of the agent actions (a caption, the agent shown, choices), a warning with a
//! text, a string-less one, and an error's non-ASCII text.

use crate::support::*;
use genesys_om_host::bindings::types::{
    Action, AgentAttachment, AgentInfo, Attachment, Choice, Error, HandoverStatus, Sender, Warning,
};
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
    let w = signed(
        &serde_json::json!({
            "id": "m-1", "type": "Text", "text": "hi", "originatingEntity": "Human",
            "channel": { "to": { "id": "nobody-\u{e9}\u{1F600}" } }
        }),
        WEBHOOK_SECRET,
    );
    let e = h.agent(&w).await.unwrap_err();
    let Error::UnknownConversation(m) = e else {
        panic!("{e:?}")
    };
    assert!(m.contains("nobody-\u{e9}\u{1F600}"), "{m}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attachment_with_its_caption_choices_and_the_agent_shown_read_back() {
    let h = harness().await;
    let mut s = settings();
    s.display_agent_details = true;
    h.start_with(&user("u1"), &transcript(), &s).await.unwrap();
    let conv = h.sim.conversation_of("u1").unwrap().id;
    let avatar = "https://cdn.example.com/ada.png";
    let agent = h.sim.add_agent("Ada \u{e9}", Some(avatar));
    h.sim.agent_joins(&conv, &agent);
    let joined = h
        .event(&conv, "user.start", None, Some(&agent))
        .await
        .unwrap();
    let shown = AgentInfo {
        name: "Ada \u{e9}".into(),
        avatar_url: Some(avatar.into()),
    };
    assert_eq!(
        joined.actions,
        vec![Action::Status(HandoverStatus::AgentJoined(Some(
            shown.clone()
        )))]
    );

    // A file with a caption: every member of `agent-attachment` comes back.
    let w = signed(
        &serde_json::json!({
            "id": "m-att", "type": "Structured", "originatingEntity": "Human",
            "channel": { "to": { "id": "u1" } },
            "content": [{ "contentType": "Attachment", "attachment": {
                "mediaType": "File", "url": "https://files.example.com/invoice.pdf",
                "mime": "application/pdf", "filename": "invoice.pdf", "text": "Your invoice \u{1F4C4}"
            }}]
        }),
        WEBHOOK_SECRET,
    );
    let o = h.agent(&w).await.unwrap();
    let [Action::SendAttachment(a)] = o.actions.as_slice() else {
        panic!("{o:?}")
    };
    assert_eq!(
        a,
        &AgentAttachment {
            message_id: "m-att".into(),
            attachment: Attachment {
                url: "https://files.example.com/invoice.pdf".into(),
                mime_type: "application/pdf".into(),
                file_name: Some("invoice.pdf".into()),
            },
            caption: Some("Your invoice \u{1F4C4}".into()),
            agent: Some(shown.clone()),
            sender: Sender::Agent,
        }
    );

    // Quick replies: prompt, choices in order, fallback and the agent.
    let o = h
        .agent_sends(
            &conv,
            AgentSends::QuickReplies {
                text: "Callback?".into(),
                replies: vec![("Yes".into(), "y".into()), ("No".into(), "n".into())],
            },
        )
        .await
        .unwrap();
    let [Action::SendChoices(c)] = o.actions.as_slice() else {
        panic!("{o:?}")
    };
    assert_eq!(c.text, "Callback?");
    assert_eq!(
        c.choices,
        vec![
            Choice {
                label: "Yes".into(),
                value: "y".into()
            },
            Choice {
                label: "No".into(),
                value: "n".into()
            }
        ]
    );
    assert_eq!(c.fallback, "Callback?\nOptions: Yes | No");
    assert_eq!(c.agent.as_ref(), Some(&shown));
    assert_eq!(c.sender, Sender::Agent);
    assert!(!c.message_id.is_empty());
}
