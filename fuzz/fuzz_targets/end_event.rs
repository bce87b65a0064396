//! Genesys end events: the parser and the `end` hook on any body, for a user with an open
//! handover (so transfers, agents joining and endings are reached).
#![no_main]
use genesys_om_handover::genesys::events;
use genesys_om_handover::state::{self, Handover};
use genesys_om_handover::testing::{Fakes, NoHttp};
use genesys_om_handover::{hooks, EndSignal, Env};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = events::parse(data);
    let fakes = Fakes::working();
    let env = Env { http: &NoHttp, ..fakes.env() };
    let h = Handover {
        user_id: "u1".into(),
        session_id: "s1".into(),
        hid: "fuzz-hid".into(),
        generation: 1,
        integration_id: "integration-1".into(),
        conversation_id: "c".into(),
        display_agent_details: false,
        user_connects_message: true,
        user_disconnects_message: true,
        disconnect_message: None,
        inactivity_timeout_secs: None,
        opened_ms: None,
    };
    state::handover::create(&fakes.kv, &h, 0).unwrap();
    let _ = hooks::end(&env, &EndSignal::GenesysEvent(data.to_vec()));
});
