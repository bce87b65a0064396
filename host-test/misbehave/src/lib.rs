//! A handover component that misbehaves on purpose: `start` never returns, `user-message`
//! allocates without bound, `end` panics. The host's limits must stop each one while it
//! keeps serving; `agent-message` answers normally to show that it does (`queue-status`
//! answers a `config` error).
#![cfg(target_arch = "wasm32")]

wit_bindgen::generate!({
    path: "../../wit",
    world: "handover",
    generate_all,
    features: ["clocks-timezone"],
});

use exports::handover::genesys_om::hooks::Guest;
use handover::genesys_om::types as t;

struct Misbehave;

fn ok() -> Result<t::Outcome, t::Error> {
    Ok(t::Outcome {
        session_id: None,
        user_id: None,
        genesys: None,
        actions: vec![],
        delivery_key: None,
        warnings: vec![],
    })
}

impl Guest for Misbehave {
    fn version() -> String {
        "misbehave".into()
    }

    fn start(
        _: t::UserProfile,
        _: Vec<t::TranscriptEntry>,
        _: t::HandoverSettings,
    ) -> Result<t::Outcome, t::Error> {
        let mut n: u64 = 0;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }

    fn user_message(_: String, _: t::UserEvent, _: Option<String>) -> Result<t::Outcome, t::Error> {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(vec![1u8; 1 << 20]);
            std::hint::black_box(&hoard);
        }
    }

    fn agent_message(_: t::Webhook) -> Result<t::Outcome, t::Error> {
        ok()
    }

    fn end(_: t::EndSignal) -> Result<t::Outcome, t::Error> {
        panic!("misbehave: end panics on purpose")
    }

    fn flush(_: String) -> Result<t::Outcome, t::Error> {
        ok()
    }

    fn report_delivery(
        _: String,
        _: String,
        _: bool,
        _: Option<String>,
    ) -> Result<t::Outcome, t::Error> {
        ok()
    }

    fn queue_status(_: Option<String>) -> Result<t::QueueFigures, t::Error> {
        Err(t::Error::Config("misbehave: no queue status".into()))
    }
}

export!(Misbehave);
