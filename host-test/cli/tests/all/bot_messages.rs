//! Genesys bot and flow messages (`originatingEntity: Bot`): dropped without
//! `handle-bot-messages`, delivered as what they are with it, and answered like an agent's.

use crate::support::*;
use genesys_om_host::bindings::types::{
    Action, ButtonResponse, ChoiceKind, HandoverStatus, Sender, UserEvent, Warning,
};
use genesys_sim::AgentSends;
use serde_json::json;

/// A Genesys bot or in-queue flow's messages: dropped unless `handle-bot-messages` is on,
/// then delivered as what they are (text, quick replies, a file) from the bot, with no
/// agent announced or shown; the user's pick of the bot's quick replies goes back to
/// Genesys as a structured response answering the bot's message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_messages_are_dropped_or_delivered_as_content_from_the_bot() {
    let offer = || AgentSends::BotQuickReplies {
        text: "Would you like a callback instead of waiting?".into(),
        replies: vec![
            ("Yes".into(), "callback_yes".into()),
            ("No".into(), "callback_no".into()),
        ],
    };
    let h = harness().await;
    let conv = h.open_unanswered("u1").await;
    for sends in [
        AgentSends::BotText("You are number 3 in the queue".into()),
        offer(),
    ] {
        let o = h.agent_sends(&conv, sends).await.unwrap();
        assert!(o.actions.is_empty(), "{o:?}");
        assert_eq!(o.warnings, vec![Warning::BotMessageDropped]);
    }

    let h = harness_with(|c| {
        c.insert("handle-bot-messages".into(), "true".into());
        c.insert("send-profile".into(), "true".into());
    })
    .await;
    let conv = h.open_unanswered("u1").await;
    let o = h
        .agent_sends(
            &conv,
            AgentSends::BotText("You are number 3 in the queue".into()),
        )
        .await
        .unwrap();
    let [Action::SendText(t)] = &o.actions[..] else {
        panic!("{o:?}")
    };
    assert_eq!(t.text, "You are number 3 in the queue");
    assert_eq!((t.sender, t.agent.as_ref()), (Sender::Bot, None));
    assert!(o.warnings.is_empty(), "{o:?}");

    let o = h.agent_sends(&conv, offer()).await.unwrap();
    let [Action::SendChoices(c)] = &o.actions[..] else {
        panic!("{o:?}")
    };
    assert_eq!((c.sender, c.agent.as_ref()), (Sender::Bot, None));
    assert_eq!(c.text, "Would you like a callback instead of waiting?");
    let labels: Vec<&str> = c.choices.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(labels, ["Yes", "No"]);
    // The user takes the callback: a structured response to the bot's message.
    let chosen = UserEvent::ButtonResponse(ButtonResponse {
        originating_message_id: c.message_id.clone(),
        kind: ChoiceKind::QuickReply,
        text: c.choices[0].label.clone(),
        payload: c.choices[0].value.clone(),
    });
    let answered = h.user_says("u1", chosen).await.unwrap();
    assert!(answered.warnings.is_empty(), "{answered:?}");
    let got = h.sim.received("structured-response");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].conversation_id.as_deref(), Some(conv.as_str()));
    assert_eq!(got[0].body["originatingMessageId"], c.message_id.as_str());
    assert_eq!(
        got[0].body["buttonResponse"],
        json!({"type": "QuickReply", "text": "Yes", "payload": "callback_yes"})
    );

    let o = h
        .agent_sends(
            &conv,
            AgentSends::BotAttachment {
                url: "https://files.example.com/callback-terms.pdf".into(),
                mime: "application/pdf".into(),
                filename: "callback-terms.pdf".into(),
            },
        )
        .await
        .unwrap();
    let [Action::SendAttachment(a)] = &o.actions[..] else {
        panic!("{o:?}")
    };
    assert_eq!((a.sender, a.agent.as_ref()), (Sender::Bot, None));
    assert_eq!(
        a.attachment.file_name.as_deref(),
        Some("callback-terms.pdf")
    );

    // None of that announced an agent; the human agent's first message does.
    let agent = h.sim.add_agent("Alex Agent", None);
    h.sim.agent_joins(&conv, &agent);
    let o = h
        .agent_sends(&conv, AgentSends::Text("Hi, Alex here".into()))
        .await
        .unwrap();
    match &o.actions[..] {
        [Action::Status(HandoverStatus::AgentJoined(Some(joined))), Action::SendText(t)] => {
            assert_eq!(joined.name, "Alex Agent");
            assert_eq!(t.sender, Sender::Agent);
        }
        other => panic!("{other:?}"),
    }
}
