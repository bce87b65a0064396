//! Claims, endings, refusals and cleanup: crashed or failed starts are taken over, a
//! handover ends once even when an ending call died, refused messages answer with an
//! error, and `end` removes every key it stored.

use super::*;
use crate::ports::{Clock, Kv};
use crate::state::claim::LEASE_MS;
use crate::state::keys;
use crate::testing::fixtures::REFUSED_PREFIX;

/// Only tenant-level caches are left: the token, the integration id, agents.
pub(super) fn assert_only_tenant_caches(kv: &MemKv) {
    for k in kv.keys() {
        assert!(
            k == keys::TOKEN || k.starts_with("integration/") || k.starts_with("agent/"),
            "left behind: {k}"
        );
    }
}

fn status(o: &Outcome) -> Option<&HandoverStatus> {
    match o.actions.as_slice() {
        [Action::Status(s)] => Some(s),
        _ => None,
    }
}

pub(super) fn start_u1(f: &Fakes) -> Outcome {
    start(
        &f.env(),
        &user(),
        &fixtures::transcript(),
        &fixtures::node_settings(),
    )
    .unwrap()
}

#[test]
fn end_removes_every_key_of_a_busy_handover() {
    let f = Fakes::working();
    let env = f.env();
    let long = "x".repeat(5000 * 2 + 10);
    let transcript = vec![TranscriptEntry {
        speaker: Speaker::User,
        text: long.clone(),
        data: None,
        time: None,
    }];
    start(&env, &user(), &transcript, &fixtures::node_settings()).unwrap();
    user_message(&env, "u1", &UserEvent::Text(long), None).unwrap();
    f.genesys.set_faults(100, 1, false);
    let o = user_message(&env, "u1", &UserEvent::Text("pending".into()), None).unwrap();
    assert_eq!(o.warnings, vec![Warning::DeliveryPending]);
    f.genesys.clear_faults();
    user_message(&env, "u1", &UserEvent::Typing, None).unwrap();
    user_message(&env, "u1", &UserEvent::Disconnected, None).unwrap();
    user_message(
        &env,
        "u1",
        &captioned("https://files.example/x.png", "see"),
        None,
    )
    .unwrap();
    let joined = br#"{"userId":"u1","topic":"v2.detail.events.conversation.c.user.start","agentUserId":"agent-1"}"#;
    let o = end(&env, &EndSignal::GenesysEvent(joined.to_vec())).unwrap();
    assert!(
        matches!(status(&o), Some(HandoverStatus::AgentJoined(Some(a))) if a.name == "Alex Agent")
    );
    let w = fixtures::text_webhook("u1", "w1", "hello");
    agent_message(&env, &w).unwrap();
    agent_message(&env, &w).unwrap();
    let o = agent_message(&env, &fixtures::text_webhook("u1", "w2", "hi")).unwrap();
    assert!(matches!(&o.actions[..], [Action::SendText(t)] if t.agent.is_some()));
    let sent_id = f
        .genesys
        .accepted()
        .last()
        .unwrap()
        .message_id
        .clone()
        .unwrap();
    let o = agent_message(&env, &failed_receipt("u1", &sent_id, "MediaTypeNotAllowed")).unwrap();
    assert!(matches!(&o.actions[..], [Action::UserMessageFailed(_)]));
    let transfer = br#"{"userId":"u1","topic":"v2.detail.events.conversation.c.user.end","disconnectType":"TRANSFER"}"#;
    let o = end(&env, &EndSignal::GenesysEvent(transfer.to_vec())).unwrap();
    assert_eq!(status(&o), Some(&HandoverStatus::Transferred));
    // The next agent's first message announces them.
    let o = agent_message(&env, &fixtures::text_webhook("u1", "w3", "I'm Bo")).unwrap();
    assert!(matches!(
        &o.actions[..],
        [
            Action::Status(HandoverStatus::AgentJoined(Some(_))),
            Action::SendText(_)
        ]
    ));
    report_delivery(&env, "u1", "w1", true, None).unwrap();
    end(&env, &EndSignal::InactivityCheck("u1".into())).unwrap();
    let o = end(&env, &EndSignal::UserLeft("u1".into())).unwrap();
    assert_eq!(
        status(&o),
        Some(&HandoverStatus::Ended(EndReason::UserLeft))
    );
    let texts: Vec<String> = f
        .genesys
        .accepted()
        .into_iter()
        .filter_map(|m| m.text)
        .collect();
    assert!(
        texts.contains(&"pending".to_string()),
        "flushed before closing"
    );
    assert!(texts.contains(&USER_LEFT.to_string()));
    assert_only_tenant_caches(&f.kv);
    assert!(f.kv.keys().iter().any(|k| k.starts_with("agent/")));
}

