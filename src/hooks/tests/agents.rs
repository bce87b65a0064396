//! The agent joined and what the user sees of them: announced by the first message of a
//! human agent when no `user.start` came, once even under concurrent copies, with the name
//! from the Users API under `send-profile` and a lookup failure shown as an unknown agent.

use super::*;
use crate::testing::genesys::AGENT_USER_ID;
use std::sync::atomic::Ordering;
use std::sync::Barrier;

fn alex(avatar: bool) -> AgentInfo {
    AgentInfo {
        name: "Alex Agent".into(),
        avatar_url: avatar.then(|| "https://a/x96".into()),
    }
}

fn joined(agent: Option<AgentInfo>) -> Action {
    Action::Status(HandoverStatus::AgentJoined(agent))
}

fn text_of(a: &Action) -> Option<(&str, Option<&AgentInfo>)> {
    match a {
        Action::SendText(t) => Some((t.text.as_str(), t.agent.as_ref())),
        _ => None,
    }
}

#[test]
fn a_human_message_before_any_user_start_announces_the_agent_first() {
    let f = Fakes::working();
    let env = f.env();
    start(&env, &user(), &[], &fixtures::node_settings()).unwrap();
    let o = agent_message(&env, &fixtures::text_webhook("u1", "a1", "Hello, I'm Alex")).unwrap();
    assert_eq!(o.actions[0], joined(Some(alex(true))));
    assert_eq!(
        text_of(&o.actions[1]),
        Some(("Hello, I'm Alex", Some(&alex(true))))
    );
    assert!(o.warnings.is_empty(), "{:?}", o.warnings);
    let user_lookup = format!("/api/v2/users/{AGENT_USER_ID}");
    assert!(f.genesys.calls().iter().any(|c| c.ends_with(&user_lookup)));
    // Once per agent: neither the next message nor a late `user.start` says it again.
    let o = agent_message(&env, &fixtures::text_webhook("u1", "a2", "How can I help?")).unwrap();
    assert_eq!(o.actions.len(), 1);
    assert_eq!(text_of(&o.actions[0]).unwrap().1, Some(&alex(true)));
    assert!(agent_joins(&env, "u1").actions.is_empty());
}

