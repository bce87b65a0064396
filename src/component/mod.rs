//! The component's exports (wasm32 only): wit-bindgen's generated `Guest` over the domain
//! hooks, which take and return the generated types themselves, and the bucket opened for
//! each call. The ports over the WASI imports are in `ports.rs`.

mod ports;

use crate::bindings::exports::handover::genesys_om::hooks::Guest;
use crate::bindings::wasi::keyvalue::store;
use crate::hooks;
use crate::model::{
    EndSignal, Error, HandoverSettings, Outcome, QueueFigures, TranscriptEntry, UserEvent,
    UserProfile, Webhook,
};
use crate::ports::Env;
use crate::state::keys::BUCKET;
use ports::{kv_err, WasiClock, WasiConfig, WasiHttp, WasiKv};

fn with_env<T>(f: impl FnOnce(&Env) -> Result<T, Error>) -> Result<T, Error> {
    // Hosts that only offer their default store (the wasmtime CLI) get the empty name.
    let bucket = match store::open(BUCKET) {
        Err(store::Error::NoSuchStore) => store::open(""),
        other => other,
    }
    .map_err(|e| Error::Storage(kv_err(e)))?;
    let kv = WasiKv(bucket);
    let env = Env {
        http: &WasiHttp,
        kv: &kv,
        config: &WasiConfig,
        clock: &WasiClock,
    };
    f(&env)
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
        user: UserProfile,
        transcript: Vec<TranscriptEntry>,
        settings: HandoverSettings,
    ) -> Result<Outcome, Error> {
        with_env(|env| hooks::start(env, &user, &transcript, &settings))
    }

    fn user_message(
        user_id: String,
        event: UserEvent,
        turn_id: Option<String>,
    ) -> Result<Outcome, Error> {
        with_env(|env| hooks::user_message(env, &user_id, &event, turn_id.as_deref()))
    }

    fn agent_message(webhook: Webhook) -> Result<Outcome, Error> {
        with_env(|env| hooks::agent_message(env, &webhook))
    }

    fn end(signal: EndSignal) -> Result<Outcome, Error> {
        with_env(|env| hooks::end(env, &signal))
    }

    fn flush(user_id: String) -> Result<Outcome, Error> {
        with_env(|env| hooks::flush(env, &user_id))
    }

    fn report_delivery(
        user_id: String,
        message_id: String,
        delivered: bool,
        reason: Option<String>,
    ) -> Result<Outcome, Error> {
        with_env(|env| {
            hooks::report_delivery(env, &user_id, &message_id, delivered, reason.as_deref())
        })
    }

    fn queue_status(queue_id: Option<String>) -> Result<QueueFigures, Error> {
        with_env(|env| hooks::queue_status(env, queue_id.as_deref()))
    }
}

crate::bindings::export!(Component with_types_in crate::bindings);
