//! The JSON layer on any bytes: parsing never panics or overflows the stack, what parses
//! writes back to text that parses to the same value, and the pull reader accepts and
//! rejects exactly what the parser does (whether it builds the value or skips it).
#![no_main]
use genesys_om_handover::json::{self, Reader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = json::from_slice(data);
    let built = Reader::new(data).and_then(|mut r| {
        let v = r.value()?;
        r.finish().map(|()| v)
    });
    let skipped = Reader::new(data).and_then(|mut r| {
        r.skip()?;
        r.finish()
    });
    assert_eq!(parsed, built);
    assert_eq!(parsed.is_ok(), skipped.is_ok());
    if let Ok(v) = parsed {
        let text = json::to_string(&v);
        assert_eq!(json::from_str(&text).as_ref(), Ok(&v), "{text}");
    }
});
