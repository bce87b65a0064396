//! Native tests of the hooks on the in-memory fakes: whole handovers and random input
//! here; the concurrency contract (real threads on one shared store) in `concurrency.rs`;
//! claims, endings and cleanup in `lifecycle.rs`.

mod concurrency;
mod lifecycle;

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
    let o = user_message(&env, "u1", &UserEvent::Text("hi".into())).unwrap();
    assert_eq!(o.genesys, genesys);
    let w = fixtures::text_webhook("u1", "a1", "hello");
    let o = agent_message(&env, &w).unwrap();
    assert!(matches!(&o.actions[0], Action::SendText(t) if t.text == "hello"));
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
        user_message(&env, "u1", &UserEvent::Typing).unwrap(),
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

#[test]
fn bot_messages_become_updates_only_when_asked() {
    for handle in [false, true] {
        let f = Fakes {
            config: MapConfig::working().with("handle-bot-messages", &handle.to_string()),
            ..Fakes::default()
        };
        start(&f.env(), &user(), &[], &HandoverSettings::default()).unwrap();
        let body = String::from_utf8(fixtures::text_webhook_body("u1", "b1", "Please hold"))
            .unwrap()
            .replace(
                r#""originatingEntity":"Human""#,
                r#""originatingEntity":"Bot""#,
            );
        let w = fixtures::signed(body.into_bytes(), WEBHOOK_SECRET);
        let o = agent_message(&f.env(), &w).unwrap();
        if handle {
            let update = HandoverStatus::Update("Please hold".into());
            assert_eq!(o.actions, vec![Action::Status(update)]);
        } else {
            assert!(o.actions.is_empty());
            assert_eq!(o.warnings, vec![Warning::BotMessageDropped]);
        }
    }
}

fn attachment(url: &str) -> UserEvent {
    UserEvent::Attachment(Attachment {
        url: url.into(),
        mime_type: "image/png".into(),
        file_name: Some("x.png".into()),
    })
}

#[test]
fn a_user_text_over_the_limit_is_refused_before_anything_is_stored_or_sent() {
    let f = Fakes::working();
    let env = f.env();
    start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
    let (calls, keys) = (f.genesys.calls(), f.kv.keys());
    let outbox_before = f.kv.entries.lock().unwrap().clone();
    let huge = UserEvent::Text("x".repeat(1024 * 1024));
    assert_eq!(
        user_message(&env, "u1", &huge),
        Err(Error::InvalidInput(
            "user text of 1048576 characters is over the limit of 20000 (max-user-text-chars)"
                .into()
        ))
    );
    let one_over = UserEvent::Text("é".repeat(20_001));
    let e = user_message(&env, "u1", &one_over).unwrap_err();
    assert!(
        matches!(&e, Error::InvalidInput(m) if m.contains("20001 characters")),
        "{e}"
    );
    assert_eq!(f.genesys.calls(), calls, "no request to Genesys");
    assert_eq!(f.kv.keys(), keys, "nothing queued");
    assert_eq!(*f.kv.entries.lock().unwrap(), outbox_before);
    // Refused even without an open handover: nothing is looked up in Genesys for it.
    let e = user_message(&env, "nobody", &huge).unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)));
}

#[test]
fn a_user_text_at_the_limit_is_sent_counting_characters_not_bytes() {
    let f = Fakes::working();
    let env = f.env();
    start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
    let before = f.genesys.accepted().len();
    let at_limit = "é".repeat(20_000);
    let o = user_message(&env, "u1", &UserEvent::Text(at_limit.clone())).unwrap();
    assert!(o.warnings.is_empty());
    let sent: String = f.genesys.accepted()[before..]
        .iter()
        .filter_map(|m| m.text.clone())
        .collect();
    assert_eq!(
        f.genesys.accepted().len() - before,
        4,
        "four Genesys messages"
    );
    assert_eq!(sent, at_limit);

    let f = Fakes {
        config: MapConfig::working().with("max-user-text-chars", " 7 "),
        ..Fakes::default()
    };
    let env = f.env();
    start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
    user_message(&env, "u1", &UserEvent::Text("1234567".into())).unwrap();
    let e = user_message(&env, "u1", &UserEvent::Text("12345678".into())).unwrap_err();
    assert_eq!(
        e,
        Error::InvalidInput(
            "user text of 8 characters is over the limit of 7 (max-user-text-chars)".into()
        )
    );
    let texts: Vec<_> = f
        .genesys
        .accepted()
        .into_iter()
        .filter_map(|m| m.text)
        .collect();
    assert_eq!(texts.last().map(String::as_str), Some("1234567"));
}

#[test]
fn max_user_text_chars_must_be_a_positive_whole_number() {
    for bad in ["0", "-1", "1.5", "lots", "99999999999999999999999"] {
        let f = Fakes {
            config: MapConfig::working().with("max-user-text-chars", bad),
            ..Fakes::default()
        };
        let e = user_message(&f.env(), "u1", &UserEvent::Text("hi".into())).unwrap_err();
        assert!(
            matches!(&e, Error::Config(m) if m.contains("max-user-text-chars") && !m.contains(bad)),
            "{bad}: {e}"
        );
        assert!(f.genesys.calls().is_empty());
    }
}

