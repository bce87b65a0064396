//! Genesys bot and flow messages (`originatingEntity: Bot`) with `handle-bot-messages` on:
//! delivered as what they are (text, choices, files) from the bot, never announcing an
//! agent or showing one; the user's choice goes back as a structured response.

use super::*;
use serde_json::{json, Value};

/// Fakes whose tenant forwards bot messages (and shows the agent's name, which a bot
/// message must still not carry).
fn forwarding() -> Fakes {
    Fakes {
        config: MapConfig::working()
            .with("handle-bot-messages", "true")
            .with("send-profile", "true"),
        ..Fakes::default()
    }
}

/// A signed bot webhook to `u1`: `text` (may be empty) and `content` items.
fn bot_webhook(id: &str, text: &str, content: Value) -> Webhook {
    let mut v: Value =
        serde_json::from_slice(&fixtures::text_webhook_body("u1", id, text)).unwrap();
    v["originatingEntity"] = json!("Bot");
    if text.is_empty() {
        v.as_object_mut().unwrap().remove("text");
    }
    if content != Value::Null {
        v["type"] = json!("Structured");
        v["content"] = content;
    }
    fixtures::signed(v.to_string().into_bytes(), WEBHOOK_SECRET)
}

fn callback_offer() -> Webhook {
    bot_webhook(
        "bot-offer-1",
        "Would you like a callback instead of waiting?",
        json!([
            {"contentType": "QuickReply", "quickReply": {"text": "Yes", "payload": "callback_yes", "action": "Message"}},
            {"contentType": "QuickReply", "quickReply": {"text": "No", "payload": "callback_no", "action": "Message"}}
        ]),
    )
}

#[test]
fn bot_messages_are_dropped_unless_asked_for() {
    let f = Fakes::working();
    let env = f.env();
    start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
    for w in [
        bot_webhook("b1", "Please hold", Value::Null),
        callback_offer(),
    ] {
        let o = agent_message(&env, &w).unwrap();
        assert!(o.actions.is_empty(), "{o:?}");
        assert_eq!(o.warnings, vec![Warning::BotMessageDropped]);
    }
}

#[test]
fn a_bot_text_is_a_text_from_the_bot() {
    let f = forwarding();
    let env = f.env();
    start(&env, &user(), &[], &fixtures::node_settings()).unwrap();
    let o = agent_message(&env, &bot_webhook("b1", "Please hold", Value::Null)).unwrap();
    assert_eq!(
        o.actions,
        vec![Action::SendText(AgentText {
            message_id: "b1".into(),
            text: "Please hold".into(),
            agent: None,
            sender: Sender::Bot,
        })]
    );
    assert!(o.warnings.is_empty(), "{:?}", o.warnings);
    assert_eq!(
        o.delivery_key.as_deref(),
        Some("conversation-1/b1"),
        "delivered once, like an agent's"
    );
    // No agent was looked up for it.
    assert!(!f.genesys.calls().iter().any(|c| c.contains("/users/")));
}

#[test]
fn bot_quick_replies_are_choices_from_the_bot_and_the_choice_goes_back_structured() {
    let f = forwarding();
    let env = f.env();
    start(&env, &user(), &[], &fixtures::node_settings()).unwrap();
    let o = agent_message(&env, &callback_offer()).unwrap();
    let [Action::SendChoices(c)] = &o.actions[..] else {
        panic!("{o:?}")
    };
    assert_eq!(c.sender, Sender::Bot);
    assert_eq!(c.agent, None);
    assert_eq!(c.message_id, "bot-offer-1");
    assert_eq!(c.text, "Would you like a callback instead of waiting?");
    let values: Vec<&str> = c.choices.iter().map(|c| c.value.as_str()).collect();
    assert_eq!(values, ["callback_yes", "callback_no"]);
    assert_eq!(
        c.fallback,
        "Would you like a callback instead of waiting?\nOptions: Yes | No"
    );

    let chosen = UserEvent::ButtonResponse(ButtonResponse {
        originating_message_id: c.message_id.clone(),
        kind: ChoiceKind::QuickReply,
        text: c.choices[0].label.clone(),
        payload: c.choices[0].value.clone(),
    });
    let o = user_message(&env, "u1", &chosen, None).unwrap();
    assert!(o.warnings.is_empty(), "{:?}", o.warnings);
    let sent = f.genesys.accepted().pop().unwrap();
    assert_eq!(sent.kind, "structured/response");
    assert_eq!(sent.body["originatingMessageId"], "bot-offer-1");
    assert_eq!(
        sent.body["buttonResponse"],
        json!({"type": "QuickReply", "text": "Yes", "payload": "callback_yes"})
    );
}

#[test]
fn a_bot_attachment_is_a_file_from_the_bot() {
    let f = forwarding();
    let env = f.env();
    start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
    let content = json!([{"contentType": "Attachment", "attachment": {
        "mediaType": "File", "url": "https://files.example.com/callback-terms.pdf",
        "mime": "application/pdf", "filename": "callback-terms.pdf"}}]);
    let o = agent_message(&env, &bot_webhook("b2", "Our terms", content)).unwrap();
    match &o.actions[..] {
        [Action::SendText(t), Action::SendAttachment(a)] => {
            assert_eq!((t.text.as_str(), t.sender), ("Our terms", Sender::Bot));
            assert_eq!(a.sender, Sender::Bot);
            assert_eq!(a.agent, None);
            assert_eq!(a.message_id, "b2");
            assert_eq!(a.attachment.mime_type, "application/pdf");
            assert_eq!(
                a.attachment.file_name.as_deref(),
                Some("callback-terms.pdf")
            );
        }
        other => panic!("{other:?}"),
    }
    // A file whose URL is refused is left out with the warning, as an agent's.
    let content = json!([{"contentType": "Attachment", "attachment": {
        "mediaType": "File", "url": "http://127.0.0.1/x.pdf", "mime": "application/pdf"}}]);
    let o = agent_message(&env, &bot_webhook("b3", "", content)).unwrap();
    assert!(o.actions.is_empty(), "{o:?}");
    assert_eq!(o.warnings, vec![Warning::UnsafeUrlDropped]);
}

#[test]
fn bot_messages_never_announce_an_agent_and_the_agent_still_is_announced_after() {
    let f = forwarding();
    let env = f.env();
    start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
    for w in [
        bot_webhook("b1", "Please hold", Value::Null),
        callback_offer(),
    ] {
        let o = agent_message(&env, &w).unwrap();
        assert!(
            // Neither `agent-joined` nor any other status (no `update`).
            o.actions.iter().all(|a| !matches!(a, Action::Status(_))),
            "{o:?}"
        );
    }
    // The human agent's first message announces them, and is marked as theirs.
    let o = agent_message(&env, &fixtures::text_webhook("u1", "a1", "Hi, I'm Alex")).unwrap();
    match &o.actions[..] {
        [Action::Status(HandoverStatus::AgentJoined(Some(a))), Action::SendText(t)] => {
            assert_eq!(a.name, "Alex Agent");
            assert_eq!(t.sender, Sender::Agent);
            assert_eq!(
                t.agent.as_ref().map(|a| a.name.as_str()),
                Some("Alex Agent")
            );
        }
        other => panic!("{other:?}"),
    }
    // A bot message after the agent joined still shows no agent.
    let o = agent_message(&env, &bot_webhook("b9", "Survey follows", Value::Null)).unwrap();
    let [Action::SendText(t)] = &o.actions[..] else {
        panic!("{o:?}")
    };
    assert_eq!((t.sender, t.agent.as_ref()), (Sender::Bot, None));
}