#[test]
fn a_handover_ends_once() {
    let f = Fakes::working();
    start_u1(&f);
    let o = end(&f.env(), &EndSignal::BotClosed("u1".into())).unwrap();
    assert_eq!(
        status(&o),
        Some(&HandoverStatus::Ended(EndReason::BotClosed))
    );
    let o = end(&f.env(), &EndSignal::BotClosed("u1".into())).unwrap();
    assert_eq!(o.warnings, vec![Warning::NoOpenHandover]);
    let patches = f
        .genesys
        .calls()
        .iter()
        .filter(|c| c.starts_with("PATCH"))
        .count();
    assert_eq!(patches, 1);
}

#[test]
fn an_ending_call_that_died_is_cleaned_up_after_its_lease() {
    let f = Fakes::working();
    start_u1(&f);
    let h = state::handover::load(&f.kv, "u1").unwrap().unwrap();
    // An ending call that died right after its increment: no timestamp.
    f.kv.increment(&h.scope().ending(), 1).unwrap();
    let o = end(&f.env(), &EndSignal::UserLeft("u1".into())).unwrap();
    assert_eq!(o.warnings, vec![Warning::NoOpenHandover]);
    assert!(state::handover::load(&f.kv, "u1").unwrap().is_some());
    f.clock.advance(LEASE_MS + 1);
    let o = end(&f.env(), &EndSignal::UserLeft("u1".into())).unwrap();
    assert_eq!(o.warnings, vec![Warning::NoOpenHandover]);
    assert_only_tenant_caches(&f.kv);
    assert_eq!(status(&start_u1(&f)), Some(&HandoverStatus::Queued));
}

#[test]
fn a_failed_disconnect_lets_end_be_retried() {
    let f = Fakes::working();
    start_u1(&f);
    let offline = Env {
        http: &NoHttp,
        ..f.env()
    };
    let e = end(&offline, &EndSignal::UserLeft("u1".into())).unwrap_err();
    assert!(matches!(e, Error::Transport(_)), "{e:?}");
    let o = end(&f.env(), &EndSignal::UserLeft("u1".into())).unwrap();
    assert_eq!(
        status(&o),
        Some(&HandoverStatus::Ended(EndReason::UserLeft))
    );
    assert_only_tenant_caches(&f.kv);
}

#[test]
fn a_claim_whose_owner_died_before_its_lease_is_taken_over_after_the_lease() {
    let f = Fakes::working();
    // The winner of generation 1 died between its increment and its lease.
    f.kv.increment(&keys::claim_generation("u1", 1), 1).unwrap();
    let o = start_u1(&f);
    assert_eq!(status(&o), Some(&HandoverStatus::AlreadyInProgress));
    assert_eq!(f.genesys.conversations_opened(), 0);
    f.clock.advance(LEASE_MS + 1);
    assert_eq!(status(&start_u1(&f)), Some(&HandoverStatus::Queued));
    assert_eq!(
        state::handover::load(&f.kv, "u1")
            .unwrap()
            .unwrap()
            .generation,
        2
    );
    end(&f.env(), &EndSignal::UserLeft("u1".into())).unwrap();
    assert_only_tenant_caches(&f.kv);
}

#[test]
fn an_expired_lease_is_taken_over_and_a_live_one_is_not() {
    let f = Fakes::working();
    let now = f.clock.now_ms();
    f.kv.increment(&keys::claim_generation("u1", 1), 1).unwrap();
    f.kv.set(
        &keys::claim_owner("u1"),
        format!("1:{}", now + 1000).as_bytes(),
    )
    .unwrap();
    assert_eq!(
        status(&start_u1(&f)),
        Some(&HandoverStatus::AlreadyInProgress)
    );
    f.clock.advance(1000);
    assert_eq!(status(&start_u1(&f)), Some(&HandoverStatus::Queued));
    assert_eq!(f.genesys.conversations_opened(), 1);
}

#[test]
fn a_failed_start_gives_its_claim_up_at_once() {
    let f = Fakes::working();
    let offline = Env {
        http: &NoHttp,
        ..f.env()
    };
    let node = HandoverSettings::default();
    assert!(start(&offline, &user(), &[], &node).is_err());
    assert_eq!(status(&start_u1(&f)), Some(&HandoverStatus::Queued));
    end(&f.env(), &EndSignal::UserLeft("u1".into())).unwrap();
    assert_only_tenant_caches(&f.kv);
}

