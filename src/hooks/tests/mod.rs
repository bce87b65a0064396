//! Native tests of the hooks on the in-memory fakes: whole handovers and random input
//! here, with the shared helpers; the concurrency contract in `concurrency.rs`; claims,
//! endings and cleanup in `lifecycle.rs`; inactivity timeouts and warnings in
//! `inactivity.rs`; the rest by subject in the other files.

mod agents;
mod bots;
mod concurrency;
mod first_message;
mod inactivity;
mod lifecycle;
mod limits;
mod receipts;
mod round_trips;
mod stale;
mod structured;
mod turns;
mod urls;

use super::*;
use crate::genesys::signature;
use crate::model::*;
use crate::ports::Env;
use crate::state::{self, Handover};
use crate::testing::fixtures::{self, Rng, WEBHOOK_SECRET};
use crate::testing::{FakeGenesys, Fakes, FixedClock, MapConfig, MemKv, NoHttp};

fn user() -> UserProfile {
    UserProfile {
        user_id: "u1".into(),
        session_id: "s1".into(),
        ..UserProfile::default()
    }
}

/// A handover record as `start` would write it, for tests that need one without Genesys.
fn handover(user_id: &str, hid: &str) -> Handover {
    Handover {
        user_id: user_id.into(),
        session_id: "s1".into(),
        hid: hid.into(),
        generation: 0,
        integration_id: "i".into(),
        conversation_id: "c".into(),
        display_agent_details: false,
        user_connects_message: true,
        user_disconnects_message: true,
        disconnect_message: None,
        inactivity_timeout_secs: None,
        opened_ms: None,
    }
}

#[test]
fn a_whole_handover_natively() {
    let (http, kv, config, clock) = (
        FakeGenesys::default(),
        MemKv::default(),
        MapConfig::working(),
        FixedClock::default(),
    );
    let env = Env {
        http: &http,
        kv: &kv,
        config: &config,
        clock: &clock,
    };
    let o = start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
    assert_eq!(o.actions, vec![Action::Status(HandoverStatus::Queued)]);
    let genesys = Some(GenesysRef {
        integration_id: fixtures::INTEGRATION_ID.into(),
        conversation_id: "conversation-1".into(),
    });
    assert_eq!(o.genesys, genesys);
    let o = user_message(&env, "u1", &UserEvent::Text("hi".into()), None).unwrap();
    assert_eq!(o.genesys, genesys);
    let w = fixtures::text_webhook("u1", "a1", "hello");
    let o = agent_message(&env, &w).unwrap();
    // No `user.start` event came: the agent's first message says the agent joined.
    assert!(
        matches!(&o.actions[..], [Action::Status(HandoverStatus::AgentJoined(None)),
        Action::SendText(t)] if t.text == "hello")
    );
    let ev = br#"{"detail":{"topicName":"v2.detail.events.conversation.conversation-1.customer.end","eventBody":{"conversationId":"conversation-1"}}}"#;
    let o = end(&env, &EndSignal::GenesysEvent(ev.to_vec())).unwrap();
    assert_eq!(
        o.actions,
        vec![Action::Status(HandoverStatus::Ended(
            EndReason::CustomerEnded
        ))]
    );
    assert_eq!(o.genesys, genesys);
    assert!(kv
        .keys()
        .iter()
        .all(|k| !k.starts_with("handover/") && !k.starts_with("conversation/")));
}

