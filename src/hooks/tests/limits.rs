//! The limits of user input: text length (`max-user-text-chars`), counted in characters,
//! checked before anything is stored or sent.

use super::*;

#[test]
fn a_user_text_over_the_limit_is_refused_before_anything_is_stored_or_sent() {
    let f = Fakes::working();
    let env = f.env();
    start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
    let (calls, keys) = (f.genesys.calls(), f.kv.keys());
    let outbox_before = f.kv.entries.lock().unwrap().clone();
    let huge = UserEvent::Text("x".repeat(1024 * 1024));
    assert_eq!(
        user_message(&env, "u1", &huge, None),
        Err(Error::InvalidInput(
            "user text of 1048576 characters is over the limit of 20000 (max-user-text-chars)"
                .into()
        ))
    );
    let one_over = UserEvent::Text("é".repeat(20_001));
    let e = user_message(&env, "u1", &one_over, None).unwrap_err();
    assert!(
        matches!(&e, Error::InvalidInput(m) if m.contains("20001 characters")),
        "{e}"
    );
    assert_eq!(f.genesys.calls(), calls, "no request to Genesys");
    assert_eq!(f.kv.keys(), keys, "nothing queued");
    assert_eq!(*f.kv.entries.lock().unwrap(), outbox_before);
    // Refused even without an open handover: nothing is looked up in Genesys for it.
    let e = user_message(&env, "nobody", &huge, None).unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)));
}

#[test]
fn a_user_text_at_the_limit_is_sent_counting_characters_not_bytes() {
    let f = Fakes::working();
    let env = f.env();
    start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
    let before = f.genesys.accepted().len();
    let at_limit = "é".repeat(20_000);
    let o = user_message(&env, "u1", &UserEvent::Text(at_limit.clone()), None).unwrap();
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
    user_message(&env, "u1", &UserEvent::Text("1234567".into()), None).unwrap();
    let e = user_message(&env, "u1", &UserEvent::Text("12345678".into()), None).unwrap_err();
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
        let e = user_message(&f.env(), "u1", &UserEvent::Text("hi".into()), None).unwrap_err();
        assert!(
            matches!(&e, Error::Config(m) if m.contains("max-user-text-chars") && !m.contains(bad)),
            "{bad}: {e}"
        );
        assert!(f.genesys.calls().is_empty());
    }
}