#[test]
fn a_refused_message_is_an_error_and_never_sent_later() {
    let f = Fakes::working();
    start_u1(&f);
    let refused = format!("{REFUSED_PREFIX} no");
    let e = user_message(&f.env(), "u1", &UserEvent::Text(refused.clone()), None).unwrap_err();
    assert!(
        matches!(e, Error::Api(ApiError { status: 400, .. })),
        "{e:?}"
    );
    let o = user_message(&f.env(), "u1", &UserEvent::Text("next".into()), None).unwrap();
    assert!(o.warnings.is_empty());
    assert!(flush(&f.env(), "u1").unwrap().warnings.is_empty());
    let texts: Vec<String> = f
        .genesys
        .accepted()
        .into_iter()
        .filter_map(|m| m.text)
        .collect();
    assert!(!texts.contains(&refused));
    assert_eq!(texts.last().map(String::as_str), Some("next"));
}

#[test]
fn someone_elses_refused_item_is_skipped() {
    let f = Fakes::working();
    start_u1(&f);
    let h = state::handover::load(&f.kv, "u1").unwrap().unwrap();
    // A call queued this and died before delivering it.
    let body = crate::genesys::inbound::text_message(
        crate::genesys::inbound::from("u1", None),
        "00000000-0000-4000-8000-0000000000ff",
        "2026-01-01T00:00:00.000Z",
        &format!("{REFUSED_PREFIX} stray"),
        None,
    );
    let item = state::outbox::Item {
        kind: crate::genesys::inbound::Kind::Message,
        body: serde_json::to_value(body).unwrap(),
        tried: false,
        created_ms: 0,
    };
    state::outbox::push(&f.kv, h.scope(), &item).unwrap();
    let o = user_message(&f.env(), "u1", &UserEvent::Text("mine".into()), None).unwrap();
    assert!(o.warnings.is_empty());
    let texts: Vec<String> = f
        .genesys
        .accepted()
        .into_iter()
        .filter_map(|m| m.text)
        .collect();
    assert_eq!(texts.last().map(String::as_str), Some("mine"));
    end(&f.env(), &EndSignal::UserLeft("u1".into())).unwrap();
    assert_only_tenant_caches(&f.kv);
}

#[test]
fn an_event_for_an_earlier_conversation_does_not_end_the_next_handover() {
    let f = Fakes::working();
    start_u1(&f);
    end(&f.env(), &EndSignal::UserLeft("u1".into())).unwrap();
    start_u1(&f);
    // A mapping left behind by an ending that died half-way.
    f.kv.set(&keys::conversation("conversation-1"), b"u1")
        .unwrap();
    let ev = br#"{"detail":{"topicName":"v2.detail.events.conversation.conversation-1.customer.end","eventBody":{"conversationId":"conversation-1"}}}"#;
    let o = end(&f.env(), &EndSignal::GenesysEvent(ev.to_vec())).unwrap();
    assert_eq!(o.warnings, vec![Warning::NoOpenHandover]);
    assert!(state::handover::load(&f.kv, "u1").unwrap().is_some());
}

#[test]
fn a_record_written_by_the_previous_version_still_works() {
    let f = Fakes::working();
    let old = r#"{"user_id":"u1","session_id":"s1","integration_id":"integration-1","conversation_id":"conversation-9","display_agent_details":false,"user_connects_message":true,"user_disconnects_message":true,"disconnect_message":null,"agent":null,"started_ms":1,"last_activity_ms":1,"transfer_ms":null}"#;
    f.kv.set(&keys::handover("u1"), old.as_bytes()).unwrap();
    f.kv.set(&keys::conversation("conversation-9"), b"u1")
        .unwrap();
    let h = state::handover::load(&f.kv, "u1").unwrap().unwrap();
    assert_eq!(h.hid, "c-conversation-9");
    let o = end(&f.env(), &EndSignal::InactivityCheck("u1".into())).unwrap();
    assert!(o.actions.is_empty(), "idle time starts at the first check");
    user_message(&f.env(), "u1", &UserEvent::Text("still here".into()), None).unwrap();
    let o = end(&f.env(), &EndSignal::UserLeft("u1".into())).unwrap();
    assert_eq!(
        status(&o),
        Some(&HandoverStatus::Ended(EndReason::UserLeft))
    );
    assert_only_tenant_caches(&f.kv);
}