#[test]
fn a_user_attachment_with_an_unsafe_url_is_dropped_with_a_warning() {
    let f = Fakes::working();
    let env = f.env();
    start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
    let (calls, keys) = (f.genesys.calls(), f.kv.keys());
    for url in [
        "javascript:alert(document.cookie)",
        "JavaScript:alert(1)",
        "data:image/png;base64,iVBORw0KGgo=",
        "file:///etc/passwd",
        "ftp://files.example/x.png",
        "http://files.example/x.png",
        "files.example/x.png",
        "https://evil@169.254.169.254/latest/meta-data/",
        "https://[::1]/x.png",
    ] {
        let o = user_message(&env, "u1", &attachment(url)).unwrap();
        assert_eq!(o.warnings, vec![Warning::UnsafeUrlDropped], "{url}");
        assert!(o.actions.is_empty());
        assert_eq!(o.user_id.as_deref(), Some("u1"));
    }
    assert_eq!(f.genesys.calls(), calls, "nothing sent to Genesys");
    assert_eq!(f.kv.keys(), keys, "nothing queued");
    // An empty URL is still a caller's mistake, not a dropped attachment.
    let e = user_message(&env, "u1", &attachment(" ")).unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)));

    let o = user_message(&env, "u1", &attachment("HTTPS://files.example/x.png")).unwrap();
    assert!(o.warnings.is_empty());
    let last = f.genesys.accepted().pop().unwrap();
    let att = &last.body["content"][0]["attachment"];
    assert_eq!(att["url"], "HTTPS://files.example/x.png");
}

fn attachments(o: &Outcome) -> Vec<&Attachment> {
    o.actions
        .iter()
        .filter_map(|a| match a {
            Action::SendAttachment(a) => Some(&a.attachment),
            _ => None,
        })
        .collect()
}

#[test]
fn agent_attachments_reach_the_user_only_over_https() {
    let f = Fakes::working();
    let env = f.env();
    start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
    let unsafe_urls = [
        "http://files.example/x.png",
        "data:image/png;base64,iVBORw0KGgo=",
        "javascript:alert(1)",
        "https://169.254.169.254/latest/meta-data/",
    ];
    for (i, url) in unsafe_urls.iter().enumerate() {
        let w = fixtures::attachment_webhook("u1", &format!("bad{i}"), "", url, "image/png");
        let o = agent_message(&env, &w).unwrap();
        assert!(o.actions.is_empty(), "{url}: {:?}", o.actions);
        assert_eq!(o.warnings, vec![Warning::UnsafeUrlDropped], "{url}");
    }
    // The text of the message still goes; only the attachment is dropped.
    let w = fixtures::attachment_webhook("u1", "mixed", "see this", unsafe_urls[0], "image/png");
    let o = agent_message(&env, &w).unwrap();
    assert!(matches!(&o.actions[..], [Action::SendText(t)] if t.text == "see this"));
    assert_eq!(o.warnings, vec![Warning::UnsafeUrlDropped]);

    let url = "https://api-downloads.mypurecloud.de/api/v2/downloads/abc";
    let w = fixtures::attachment_webhook("u1", "good", "", url, "image/png");
    let o = agent_message(&env, &w).unwrap();
    assert_eq!(attachments(&o).len(), 1);
    assert_eq!(attachments(&o)[0].url, url);
    assert!(o.warnings.is_empty());
}

#[test]
fn agent_link_buttons_and_avatars_reach_the_user_only_over_https() {
    let f = Fakes::working();
    let env = f.env();
    start(&env, &user(), &[], &fixtures::node_settings()).unwrap();
    let h = state::handover::load(&f.kv, "u1").unwrap().unwrap();
    let agent = AgentInfo {
        name: "Alex Agent".into(),
        avatar_url: Some("http://avatars.example/alex.png".into()),
    };
    state::handover::set_agent(&f.kv, &h, Some(&agent)).unwrap();
    let mut body: serde_json::Value =
        serde_json::from_slice(&fixtures::text_webhook_body("u1", "card", "Pick one")).unwrap();
    body["type"] = "Structured".into();
    body["content"] = serde_json::json!([{ "contentType": "Card", "card": { "title": "Shop",
        "actions": [
            { "type": "Link", "text": "Bad", "url": "javascript:alert(1)" },
            { "type": "Link", "text": "Good", "url": "https://shop.example/red" },
            { "type": "Postback", "text": "Pick", "payload": "pick" } ] } }]);
    let w = fixtures::signed(body.to_string().into_bytes(), WEBHOOK_SECRET);
    let o = agent_message(&env, &w).unwrap();
    let [Action::SendChoices(c)] = &o.actions[..] else {
        panic!("{:?}", o.actions)
    };
    let values: Vec<&str> = c.choices.iter().map(|c| c.value.as_str()).collect();
    assert_eq!(values, ["https://shop.example/red", "pick"]);
    let shown = c.agent.as_ref().expect("agent shown");
    assert_eq!(
        (shown.name.as_str(), shown.avatar_url.as_deref()),
        ("Alex Agent", None)
    );
    assert_eq!(o.warnings, vec![Warning::UnsafeUrlDropped]);

    // A safe avatar is passed on without a warning.
    let agent = AgentInfo {
        avatar_url: Some("https://avatars.example/alex.png".into()),
        ..agent
    };
    state::handover::set_agent(&f.kv, &h, Some(&agent)).unwrap();
    let o = agent_message(&env, &fixtures::text_webhook("u1", "t1", "hi")).unwrap();
    assert!(matches!(&o.actions[..], [Action::SendText(t)] if t.agent == Some(agent.clone())));
    assert!(o.warnings.is_empty());
}
