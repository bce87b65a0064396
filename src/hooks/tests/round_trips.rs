//! What each hook asks of the store, call by call: every call is one round trip to a
//! remote store (Redis), so these counts are what `serve` pays there. Counted on the steady
//! state of one handover; `end` removes everything in two `delete-many` calls.

use super::lifecycle::start_u1;
use super::*;

fn counts(calls: &[String], op: &str) -> usize {
    calls
        .iter()
        .filter(|c| c.split(' ').next() == Some(op))
        .count()
}

#[test]
fn each_hook_makes_few_store_calls_and_end_removes_in_two() {
    let f = Fakes::working();
    let env = f.env();
    f.kv.take_calls();
    start_u1(&f);
    let start_calls = f.kv.take_calls();
    user_message(&env, "u1", &UserEvent::Text("hi".into()), None).unwrap();
    user_message(&env, "u1", &UserEvent::Text("hi again".into()), None).unwrap();
    let user_calls = f.kv.take_calls();
    agent_message(&env, &fixtures::text_webhook("u1", "m-1", "hello")).unwrap();
    f.kv.take_calls();
    agent_message(&env, &fixtures::text_webhook("u1", "m-2", "hello 2")).unwrap();
    let agent_calls = f.kv.take_calls();
    end(&env, &EndSignal::UserLeft("u1".into())).unwrap();
    let end_calls = f.kv.take_calls();
    eprintln!(
        "store calls: start {}, user-message {}, agent-message {}, end {}",
        start_calls.len(),
        user_calls.len() / 2,
        agent_calls.len(),
        end_calls.len()
    );
    // Upper bounds at what this build makes: a change that adds store calls shows here.
    assert!(start_calls.len() <= 12, "start: {start_calls:#?}");
    assert!(user_calls.len() <= 2 * 12, "user-message: {user_calls:#?}");
    assert!(agent_calls.len() <= 7, "agent-message: {agent_calls:#?}");
    assert!(end_calls.len() <= 11, "end: {end_calls:#?}");
    // `end`: the outbox's head and newest item in one read; the claim keys, then everything
    // else, each in one call, after one read of the counters and one of the seen index; only
    // the (here empty) warnings' count goes alone. Its Genesys requests share one read of
    // the token, and the only increment is the ending's.
    assert_eq!(counts(&end_calls, "delete-many"), 2, "{end_calls:#?}");
    assert_eq!(counts(&end_calls, "get-many"), 3, "{end_calls:#?}");
    assert_eq!(counts(&end_calls, "increment"), 1, "{end_calls:#?}");
    let token_reads = end_calls.iter().filter(|c| *c == "get token").count();
    assert_eq!(token_reads, 1, "{end_calls:#?}");
    assert_eq!(counts(&end_calls, "delete"), 1, "{end_calls:#?}");
    super::lifecycle::assert_only_tenant_caches(&f.kv);
}
