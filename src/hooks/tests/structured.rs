//! A user's choice among the agent's quick replies or buttons, sent as a Genesys structured
//! response through the handover's outbox, and `queue-status` with its per-queue cache.

use super::*;
use crate::genesys::paths;
use serde_json::json;

fn choice(kind: ChoiceKind, text: &str, payload: &str) -> UserEvent {
    UserEvent::ButtonResponse(ButtonResponse {
        originating_message_id: "agent-msg-1".into(),
        kind,
        text: text.into(),
        payload: payload.into(),
    })
}

#[test]
fn a_choice_goes_to_the_structured_response_endpoint() {
    let f = Fakes::working();
    let env = f.env();
    start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
    let o = user_message(
        &env,
        "u1",
        &choice(ChoiceKind::QuickReply, "Blue box", "blue"),
        None,
    )
    .unwrap();
    assert!(o.warnings.is_empty(), "{:?}", o.warnings);
    assert!(o.genesys.is_some());
    let sent = f.genesys.accepted().pop().unwrap();
    assert_eq!(sent.kind, "structured/response");
    let b = &sent.body;
    assert_eq!(
        b["buttonResponse"],
        json!({"type": "QuickReply", "text": "Blue box", "payload": "blue"})
    );
    assert_eq!(b["originatingMessageId"], "agent-msg-1");
    assert_eq!(
        b["channel"]["from"],
        json!({"id": "u1", "idType": "Opaque"})
    );
    assert!(b["channel"]["messageId"].as_str().is_some());
    assert!(b.get("text").is_none());
    let url = f.genesys.calls().pop().unwrap();
    assert!(
        url.ends_with(&paths::inbound(
            fixtures::INTEGRATION_ID,
            crate::genesys::inbound::Kind::StructuredResponse
        )),
        "{url}"
    );
    user_message(&env, "u1", &choice(ChoiceKind::Button, "Yes", "yes"), None).unwrap();
    let sent = f.genesys.accepted().pop().unwrap();
    assert_eq!(sent.body["buttonResponse"]["type"], "Button");
}

#[test]
fn a_choice_genesys_cannot_take_yet_waits_in_the_outbox_in_order() {
    let f = Fakes::working();
    let env = f.env();
    start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
    let before = f.genesys.accepted().len();
    f.genesys.set_faults(100, 7, false);
    let o = user_message(&env, "u1", &UserEvent::Text("first".into()), None).unwrap();
    assert_eq!(o.warnings, vec![Warning::DeliveryPending]);
    let o = user_message(
        &env,
        "u1",
        &choice(ChoiceKind::QuickReply, "Red box", "red"),
        None,
    )
    .unwrap();
    assert_eq!(o.warnings, vec![Warning::DeliveryPending]);
    assert_eq!(f.genesys.accepted().len(), before);
    f.genesys.clear_faults();
    assert!(flush(&env, "u1").unwrap().warnings.is_empty());
    let kinds: Vec<String> = f.genesys.accepted()[before..]
        .iter()
        .map(|i| i.kind.clone())
        .collect();
    assert_eq!(kinds, ["message", "structured/response"]);
    // Nothing is sent twice.
    assert!(flush(&env, "u1").unwrap().warnings.is_empty());
    assert_eq!(f.genesys.accepted().len(), before + 2);
}

