//! The thin binding layer (wasm32 only): the generated WIT bindings, the exported hooks
//! over the domain code, and the bucket opened for each call. The ports over WASI are in
//! `ports.rs`, every conversion between bindings and `model` in `convert.rs`.

mod convert;
mod ports;

use crate::hooks;
use crate::model as m;
use crate::ports::Env;
use crate::state::keys::BUCKET;
use ports::{kv_err, WasiClock, WasiConfig, WasiHttp, WasiKv};

wit_bindgen::generate!({
    path: "wit",
    world: "handover",
    generate_all,
    features: ["clocks-timezone"],
});

use exports::handover::genesys_om::hooks::Guest;
use handover::genesys_om::types as t;

fn with_env<T, U: From<T>>(f: impl FnOnce(&Env) -> Result<T, m::Error>) -> Result<U, t::Error> {
    // Hosts that only offer their default store (the wasmtime CLI) get the empty name.
    let bucket = match wasi::keyvalue::store::open(BUCKET) {
        Err(wasi::keyvalue::store::Error::NoSuchStore) => wasi::keyvalue::store::open(""),
        other => other,
    }
    .map_err(|e| t::Error::Storage(kv_err(e)))?;
    let kv = WasiKv(bucket);
    let env = Env {
        http: &WasiHttp,
        kv: &kv,
        config: &WasiConfig,
        clock: &WasiClock,
    };
    f(&env).map(Into::into).map_err(Into::into)
}

struct Component;

impl Guest for Component {
    fn version() -> String {
        match option_env!("GENESYS_OM_BUILD_TAG") {
            Some(tag) if !tag.is_empty() => format!("{}+{tag}", env!("CARGO_PKG_VERSION")),
            _ => env!("CARGO_PKG_VERSION").to_string(),
        }
    }

    fn start(
        user: t::UserProfile,
        transcript: Vec<t::TranscriptEntry>,
        settings: t::HandoverSettings,
    ) -> Result<t::Outcome, t::Error> {
        let user = m::UserProfile::from(user);
        let transcript: Vec<m::TranscriptEntry> = transcript.into_iter().map(Into::into).collect();
        let node = m::HandoverSettings::from(settings);
        with_env(|env| hooks::start(env, &user, &transcript, &node))
    }

    fn user_message(user_id: String, event: t::UserEvent) -> Result<t::Outcome, t::Error> {
        let event = m::UserEvent::from(event);
        with_env(|env| hooks::user_message(env, &user_id, &event))
    }

    fn agent_message(webhook: t::Webhook) -> Result<t::Outcome, t::Error> {
        let webhook = m::Webhook::from(webhook);
        with_env(|env| hooks::agent_message(env, &webhook))
    }

    fn end(signal: t::EndSignal) -> Result<t::Outcome, t::Error> {
        let signal = m::EndSignal::from(signal);
        with_env(|env| hooks::end(env, &signal))
    }

    fn flush(user_id: String) -> Result<t::Outcome, t::Error> {
        with_env(|env| hooks::flush(env, &user_id))
    }

    fn report_delivery(
        user_id: String,
        message_id: String,
        delivered: bool,
        reason: Option<String>,
    ) -> Result<t::Outcome, t::Error> {
        with_env(|env| {
            hooks::report_delivery(env, &user_id, &message_id, delivered, reason.as_deref())
        })
    }

    fn queue_status(queue_id: Option<String>) -> Result<t::QueueFigures, t::Error> {
        with_env(|env| hooks::queue_status(env, queue_id.as_deref()))
    }
}

export!(Component);