#[test]
fn random_webhooks_and_events_never_panic_or_act_unsigned() {
    let (kv, config, clock) = (
        MemKv::default(),
        MapConfig::working(),
        FixedClock::default(),
    );
    let env = Env {
        http: &NoHttp,
        kv: &kv,
        config: &config,
        clock: &clock,
    };
    let h = handover("u1", "hid-1");
    state::handover::create(&kv, &h, 0).unwrap();
    let seeds: [&[u8]; 4] = [
        br#"{"id":"a1","channel":{"to":{"id":"u1"}},"type":"Structured","text":"t","content":[{"contentType":"QuickReply","quickReply":{"text":"a","payload":"b"}}]}"#,
        br#"{"id":"a2","channel":{"to":{"id":"u1"}},"type":"Event","events":[{"eventType":"Typing"}]}"#,
        br#"{"detail":{"topicName":"v2.detail.events.conversation.c.user.end","eventBody":{"conversationId":"c","disconnectType":"TRANSFER"}}}"#,
        br#"{"userId":"u1","topic":"v2.detail.events.conversation.id.acw"}"#,
    ];
    let mut rng = Rng::new(0x1234_5678_9abc_def1);
    for i in 0..20_000 {
        let mut body = seeds[rng.below(4) as usize].to_vec();
        for _ in 0..rng.below(4) {
            let at = rng.below(body.len() as u64 + 1) as usize;
            match rng.below(3) {
                0 if at < body.len() => body[at] = rng.next_u64() as u8,
                1 => body.truncate(at),
                _ => body.insert(at.min(body.len()), b"{}[]\":,0"[rng.below(8) as usize]),
            }
        }
        let signed = i % 2 == 0;
        let header = if signed {
            signature::sign(WEBHOOK_SECRET, &body)
        } else {
            format!("sha256={}", "x".repeat(i % 50))
        };
        let w = Webhook {
            headers: vec![("x-hub-signature-256".into(), header)],
            body: body.clone(),
        };
        match agent_message(&env, &w) {
            Ok(_) => assert!(signed),
            Err(Error::BadSignature(_)) => assert!(!signed),
            Err(_) => assert!(signed),
        }
        let _ = end(&env, &EndSignal::GenesysEvent(body));
        if state::handover::load(&kv, "u1").unwrap().is_none() {
            state::handover::create(&kv, &h, 0).unwrap();
        }
    }
}

#[test]
fn every_outcome_of_a_known_handover_names_its_genesys_conversation() {
    let f = Fakes::working();
    let env = f.env();
    start(&env, &user(), &[], &fixtures::node_settings()).unwrap();
    let again = start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
    assert_eq!(
        again.actions,
        vec![Action::Status(HandoverStatus::AlreadyInProgress)]
    );
    let outcomes = [
        again,
        user_message(&env, "u1", &UserEvent::Typing, None).unwrap(),
        flush(&env, "u1").unwrap(),
        report_delivery(&env, "u1", "a1", false, Some("tab closed")).unwrap(),
        end(&env, &EndSignal::InactivityCheck("u1".into())).unwrap(),
        end(&env, &EndSignal::UserLeft("u1".into())).unwrap(),
    ];
    for o in outcomes {
        let g = o.genesys.expect("genesys ref");
        assert_eq!(g.conversation_id, "conversation-1");
        assert_eq!(g.integration_id, fixtures::INTEGRATION_ID);
    }
    assert_eq!(flush(&env, "u1").unwrap().genesys, None);
}

fn attachment(url: &str) -> UserEvent {
    UserEvent::Attachment(Attachment {
        url: url.into(),
        mime_type: "image/png".into(),
        file_name: Some("x.png".into()),
    })
}

/// A user attachment with a caption.
fn captioned(url: &str, caption: &str) -> UserEvent {
    let UserEvent::Attachment(attachment) = attachment(url) else {
        unreachable!()
    };
    UserEvent::CaptionedAttachment(CaptionedAttachment {
        attachment,
        caption: caption.into(),
    })
}

/// A signed receipt from Genesys about user message `message_id`: `Failed` with `code`, or
/// the status itself when `code` is `Delivered` or `Read`.
fn failed_receipt(user_id: &str, message_id: &str, code: &str) -> Webhook {
    let status = match code {
        "Delivered" | "Read" => code,
        _ => "Failed",
    };
    let mut body = serde_json::json!({
        "id": message_id,
        "channel": { "id": fixtures::INTEGRATION_ID, "platform": "Open", "type": "Private",
                     "to": { "id": user_id, "idType": "Opaque" },
                     "time": "2026-11-25T09:14:04.100Z" },
        "type": "Receipt", "status": status, "isFinalReceipt": true, "direction": "Inbound"
    });
    if status == "Failed" {
        body["reasons"] =
            serde_json::json!([{ "code": code, "message": format!("{code} (test)") }]);
    }
    fixtures::signed(body.to_string().into_bytes(), WEBHOOK_SECRET)
}

/// A `user.start` Data Action event for `user_id`: the agent joined, announced by it.
fn agent_joins(env: &Env, user_id: &str) -> Outcome {
    let ev = format!(
        r#"{{"userId":"{user_id}","topic":"v2.detail.events.conversation.c.user.start","agentUserId":"agent-1"}}"#
    );
    end(env, &EndSignal::GenesysEvent(ev.into_bytes())).unwrap()
}
