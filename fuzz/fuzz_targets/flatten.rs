//! Custom Attributes flattening: any text; the result, when there is one, is flat strings.
#![no_main]
use genesys_om_handover::flatten;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(map) = flatten::flatten(text) {
            assert!(map.keys().all(|k| !k.is_empty()));
            let _ = flatten::check_limits(&map);
        }
    }
});
