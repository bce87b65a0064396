//! Genesys end events: the parser and the `end` hook on any body.
#![no_main]
use genesys_om_handover::genesys::events;
use genesys_om_handover::hooks;
use genesys_om_handover::testing::{FixedClock, MapConfig, MemKv, NoHttp};
use genesys_om_handover::{EndSignal, Env};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = events::parse(data);
    let (kv, config, clock) = (MemKv::default(), MapConfig::working(), FixedClock::default());
    let env = Env { http: &NoHttp, kv: &kv, config: &config, clock: &clock };
    let _ = hooks::end(&env, &EndSignal::GenesysEvent(data.to_vec()));
});
