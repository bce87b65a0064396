//! The whole `agent-message` hook on any body, signed (so parsing is reached) or not.
#![no_main]
use genesys_om_handover::hooks;
use genesys_om_handover::testing::{FixedClock, MapConfig, MemKv, NoHttp};
use genesys_om_handover::{signature, Env, Error, Webhook};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (kv, config, clock) = (MemKv::default(), MapConfig::working(), FixedClock::default());
    let env = Env { http: &NoHttp, kv: &kv, config: &config, clock: &clock };
    let signed = data.first().is_some_and(|b| b & 1 == 1);
    let body = data.get(1..).unwrap_or(&[]).to_vec();
    let header = if signed { signature::sign("bench-webhook-secret-1", &body) } else { "sha256=AAAA".into() };
    let result = hooks::agent_message(&env, &Webhook { headers: vec![("x-hub-signature-256".into(), header)], body });
    if !signed {
        assert!(matches!(result, Err(Error::BadSignature(_))));
    }
});
