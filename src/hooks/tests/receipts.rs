//! The user's messages as Genesys handles them: a `Failed` receipt becomes an action naming
//! the message and the reasons (`Delivered`, `Read` stay silent), and an attachment keeps
//! its caption, in one inbound message.

use super::*;

/// The last message Genesys accepted.
fn last_accepted(f: &Fakes) -> crate::testing::Inbound {
    f.genesys.accepted().pop().unwrap()
}

fn failure(o: &Outcome) -> &UserMessageFailure {
    match &o.actions[..] {
        [Action::UserMessageFailed(f)] => f,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_failed_receipt_names_the_user_message_and_why() {
    let f = Fakes::working();
    let env = f.env();
    start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
    let url = "https://files.example/contract.exe";
    user_message(&env, "u1", &captioned(url, "my contract"), None).unwrap();
    let sent = last_accepted(&f);
    let id = sent.message_id.clone().unwrap();
    user_message(&env, "u1", &UserEvent::Text("and a text".into()), None).unwrap();
    let o = agent_message(&env, &failed_receipt("u1", &id, "MediaTypeNotAllowed")).unwrap();
    let failed = failure(&o);
    assert_eq!(failed.message_id, id);
    assert_eq!(failed.text.as_deref(), Some("my contract"));
    assert_eq!(
        failed.attachment.as_ref().map(|a| a.url.as_str()),
        Some(url)
    );
    assert_eq!(
        failed.reasons,
        vec![FailureReason {
            code: Some("MediaTypeNotAllowed".into()),
            message: "MediaTypeNotAllowed (test)".into()
        }]
    );
    assert!(o.delivery_key.is_some());
    // A copy repeats it under the same key.
    let again = agent_message(&env, &failed_receipt("u1", &id, "MediaTypeNotAllowed")).unwrap();
    assert_eq!(again.warnings, vec![Warning::Duplicate]);
    assert_eq!(
        (&again.actions, &again.delivery_key),
        (&o.actions, &o.delivery_key)
    );
}

#[test]
fn a_text_that_failed_is_named_by_its_start_and_an_unknown_one_by_its_id() {
    let f = Fakes::working();
    let env = f.env();
    start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
    user_message(&env, "u1", &UserEvent::Text("é".repeat(300)), None).unwrap();
    let id = last_accepted(&f).message_id.unwrap();
    let o = agent_message(&env, &failed_receipt("u1", &id, "RateLimited")).unwrap();
    assert_eq!(failure(&o).text, Some("é".repeat(200)));
    assert_eq!(failure(&o).attachment, None);
    let o = agent_message(&env, &failed_receipt("u1", "not-ours", "GeneralError")).unwrap();
    let unknown = failure(&o);
    assert_eq!(
        (unknown.message_id.as_str(), &unknown.text),
        ("not-ours", &None)
    );
    assert_eq!(unknown.reasons[0].code.as_deref(), Some("GeneralError"));
}

#[test]
fn delivered_and_read_receipts_stay_silent_and_do_not_hide_a_later_failure() {
    let f = Fakes::working();
    let env = f.env();
    start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
    user_message(&env, "u1", &UserEvent::Text("hi".into()), None).unwrap();
    let id = last_accepted(&f).message_id.unwrap();
    for status in ["Delivered", "Read"] {
        let o = agent_message(&env, &failed_receipt("u1", &id, status)).unwrap();
        assert!(o.actions.is_empty() && o.warnings.is_empty(), "{status}");
    }
    let o = agent_message(&env, &failed_receipt("u1", &id, "MessageExpired")).unwrap();
    assert!(
        o.warnings.is_empty(),
        "a new status of the same message is no copy"
    );
    assert_eq!(failure(&o).text.as_deref(), Some("hi"));
}

#[test]
fn an_attachment_keeps_its_caption_in_one_message() {
    let f = Fakes::working();
    let env = f.env();
    start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
    let before = f.genesys.accepted().len();
    let o = user_message(
        &env,
        "u1",
        &captioned("https://files.example/x.png", "my receipt"),
        None,
    );
    assert!(o.unwrap().warnings.is_empty());
    let sent = &f.genesys.accepted()[before..];
    assert_eq!(sent.len(), 1, "one inbound message");
    assert_eq!(sent[0].body["text"], "my receipt");
    let att = &sent[0].body["content"][0]["attachment"];
    assert_eq!(
        (att["url"].as_str(), att["mediaType"].as_str()),
        (Some("https://files.example/x.png"), Some("Image"))
    );
    // An empty caption is a plain attachment; no text goes with it.
    user_message(
        &env,
        "u1",
        &captioned("https://files.example/y.png", " "),
        None,
    )
    .unwrap();
    assert!(last_accepted(&f).body.get("text").is_none());
}

#[test]
fn a_caption_goes_on_when_its_file_is_refused_and_counts_toward_the_text_limit() {
    let f = Fakes {
        config: MapConfig::working().with("max-user-text-chars", "10"),
        ..Fakes::default()
    };
    let env = f.env();
    start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
    let o = user_message(&env, "u1", &captioned("javascript:alert(1)", "look"), None).unwrap();
    assert_eq!(o.warnings, vec![Warning::UnsafeUrlDropped]);
    let sent = last_accepted(&f);
    assert_eq!(sent.text.as_deref(), Some("look"));
    assert!(sent.body.get("content").is_none());
    let long = captioned("https://files.example/x.png", "12345678901");
    let e = user_message(&env, "u1", &long, None).unwrap_err();
    assert!(matches!(e, Error::InvalidInput(m) if m.contains("11 characters")));
}

#[test]
fn a_long_caption_continues_in_text_messages() {
    let f = Fakes::working();
    let env = f.env();
    start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
    let before = f.genesys.accepted().len();
    let caption = "c".repeat(5000 + 7);
    user_message(
        &env,
        "u1",
        &captioned("https://files.example/x.png", &caption),
        None,
    )
    .unwrap();
    let sent = &f.genesys.accepted()[before..];
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].text.as_deref().map(str::len), Some(5000));
    assert!(sent[0].body.get("content").is_some());
    assert_eq!(sent[1].text.as_deref(), Some("ccccccc"));
}
