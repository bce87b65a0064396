//! The whole `agent-message` hook on any body, signed (so parsing is reached) or not, for
//! a user with an open handover (so deduplication and the actions are reached too).
#![no_main]
use genesys_om_handover::state::{self, Handover};
use genesys_om_handover::testing::fixtures::WEBHOOK_SECRET;
use genesys_om_handover::testing::Fakes;
use genesys_om_handover::{hooks, signature, Error, Webhook};
use libfuzzer_sys::fuzz_target;

fn handover() -> Handover {
    Handover {
        user_id: "u1".into(),
        session_id: "s1".into(),
        hid: "fuzz-hid".into(),
        generation: 1,
        integration_id: "integration-1".into(),
        conversation_id: "conversation-1".into(),
        display_agent_details: true,
        user_connects_message: true,
        user_disconnects_message: true,
        disconnect_message: None,
        inactivity_timeout_secs: None,
        opened_ms: None,
    }
}

fuzz_target!(|data: &[u8]| {
    let fakes = Fakes::working();
    let env = fakes.env();
    state::handover::create(&fakes.kv, &handover(), 0).unwrap();
    let signed = data.first().is_some_and(|b| b & 1 == 1);
    let body = data.get(1..).unwrap_or(&[]).to_vec();
    let header = if signed { signature::sign(WEBHOOK_SECRET, &body) } else { "sha256=AAAA".into() };
    let webhook = Webhook { headers: vec![("x-hub-signature-256".into(), header)], body };
    let result = hooks::agent_message(&env, &webhook);
    if !signed {
        assert!(matches!(result, Err(Error::BadSignature(_))));
    }
});
