//! A user turn repeated with the bot platform's turn id (its `Idempotency-Key`) after the
//! first call's answer was lost: the same Genesys message ids go again, Genesys answers
//! 409, and the message is there once; without a turn id a repeat is a new message.

use super::lifecycle::start_u1;
use super::*;

fn texts_with_ids(f: &Fakes) -> Vec<(String, String)> {
    f.genesys
        .accepted()
        .into_iter()
        .filter(|m| m.kind == "message")
        .filter_map(|m| Some((m.text?, m.message_id?)))
        .filter(|(t, _)| !t.starts_with("Transcript"))
        .collect()
}

#[test]
fn a_turn_repeated_with_its_id_reaches_genesys_once() {
    let f = Fakes::working();
    start_u1(&f);
    let env = f.env();
    // Two Genesys messages (over the 5 000-character limit), sent under the turn's ids.
    let long = UserEvent::Text("y".repeat(5000 + 20));
    let first = user_message(&env, "u1", &long, Some("turn-1")).unwrap();
    assert!(first.warnings.is_empty(), "{first:?}");
    let sent = texts_with_ids(&f);
    assert_eq!(sent.len(), 2);
    for (_, id) in &sent {
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "8", "a version-8 UUID: {id}");
    }
    // The answer died with the replica; the bot platform calls again with the same id.
    let again = user_message(&env, "u1", &long, Some("turn-1")).unwrap();
    assert!(
        again.warnings.is_empty(),
        "a 409 counts as delivered: {again:?}"
    );
    assert_eq!(texts_with_ids(&f), sent, "nothing reached Genesys twice");
    let calls = f.genesys.calls();
    let inbound = calls.iter().filter(|c| c.contains("/inbound/")).count();
    assert!(
        inbound >= 5,
        "the repeat was sent (and refused as known): {calls:?}"
    );

    // Another turn, or no turn id: new messages.
    let short = UserEvent::Text("and another thing".into());
    user_message(&env, "u1", &short, Some("turn-2")).unwrap();
    user_message(&env, "u1", &short, None).unwrap();
    user_message(&env, "u1", &short, None).unwrap();
    let after = texts_with_ids(&f);
    assert_eq!(after.len(), 5);
    let ids: std::collections::HashSet<&String> = after.iter().map(|(_, id)| id).collect();
    assert_eq!(ids.len(), 5, "every other message its own id");
}

#[test]
fn the_same_turn_id_in_a_later_handover_is_a_new_message() {
    let f = Fakes::working();
    start_u1(&f);
    let env = f.env();
    let text = UserEvent::Text("hello again".into());
    user_message(&env, "u1", &text, Some("turn-1")).unwrap();
    end(&env, &EndSignal::UserLeft("u1".into())).unwrap();
    start_u1(&f);
    let o = user_message(&env, "u1", &text, Some("turn-1")).unwrap();
    assert!(o.warnings.is_empty(), "{o:?}");
    let sent = texts_with_ids(&f);
    let hello: Vec<_> = sent.iter().filter(|(t, _)| t == "hello again").collect();
    assert_eq!(hello.len(), 2, "one per handover: {sent:?}");
    assert_ne!(hello[0].1, hello[1].1);
}