#[test]
fn a_failed_receipt_about_a_choice_names_its_label() {
    let f = Fakes::working();
    let env = f.env();
    start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
    user_message(
        &env,
        "u1",
        &choice(ChoiceKind::Button, "Call me back", "cb"),
        None,
    )
    .unwrap();
    let id = f.genesys.accepted().pop().unwrap().message_id.unwrap();
    let o = agent_message(&env, &failed_receipt("u1", &id, "GeneralError")).unwrap();
    match &o.actions[..] {
        [Action::UserMessageFailed(m)] => {
            assert_eq!(m.message_id, id);
            assert_eq!(m.text.as_deref(), Some("Call me back"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_choice_genesys_could_not_take_is_refused_before_anything_is_sent() {
    let f = Fakes {
        config: MapConfig::working().with("max-user-text-chars", "10"),
        ..Fakes::default()
    };
    let env = f.env();
    let e = user_message(&env, "u1", &choice(ChoiceKind::QuickReply, "A", "a"), None).unwrap_err();
    assert!(matches!(e, Error::UnknownConversation(_)), "{e:?}");
    start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
    let before = f.genesys.accepted().len();
    let no_origin = UserEvent::ButtonResponse(ButtonResponse {
        originating_message_id: " ".into(),
        kind: ChoiceKind::QuickReply,
        text: "A".into(),
        payload: "a".into(),
    });
    for bad in [
        no_origin,
        choice(ChoiceKind::QuickReply, "  ", "a"),
        choice(ChoiceKind::QuickReply, "eleven char", "a"),
        choice(ChoiceKind::Button, "ok", &"p".repeat(11)),
    ] {
        let e = user_message(&env, "u1", &bad, None).unwrap_err();
        assert!(matches!(e, Error::InvalidInput(_)), "{e:?}");
    }
    assert_eq!(f.genesys.accepted().len(), before);
}

fn figures(wait: Option<u32>, on_queue: u32, available: u32) -> QueueFigures {
    QueueFigures {
        estimated_wait_seconds: wait,
        agents_on_queue: on_queue,
        agents_available: available,
        interacting: on_queue - available,
    }
}

fn queue_calls(f: &Fakes) -> usize {
    f.genesys
        .calls()
        .iter()
        .filter(|c| c.contains("/routing/queues/") || c.contains("/observations/"))
        .count()
}

#[test]
fn queue_status_reads_the_wait_and_the_agents_and_caches_them_per_queue() {
    let f = Fakes::working();
    let env = f.env();
    f.genesys.set_queue(fixtures::QUEUE_ID, Some(240), 5, 2);
    f.genesys.set_queue("other-queue", None, 0, 0);
    // No argument: the tenant's `queue-id`.
    assert_eq!(queue_status(&env, None).unwrap(), figures(Some(240), 5, 2));
    assert_eq!(queue_calls(&f), 2);
    assert!(f
        .kv
        .keys()
        .contains(&format!("queue-status/{}", fixtures::QUEUE_ID)));
    // Within the cache window: no request, the same figures, whatever Genesys says now.
    f.genesys.set_queue(fixtures::QUEUE_ID, Some(60), 7, 7);
    f.clock.advance(QUEUE_STATUS_CACHE_MS - 1);
    assert_eq!(
        queue_status(&env, Some(fixtures::QUEUE_ID)).unwrap(),
        figures(Some(240), 5, 2)
    );
    assert_eq!(queue_calls(&f), 2);
    // Another queue is its own entry; nobody on queue has no estimate.
    assert_eq!(
        queue_status(&env, Some("other-queue")).unwrap(),
        figures(None, 0, 0)
    );
    assert_eq!(queue_calls(&f), 4);
    // Past the window: fetched again.
    f.clock.advance(1);
    assert_eq!(queue_status(&env, None).unwrap(), figures(Some(60), 7, 7));
    assert_eq!(queue_calls(&f), 6);
}

#[test]
fn queue_status_errors_are_typed() {
    let f = Fakes::working();
    let env = f.env();
    match queue_status(&env, Some("no-such-queue")).unwrap_err() {
        Error::Api(e) => assert_eq!((e.status, e.code.as_str()), (404, "not.found")),
        other => panic!("{other:?}"),
    }
    assert!(!f.kv.keys().iter().any(|k| k.starts_with("queue-status/")));
    for bad in ["../users/x", "q 1", &"q".repeat(65)] {
        let e = queue_status(&env, Some(bad)).unwrap_err();
        assert!(matches!(e, Error::InvalidInput(_)), "{bad}: {e:?}");
    }
    assert_eq!(queue_calls(&f), 1);
    let mut config = MapConfig::working();
    config.0.remove("queue-id");
    let f = Fakes {
        config,
        ..Fakes::default()
    };
    assert!(matches!(
        queue_status(&f.env(), None).unwrap_err(),
        Error::Config(m) if m.contains("queue-id")
    ));
    f.genesys.set_queue("q-2", Some(30), 1, 1);
    assert_eq!(
        queue_status(&f.env(), Some("q-2")).unwrap(),
        figures(Some(30), 1, 1)
    );
}
