//! A webhook of the user's earlier handover (a late Genesys retry, or a replay: the
//! signature covers only the body) does not reach the next one: it names another
//! conversation, or names none and was sent before the open handover began.

use super::*;
use crate::genesys::webhook::CLOCK_SKEW_MS;
use crate::ports::Clock as _;
use crate::time::iso8601;
use serde_json::Value;

/// An agent's text webhook to `u1` naming `conversation` (none: no `conversationId`, as
/// in Genesys's older documentation) and sent at `time` (none: no `channel.time`).
fn webhook_of(id: &str, text: &str, conversation: Option<&str>, time: Option<&str>) -> Webhook {
    let mut v: Value =
        serde_json::from_slice(&fixtures::text_webhook_body("u1", id, text)).unwrap();
    if let Some(c) = conversation {
        v["conversationId"] = c.into();
    }
    match time {
        Some(t) => v["channel"]["time"] = t.into(),
        None => {
            v["channel"].as_object_mut().unwrap().remove("time");
        }
    }
    fixtures::signed(v.to_string().into_bytes(), WEBHOOK_SECRET)
}

fn stale(o: &Outcome) -> bool {
    o.actions.is_empty() && o.warnings == vec![Warning::StaleWebhookDropped]
}

fn texts(o: &Outcome) -> Vec<&str> {
    o.actions
        .iter()
        .filter_map(|a| match a {
            Action::SendText(t) => Some(t.text.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_webhook_of_the_previous_handover_replayed_in_the_next_does_nothing() {
    let f = Fakes::working();
    let env = f.env();
    start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
    let first_opened = f.clock.now_ms();
    let old = webhook_of("a1", "from the first", Some("conversation-1"), None);
    let o = agent_message(&env, &old).unwrap();
    assert_eq!(texts(&o), ["from the first"]);
    end(&env, &EndSignal::UserLeft("u1".into())).unwrap();
    f.clock.advance(60_000);
    start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
    let h = state::handover::load(&f.kv, "u1").unwrap().unwrap();
    assert_eq!(h.conversation_id, "conversation-2");
    assert_eq!(h.opened_ms, Some(first_opened + 60_000));
    let activity = state::handover::last_activity(&f.kv, &h).unwrap();

    // The same bytes again, and a message of the first conversation never seen before.
    let never_seen = webhook_of("a2", "late", Some("conversation-1"), None);
    for w in [&old, &never_seen] {
        let o = agent_message(&env, w).unwrap();
        assert!(stale(&o), "{o:?}");
        // The outcome is about the open handover, with no delivery key to deliver.
        assert_eq!(
            o.genesys.as_ref().unwrap().conversation_id,
            "conversation-2"
        );
        assert_eq!(o.delivery_key, None);
    }
    // Nothing was claimed or touched: not the activity, not the message ids.
    f.clock.advance(1000);
    assert_eq!(state::handover::last_activity(&f.kv, &h).unwrap(), activity);
    let o = agent_message(&env, &webhook_of("a2", "now", Some("conversation-2"), None)).unwrap();
    assert!(!o.warnings.contains(&Warning::Duplicate), "{o:?}");
    assert_eq!(texts(&o), ["now"]);
    // The conversation id is compared as an id: its case and surrounding blanks aside.
    let o = agent_message(&env, &webhook_of("a3", "x", Some(" CONVERSATION-2 "), None)).unwrap();
    assert_eq!(texts(&o), ["x"]);
}

#[test]
fn without_a_conversation_id_the_time_tells_an_earlier_webhook() {
    let f = Fakes::working();
    let env = f.env();
    start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
    let opened = f.clock.now_ms();
    f.clock.advance(5_000);
    let at = |ms: u64| iso8601(ms);
    // Sent a minute before the handover opened: dropped.
    let o = agent_message(
        &env,
        &webhook_of("t1", "old", None, Some(&at(opened - 60_000))),
    )
    .unwrap();
    assert!(stale(&o), "{o:?}");
    // Just past the allowed clock skew: dropped; within it, or later: delivered.
    let o = agent_message(
        &env,
        &webhook_of("t2", "old", None, Some(&at(opened - CLOCK_SKEW_MS - 1))),
    )
    .unwrap();
    assert!(stale(&o), "{o:?}");
    let cases = [
        ("t3", at(opened - CLOCK_SKEW_MS)),
        ("t4", at(opened)),
        ("t5", at(opened + 1_000)),
        // Another notation of a time after the opening: an offset, seven fraction digits.
        ("t6", "2025-11-25T10:14:04.5120000+01:00".to_string()),
        // A time that is not one drops nothing.
        ("t7", "yesterday".to_string()),
        ("t8", String::new()),
    ];
    for (id, time) in cases {
        let o = agent_message(&env, &webhook_of(id, id, None, Some(&time))).unwrap();
        assert_eq!(texts(&o), [id], "{time}: {o:?}");
    }
    let o = agent_message(&env, &webhook_of("t9", "t9", None, None)).unwrap();
    assert_eq!(texts(&o), ["t9"]);
    // A webhook naming the open conversation is this handover's, whatever its time says.
    let o = agent_message(
        &env,
        &webhook_of("t10", "t10", Some("conversation-1"), Some(&at(0))),
    )
    .unwrap();
    assert_eq!(texts(&o), ["t10"]);
}

#[test]
fn receipts_and_typing_of_an_earlier_conversation_are_dropped_too() {
    let f = Fakes::working();
    let env = f.env();
    start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
    user_message(&env, "u1", &UserEvent::Text("hello".into()), None).unwrap();
    let id = f.genesys.accepted().pop().unwrap().message_id.unwrap();
    let receipt = |conversation: &str| {
        let w = failed_receipt("u1", &id, "GeneralError");
        let mut v: Value = serde_json::from_slice(&w.body).unwrap();
        v["conversationId"] = conversation.into();
        fixtures::signed(v.to_string().into_bytes(), WEBHOOK_SECRET)
    };
    let o = agent_message(&env, &receipt("conversation-0")).unwrap();
    assert!(stale(&o), "{o:?}");
    let o = agent_message(&env, &receipt("conversation-1")).unwrap();
    assert!(
        matches!(&o.actions[..], [Action::UserMessageFailed(m)] if m.text.as_deref() == Some("hello")),
        "{o:?}"
    );
    let typing = |conversation: &str| {
        let body = serde_json::json!({
            "id": "ty", "channel": {"to": {"id": "u1"}, "time": iso8601(f.clock.now_ms())},
            "type": "Event", "events": [{"eventType": "Typing"}], "conversationId": conversation
        });
        fixtures::signed(body.to_string().into_bytes(), WEBHOOK_SECRET)
    };
    assert!(stale(
        &agent_message(&env, &typing("conversation-0")).unwrap()
    ));
    let o = agent_message(&env, &typing("conversation-1")).unwrap();
    assert_eq!(o.actions, vec![Action::AgentTyping]);
}

#[test]
fn a_handover_of_an_earlier_release_knows_no_opening_time_and_drops_by_conversation_only() {
    let f = Fakes::working();
    let env = f.env();
    let mut h = handover("u1", "hid-1");
    h.opened_ms = None;
    state::handover::create(&f.kv, &h, 0).unwrap();
    let o = agent_message(&env, &webhook_of("o1", "old time", None, Some(&iso8601(0)))).unwrap();
    assert_eq!(texts(&o), ["old time"]);
    let o = agent_message(&env, &webhook_of("o2", "other", Some("c-other"), None)).unwrap();
    assert!(stale(&o), "{o:?}");
    let o = agent_message(&env, &webhook_of("o3", "this", Some("c"), None)).unwrap();
    assert_eq!(texts(&o), ["this"]);
}
