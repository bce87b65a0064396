//! Custom Attributes: any text; the result, when there is one, is flat strings within
//! Genesys's key and value limits.
#![no_main]
use genesys_om_handover::genesys::attributes::{self, MAX_KEY_LEN, MAX_VALUE_LEN};
use genesys_om_handover::{flatten, HandoverSettings, UserProfile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(flat) = flatten::flatten(text) {
            assert!(flat.attrs.keys().all(|k| !k.is_empty()));
        }
        let node = HandoverSettings {
            custom_attributes: Some(text.to_string()),
            ..HandoverSettings::default()
        };
        if let Ok((attrs, _)) = attributes::attributes(&UserProfile::default(), &node, None) {
            assert!(attrs
                .iter()
                .all(|(k, v)| k.chars().count() <= MAX_KEY_LEN && v.chars().count() <= MAX_VALUE_LEN));
        }
    }
});
