//! The stored records read back as every earlier release wrote them (the serde-derived
//! ones in field order, the release with a hand-written codec in sorted key order), round
//! trip, and refuse what is corrupt.

use super::keys::{self, Scope};
use super::outbox::{Item, Refusal, Slot};
use super::sent::{File, Note};
use super::{cache, handover, outbox, sent, Handover};
use crate::genesys::inbound::Kind;
use crate::model::{AgentInfo, Error, QueueFigures};
use crate::ports::Kv;
use crate::testing::fakes::{BinaryCounters, MemKv};

fn stored(kv: &MemKv, key: &str, text: &str) {
    kv.set(key, text.as_bytes()).unwrap();
}

fn handover_record() -> Handover {
    Handover {
        user_id: "u1".into(),
        session_id: "s1".into(),
        hid: "h1".into(),
        generation: 3,
        integration_id: "i1".into(),
        conversation_id: "c1".into(),
        display_agent_details: true,
        user_connects_message: false,
        user_disconnects_message: true,
        disconnect_message: None,
        inactivity_timeout_secs: None,
        opened_ms: None,
    }
}

#[test]
fn records_written_by_the_serde_version_read_back() {
    let kv = MemKv::default();
    stored(
        &kv,
        &keys::handover("u1"),
        r#"{"user_id":"u1","session_id":"s1","hid":"h1","generation":3,"integration_id":"i1","conversation_id":"c1","display_agent_details":true,"user_connects_message":false,"user_disconnects_message":true,"disconnect_message":null}"#,
    );
    // Written before the record kept when the handover opened: that is unknown.
    assert_eq!(handover::load(&kv, "u1").unwrap(), Some(handover_record()));
    // This release's record: the same, and when it opened.
    stored(
        &kv,
        &keys::handover("u3"),
        r#"{"user_id":"u3","session_id":"s1","hid":"h3","generation":3,"integration_id":"i1","conversation_id":"c1","display_agent_details":true,"user_connects_message":false,"user_disconnects_message":true,"disconnect_message":null,"opened_ms":1764062043512}"#,
    );
    let now = handover::load(&kv, "u3").unwrap().unwrap();
    assert_eq!(now.opened_ms, Some(1_764_062_043_512));
    // A record from before handover ids: no `hid`, no `generation`, and an unknown field.
    stored(
        &kv,
        &keys::handover("u2"),
        r#"{"user_id":"u2","session_id":"s","integration_id":"i","conversation_id":"c9","display_agent_details":false,"user_connects_message":true,"user_disconnects_message":false,"disconnect_message":"Bye","later":[1,{"x":null}]}"#,
    );
    let old = handover::load(&kv, "u2").unwrap().unwrap();
    assert_eq!((old.hid.as_str(), old.generation), ("c-c9", 0));
    assert_eq!(old.opened_ms, None);
    assert_eq!(old.disconnect_message.as_deref(), Some("Bye"));
    assert_eq!(old.inactivity_timeout_secs, None, "the tenant's timeout");
    // This release: the node's own inactivity timeout, absent or not.
    stored(
        &kv,
        &keys::handover("u3"),
        r#"{"user_id":"u3","session_id":"s","hid":"h3","generation":1,"integration_id":"i","conversation_id":"c3","display_agent_details":false,"user_connects_message":true,"user_disconnects_message":true,"disconnect_message":null,"inactivity_timeout_secs":90}"#,
    );
    let h3 = handover::load(&kv, "u3").unwrap().unwrap();
    assert_eq!(h3.inactivity_timeout_secs, Some(90));
    stored(
        &kv,
        &keys::handover("u4"),
        r#"{"user_id":"u4","session_id":"s","hid":"h4","generation":1,"integration_id":"i","conversation_id":"c4","display_agent_details":false,"user_connects_message":true,"user_disconnects_message":true,"disconnect_message":null,"inactivity_timeout_secs":null}"#,
    );
    assert_eq!(
        handover::load(&kv, "u4")
            .unwrap()
            .unwrap()
            .inactivity_timeout_secs,
        None
    );

    stored(
        &kv,
        keys::TOKEN,
        r#"{"access_token":"t\"1","expires_at_ms":1700000000000,"client_id":"cid","region":"mypurecloud.de"}"#,
    );
    let t = cache::token(&kv).unwrap().unwrap();
    assert_eq!(
        (t.access_token.as_str(), t.expires_at_ms, t.region.as_str()),
        ("t\"1", 1_700_000_000_000, "mypurecloud.de")
    );

    stored(
        &kv,
        &keys::agent_cache("g1"),
        r#"{"name":"Ada","avatar_url":null}"#,
    );
    assert_eq!(
        cache::agent(&kv, "g1").unwrap(),
        Some(AgentInfo {
            name: "Ada".into(),
            avatar_url: None
        })
    );

    stored(
        &kv,
        &keys::queue_status("q1"),
        r#"{"at_ms":1000,"estimated_wait_seconds":null,"agents_on_queue":4,"agents_available":1,"interacting":2}"#,
    );
    let q = cache::queue_status(&kv, "q1", 1500, 60_000)
        .unwrap()
        .unwrap();
    assert_eq!(
        (q.estimated_wait_seconds, q.agents_on_queue, q.interacting),
        (None, 4, 2)
    );

    let scope = Scope("h1");
    stored(
        &kv,
        &scope.sent(1),
        r#"{"message_id":"m1","text":"hi","file":{"url":"https://x/y.png","mime_type":"image/png","file_name":null}}"#,
    );
    let note = sent::find(&kv, scope, 1, "m1").unwrap().unwrap();
    assert_eq!(note.file.unwrap().mime_type, "image/png");

    stored(
        &kv,
        &scope.out_item(1),
        r#"{"pending":{"kind":"structured-response","body":{"text":"a","n":[1,2]},"tried":true,"created_ms":5}}"#,
    );
    stored(&kv, &scope.out_item(2), r#""done""#);
    stored(
        &kv,
        &scope.out_item(3),
        r#"{"refused":{"status":400,"code":"bad.request","message":"no"}}"#,
    );
    match outbox::slot(&kv, scope, 1).unwrap() {
        Some(Slot::Pending(item)) => {
            assert_eq!(item.kind, Kind::StructuredResponse);
            assert_eq!(item.body, serde_json::json!({"text": "a", "n": [1, 2]}));
            assert!(item.tried);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(outbox::slot(&kv, scope, 2).unwrap(), Some(Slot::Done));
    assert!(matches!(
        outbox::slot(&kv, scope, 3).unwrap(),
        Some(Slot::Refused(Refusal { status: 400, .. }))
    ));
}

#[test]
fn records_round_trip() {
    let kv = MemKv::default();
    let mut h = handover_record();
    h.disconnect_message = Some("Bye \u{1F44B}\n".into());
    h.inactivity_timeout_secs = Some(u32::MAX);
    h.opened_ms = Some(u64::MAX);
    handover::create(&kv, &h, 10).unwrap();
    assert_eq!(handover::load(&kv, "u1").unwrap(), Some(h.clone()));

    let agent = AgentInfo {
        name: "Grace".into(),
        avatar_url: Some("https://a/b.png".into()),
    };
    handover::set_agent(&kv, &h, Some(&agent)).unwrap();
    assert_eq!(handover::agent(&kv, &h).unwrap(), Some(agent));

    let figures = QueueFigures {
        estimated_wait_seconds: Some(u32::MAX),
        agents_on_queue: 0,
        agents_available: 7,
        interacting: 1,
    };
    cache::set_queue_status(&kv, "q", 50, &figures).unwrap();
    assert_eq!(cache::queue_status(&kv, "q", 50, 1).unwrap(), Some(figures));

    let note = Note {
        message_id: "m".into(),
        text: None,
        file: Some(File {
            url: "https://f".into(),
            mime_type: "text/plain".into(),
            file_name: Some("a \"b\".txt".into()),
        }),
    };
    sent::put(&kv, h.scope(), 4, &note).unwrap();
    assert_eq!(sent::find(&kv, h.scope(), 4, "m").unwrap(), Some(note));

    for slot in [
        Slot::Pending(Item {
            kind: Kind::Receipt,
            body: serde_json::json!({ "status": "Read", "x": [true, null] }),
            tried: false,
            created_ms: u64::MAX,
        }),
        Slot::Done,
        Slot::Refused(Refusal {
            status: 0,
            code: String::new(),
            message: "gave up".into(),
        }),
    ] {
        outbox::put(&kv, h.scope(), 9, &slot).unwrap();
        assert_eq!(outbox::slot(&kv, h.scope(), 9).unwrap(), Some(slot));
    }
}

#[test]
fn corrupt_records_are_refused_and_corrupt_caches_are_absent() {
    let kv = MemKv::default();
    let corrupt = [
        r#"{"user_id":7}"#,
        r#"{"user_id":"u","session_id":"s"}"#,
        r#"null"#,
        r#"{"user_id":"u"} x"#,
        r#"{"user_id":"u","#,
    ];
    for text in corrupt {
        stored(&kv, &keys::handover("u"), text);
        match handover::load(&kv, "u") {
            Err(Error::Storage(m)) => assert!(m.starts_with("handover record is corrupt"), "{m}"),
            other => panic!("{text}: {other:?}"),
        }
    }
    stored(
        &kv,
        &Scope("h").out_item(1),
        r#"{"pending":{"kind":"fax"}}"#,
    );
    assert!(outbox::slot(&kv, Scope("h"), 1).is_err());
    stored(&kv, &Scope("h").out_item(1), r#""pending""#);
    assert!(outbox::slot(&kv, Scope("h"), 1).is_err());
    // Caches: unreadable means absent.
    stored(
        &kv,
        keys::TOKEN,
        r#"{"access_token":"t","expires_at_ms":-1}"#,
    );
    assert_eq!(cache::token(&kv).unwrap(), None);
    stored(
        &kv,
        &keys::queue_status("q"),
        r#"{"at_ms":1,"agents_on_queue":4294967296,"agents_available":0,"interacting":0}"#,
    );
    assert_eq!(cache::queue_status(&kv, "q", 1, 10).unwrap(), None);
}

/// The release before this one wrote records with its own JSON writer: keys sorted, the
/// same names and values. They read back as they were.
#[test]
fn records_written_by_the_hand_written_codec_read_back() {
    let kv = MemKv::default();
    stored(
        &kv,
        &keys::handover("u1"),
        r#"{"conversation_id":"c1","disconnect_message":null,"display_agent_details":true,"generation":3,"hid":"h1","integration_id":"i1","session_id":"s1","user_connects_message":false,"user_disconnects_message":true,"user_id":"u1"}"#,
    );
    assert_eq!(handover::load(&kv, "u1").unwrap(), Some(handover_record()));
    stored(
        &kv,
        keys::TOKEN,
        r#"{"access_token":"t","client_id":"cid","expires_at_ms":5,"region":"mypurecloud.com"}"#,
    );
    assert_eq!(cache::token(&kv).unwrap().unwrap().client_id, "cid");
    stored(
        &kv,
        &keys::queue_status("q1"),
        r#"{"agents_available":1,"agents_on_queue":4,"at_ms":1000,"estimated_wait_seconds":30,"interacting":2}"#,
    );
    let q = cache::queue_status(&kv, "q1", 1500, 60_000)
        .unwrap()
        .unwrap();
    assert_eq!(q.estimated_wait_seconds, Some(30));
    let scope = Scope("h1");
    stored(
        &kv,
        &scope.sent(2),
        r#"{"file":null,"message_id":"m2","text":"hello"}"#,
    );
    let note = sent::find(&kv, scope, 2, "m2").unwrap().unwrap();
    assert_eq!(note.text.as_deref(), Some("hello"));
    stored(
        &kv,
        &scope.out_item(4),
        r#"{"pending":{"body":{"a":1},"created_ms":5,"kind":"receipt","tried":false}}"#,
    );
    match outbox::slot(&kv, scope, 4).unwrap() {
        Some(Slot::Pending(item)) => assert_eq!(item.kind, Kind::Receipt),
        other => panic!("{other:?}"),
    }
}

/// `end` reads the handover's counters in one `get-many`; a host whose counters are not
/// decimal text has them read again through `increment`, and every key still goes.
#[test]
fn a_handover_on_a_host_with_binary_counters_is_removed_whole() {
    use super::{joined, seen, warned};
    let kv = BinaryCounters(MemKv::default());
    let h = handover_record();
    handover::create(&kv, &h, 1_000).unwrap();
    let scope = h.scope();
    let item = Item {
        kind: Kind::Message,
        body: serde_json::json!({"text": "hi"}),
        tried: false,
        created_ms: 1_000,
    };
    for _ in 0..2 {
        outbox::push(&kv, scope, &item).unwrap();
    }
    for id in ["m-1", "m-2", "m-3"] {
        assert!(seen::first_copy(&kv, scope, id).unwrap());
    }
    assert!(warned::claim(&kv, scope, 1_000).unwrap());
    assert_eq!(joined::next_epoch(&kv, scope).unwrap(), 1);
    joined::set_by(&kv, scope, 1, joined::BY_EVENT).unwrap();
    handover::remove(&kv, &h).unwrap();
    assert_eq!(kv.0.keys(), Vec::<String>::new());
}