#[test]
fn bot_messages_and_receipts_do_not_announce_an_agent() {
    let f = Fakes {
        config: MapConfig::working().with("handle-bot-messages", "true"),
        ..Fakes::default()
    };
    let env = f.env();
    start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
    let body = String::from_utf8(fixtures::text_webhook_body("u1", "b1", "Please hold"))
        .unwrap()
        .replace(r#""Human""#, r#""Bot""#);
    let o = agent_message(&env, &fixtures::signed(body.into_bytes(), WEBHOOK_SECRET)).unwrap();
    assert!(
        matches!(&o.actions[..], [Action::SendText(t)] if t.sender == Sender::Bot),
        "{o:?}"
    );
    let o = agent_message(&env, &failed_receipt("u1", "m1", "Delivered")).unwrap();
    assert!(o.actions.is_empty());
    let o = agent_message(&env, &fixtures::text_webhook("u1", "a1", "hi")).unwrap();
    assert_eq!(o.actions[0], joined(None));
}

#[test]
fn send_profile_shows_the_agent_name_even_without_agent_details() {
    let f = Fakes {
        config: MapConfig::working().with("send-profile", "true"),
        ..Fakes::default()
    };
    let env = f.env();
    start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
    let o = agent_message(&env, &fixtures::text_webhook("u1", "a1", "hi")).unwrap();
    assert_eq!(o.actions[0], joined(Some(alex(false))));
    assert_eq!(text_of(&o.actions[1]), Some(("hi", Some(&alex(false)))));
    // Neither setting: nothing of the agent is shown, and nothing is looked up.
    let f = Fakes::working();
    let env = f.env();
    start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
    let o = agent_message(&env, &fixtures::text_webhook("u1", "a1", "hi")).unwrap();
    assert_eq!(o.actions[0], joined(None));
    assert_eq!(text_of(&o.actions[1]), Some(("hi", None)));
    assert!(!f
        .genesys
        .calls()
        .iter()
        .any(|c| c.contains("/api/v2/users/")));
}

#[test]
fn a_failed_lookup_is_an_unknown_agent_with_a_warning_never_an_error() {
    let f = Fakes::working();
    let env = f.env();
    f.genesys.users_status.store(403, Ordering::SeqCst);
    start(&env, &user(), &[], &fixtures::node_settings()).unwrap();
    let o = agent_message(&env, &fixtures::text_webhook("u1", "a1", "hi")).unwrap();
    assert_eq!(o.actions[0], joined(None));
    assert_eq!(text_of(&o.actions[1]), Some(("hi", None)));
    assert!(
        matches!(&o.warnings[..], [Warning::AgentLookupFailed(why)] if why.contains("403")),
        "{:?}",
        o.warnings
    );
    // The same through a `user.start` event (after a transfer, so it announces again).
    let transfer = br#"{"userId":"u1","topic":"v2.detail.events.conversation.c.user.end","disconnectType":"TRANSFER"}"#;
    end(&env, &EndSignal::GenesysEvent(transfer.to_vec())).unwrap();
    let o = agent_joins(&env, "u1");
    assert_eq!(o.actions, vec![joined(None)]);
    assert!(matches!(&o.warnings[..], [Warning::AgentLookupFailed(_)]));
}

#[test]
fn without_api_credentials_the_agent_is_unknown_but_the_message_goes() {
    let f = Fakes::working();
    start(&f.env(), &user(), &[], &fixtures::node_settings()).unwrap();
    let webhook_only = Fakes {
        config: MapConfig::working().with("client-secret", ""),
        ..Fakes::default()
    };
    let env = Env {
        config: &webhook_only.config,
        ..f.env()
    };
    let o = agent_message(&env, &fixtures::text_webhook("u1", "a1", "hi")).unwrap();
    assert_eq!(o.actions[0], joined(None));
    assert!(
        matches!(&o.warnings[..], [Warning::AgentLookupFailed(why)] if why.contains("client-secret"))
    );
}

fn concurrently<T: Send>(n: usize, call: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let barrier = Barrier::new(n);
    std::thread::scope(|s| {
        let calls: Vec<_> = (0..n)
            .map(|i| {
                let (barrier, call) = (&barrier, &call);
                s.spawn(move || {
                    barrier.wait();
                    call(i)
                })
            })
            .collect();
        calls.into_iter().map(|c| c.join().unwrap()).collect()
    })
}

#[test]
fn sixteen_copies_of_the_first_message_announce_the_agent_once() {
    for round in 0..5 {
        let f = Fakes {
            kv: MemKv::with_jitter(),
            ..Fakes::working()
        };
        start(&f.env(), &user(), &[], &fixtures::node_settings()).unwrap();
        let w = fixtures::text_webhook("u1", &format!("{round:032x}"), "hello");
        let outcomes = concurrently(16, |_| agent_message(&f.env(), &w).unwrap());
        let firsts = outcomes.iter().filter(|o| o.warnings.is_empty()).count();
        assert_eq!(firsts, 1, "round {round}: {:?}", outcomes[0].warnings);
        // Every copy carries the same actions under one key: delivered once, the agent is
        // announced once, before the text.
        for o in &outcomes {
            assert_eq!(o.actions, outcomes[0].actions, "round {round}");
            assert_eq!(o.delivery_key, outcomes[0].delivery_key);
        }
        assert_eq!(outcomes[0].actions[0], joined(Some(alex(true))));
        assert_eq!(text_of(&outcomes[0].actions[1]).unwrap().0, "hello");
        let next = agent_message(&f.env(), &fixtures::text_webhook("u1", "next", "x")).unwrap();
        assert_eq!(next.actions.len(), 1);
    }
}

#[test]
fn sixteen_different_first_messages_at_once_announce_the_agent_once() {
    let f = Fakes {
        kv: MemKv::with_jitter(),
        ..Fakes::working()
    };
    start(&f.env(), &user(), &[], &fixtures::node_settings()).unwrap();
    let outcomes = concurrently(16, |i| {
        let w = fixtures::text_webhook("u1", &format!("m{i}"), &format!("t{i}"));
        agent_message(&f.env(), &w).unwrap()
    });
    let announcing: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.actions.iter().any(|a| *a == joined(Some(alex(true)))))
        .collect();
    assert_eq!(announcing.len(), 1);
    assert_eq!(announcing[0].actions[0], joined(Some(alex(true))));
    assert!(outcomes.iter().all(|o| o.warnings.is_empty()));
}
