//! Signature verification: any header and body, with and without a matching secret.
#![no_main]
use genesys_om_handover::signature;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.first().map(|b| *b as usize).unwrap_or(0).min(data.len().saturating_sub(1));
    let (header, body) = data.get(1..).unwrap_or(&[]).split_at(split.min(data.len().saturating_sub(1)));
    let header = String::from_utf8_lossy(header);
    let secrets = vec!["fuzz-secret-0123456789".to_string()];
    let result = signature::verify(Some(&header), body, &secrets);
    // Only the exact signature of this body verifies.
    assert_eq!(result.is_ok(), header.trim() == signature::sign(&secrets[0], body));
    assert!(signature::verify(Some(&signature::sign(&secrets[0], body)), body, &secrets).is_ok());
});
