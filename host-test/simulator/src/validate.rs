//! Genesys's rules for inbound bodies: required fields, enums (`idType`, `mediaType`,
//! `eventType`, receipt `status`), ISO-8601 times and length limits. A body that passes here
//! would pass Genesys; each failure is the 400 ErrorBody Genesys gives.

use crate::reply::{bad, Answer};
use serde_json::Value;
use std::collections::BTreeMap;

/// Longest inbound `text` the simulator accepts.
pub const MAX_TEXT_CHARS: usize = 5000;
/// Longest custom attribute value (Architect's participant data limit).
pub const MAX_ATTRIBUTE_VALUE: usize = 256;
/// Largest `customAttributes` object as JSON.
pub const MAX_ATTRIBUTES_BYTES: usize = 2048;

/// `yyyy-MM-ddTHH:mm:ss[.f{1,7}]Z`, as Genesys accepts.
pub fn is_iso8601(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 || *b.last().unwrap() != b'Z' {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let shape = digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !shape {
        return false;
    }
    let frac = &s[19..s.len() - 1];
    frac.is_empty()
        || (frac.starts_with('.')
            && (2..=8).contains(&frac.len())
            && frac[1..].bytes().all(|c| c.is_ascii_digit()))
}

fn string_map(v: &Value, what: &str) -> Result<BTreeMap<String, String>, Answer> {
    let Some(obj) = v.as_object() else {
        return Err(bad("bad.request", format!("{what} must be an object")));
    };
    let mut out = BTreeMap::new();
    for (k, v) in obj {
        match v.as_str() {
            Some(s) => {
                out.insert(k.clone(), s.to_string());
            }
            None => {
                return Err(bad(
                    "bad.request",
                    "The request could not be understood by the server due to malformed syntax.",
                ))
            }
        }
    }
    Ok(out)
}

fn check_from(channel: &Value) -> Result<(), Answer> {
    let from = channel
        .get("from")
        .filter(|f| f.is_object())
        .ok_or_else(|| bad("bad.request", "channel.from is required"))?;
    match from.get("id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => {}
        _ => return Err(bad("bad.request", "channel.from.id is required")),
    }
    let id_type = from
        .get("idType")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("bad.request", "channel.from.idType is required"))?;
    if !["email", "phone", "opaque"].contains(&id_type.to_ascii_lowercase().as_str()) {
        return Err(bad(
            "invalid.value",
            format!("Value [{id_type}] is not valid for field type [idType]. Allowable values are: Email, Phone, Opaque"),
        ));
    }
    Ok(())
}

fn check_time(channel: &Value) -> Result<(), Answer> {
    match channel.get("time").and_then(Value::as_str) {
        Some(t) if is_iso8601(t) => Ok(()),
        Some(_) => Err(bad(
            "invalid.date",
            "Dates must be specified as ISO-8601 strings. For example: yyyy-MM-ddTHH:mm:ss.SSSZ",
        )),
        None => Err(bad("bad.request", "channel.time is required")),
    }
}

/// The required `channel` object of an inbound body.
fn channel(body: &Value) -> Result<&Value, Answer> {
    body.get("channel")
        .filter(|c| c.is_object())
        .ok_or_else(|| bad("bad.request", "channel is required"))
}

/// Validate an `OpenInboundNormalizedMessage`; returns its custom attributes.
pub fn validate_message(body: &Value) -> Result<BTreeMap<String, String>, Answer> {
    let channel = channel(body)?;
    check_from(channel)?;
    check_time(channel)?;
    let text = body.get("text");
    let content = body.get("content");
    if text.is_none() && content.is_none() {
        return Err(bad(
            "bad.request",
            "should have required property 'content', should have required property '.text', should match some schema in anyOf",
        ));
    }
    if let Some(t) = text {
        let t = t
            .as_str()
            .ok_or_else(|| bad("bad.request", "text must be a string"))?;
        if t.chars().count() > MAX_TEXT_CHARS {
            return Err(bad(
                "bad.request",
                format!("text is longer than {MAX_TEXT_CHARS} characters"),
            ));
        }
    }
    if let Some(c) = content {
        let items = c
            .as_array()
            .ok_or_else(|| bad("bad.request", "content must be an array"))?;
        for item in items {
            let a = item
                .get("attachment")
                .ok_or_else(|| bad("bad.request", "content item needs an attachment"))?;
            let mt = a.get("mediaType").and_then(Value::as_str).unwrap_or("");
            if !["Image", "Video", "Audio", "File", "Link"].contains(&mt) {
                return Err(bad(
                    "invalid.value",
                    format!("Value [{mt}] is not valid for field type [mediaType]. Allowable values are: Image, Video, Audio, File, Link"),
                ));
            }
            for f in ["url", "mime"] {
                if a.get(f).and_then(Value::as_str).is_none_or(str::is_empty) {
                    return Err(bad("bad.request", format!("attachment.{f} is required")));
                }
            }
        }
    }
    if let Some(m) = body.get("metadata") {
        string_map(m, "metadata")?;
    }
    let mut attrs = BTreeMap::new();
    if let Some(ca) = channel.pointer("/metadata/customAttributes") {
        attrs = string_map(ca, "customAttributes")?;
        for (k, v) in &attrs {
            if v.chars().count() > MAX_ATTRIBUTE_VALUE {
                return Err(bad(
                    "bad.request",
                    format!("customAttributes.{k} is longer than {MAX_ATTRIBUTE_VALUE} characters"),
                ));
            }
        }
        if serde_json::to_vec(ca).map(|v| v.len()).unwrap_or(0) > MAX_ATTRIBUTES_BYTES {
            return Err(bad(
                "bad.request",
                format!("customAttributes are larger than {MAX_ATTRIBUTES_BYTES} bytes"),
            ));
        }
    }
    Ok(attrs)
}

/// Validate an `OpenInboundStructuredResponseMessage`: the channel of a message, a
/// `buttonResponse` (`ContentButtonResponse`: `type` `Button`, `QuickReply` or `DatePicker`,
/// `text` and `payload` strings, `text` within the message limit) and the
/// `originatingMessageId` of the structured message it answers.
pub fn validate_structured_response(body: &Value) -> Result<(), Answer> {
    let channel = channel(body)?;
    check_from(channel)?;
    check_time(channel)?;
    let b = body
        .get("buttonResponse")
        .filter(|b| b.is_object())
        .ok_or_else(|| bad("bad.request", "buttonResponse is required"))?;
    let kind = b
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("bad.request", "buttonResponse.type is required"))?;
    if !["Button", "QuickReply", "DatePicker"].contains(&kind) {
        return Err(bad(
            "invalid.value",
            format!("Value [{kind}] is not valid for field type [type]. Allowable values are: Button, QuickReply, DatePicker"),
        ));
    }
    for f in ["text", "payload"] {
        if b.get(f).and_then(Value::as_str).is_none() {
            return Err(bad(
                "bad.request",
                format!("buttonResponse.{f} is required"),
            ));
        }
    }
    if b["text"].as_str().unwrap_or("").chars().count() > MAX_TEXT_CHARS {
        return Err(bad(
            "bad.request",
            format!("buttonResponse.text is longer than {MAX_TEXT_CHARS} characters"),
        ));
    }
    if body
        .get("originatingMessageId")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(bad("bad.request", "originatingMessageId is required"));
    }
    Ok(())
}

/// Validate an `OpenInboundNormalizedEvent`.
pub fn validate_event(body: &Value) -> Result<(), Answer> {
    let channel = channel(body)?;
    check_from(channel)?;
    check_time(channel)?;
    let events = body
        .get("events")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("bad.request", "events is required"))?;
    if events.is_empty() {
        return Err(bad("bad.request", "events must not be empty"));
    }
    for e in events {
        let t = e.get("eventType").and_then(Value::as_str).unwrap_or("");
        if t != "Typing" {
            return Err(bad("invalid.value", format!("Value [{t}] is not valid for field type [eventType]. Allowable values are: Typing")));
        }
    }
    Ok(())
}

/// Validate an `OpenInboundNormalizedReceipt` (Delivered or Failed only).
pub fn validate_receipt(body: &Value) -> Result<(), Answer> {
    if body
        .get("id")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(bad("bad.request", "id is required"));
    }
    let channel = channel(body)?;
    if channel
        .pointer("/to/id")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(bad("bad.request", "channel.to.id is required"));
    }
    check_time(channel)?;
    let status = body.get("status").and_then(Value::as_str).unwrap_or("");
    if !["Delivered", "Failed"].contains(&status) {
        return Err(bad("invalid.value", format!("Value [{status}] is not valid for field type [status]. Allowable values are: Delivered, Failed")));
    }
    if let Some(reasons) = body.get("reasons") {
        if status != "Failed" {
            return Err(bad(
                "bad.request",
                "reasons are only used with Failed status",
            ));
        }
        for r in reasons.as_array().into_iter().flatten() {
            if r.get("message").and_then(Value::as_str).is_none() {
                return Err(bad("bad.request", "reasons[].message is required"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::now_iso;
    use http::StatusCode;
    use serde_json::json;

    #[test]
    fn iso_dates() {
        assert!(is_iso8601("2026-11-25T09:14:03.512Z"));
        assert!(is_iso8601("2026-11-25T09:14:03Z"));
        assert!(is_iso8601("2026-11-25T09:14:03.5120000Z"));
        assert!(!is_iso8601("2026-11-25 09:14:03Z"));
        assert!(!is_iso8601("yesterday"));
        assert!(is_iso8601(&now_iso()));
    }

    #[test]
    fn message_validation() {
        let ok = json!({"channel":{"from":{"id":"u","idType":"Opaque"},"time":"2026-11-25T09:14:03.512Z"},"text":"hi"});
        assert!(validate_message(&ok).is_ok());
        let mut no_id = ok.clone();
        no_id["channel"]["from"]
            .as_object_mut()
            .unwrap()
            .remove("id");
        assert_eq!(
            validate_message(&no_id).unwrap_err().0,
            StatusCode::BAD_REQUEST
        );
        let mut bad_type = ok.clone();
        bad_type["channel"]["from"]["idType"] = json!("Twitter");
        assert_eq!(
            validate_message(&bad_type).unwrap_err().1["code"],
            "invalid.value"
        );
        let mut long = ok.clone();
        long["text"] = json!("x".repeat(MAX_TEXT_CHARS + 1));
        assert!(validate_message(&long).is_err());
        let mut nested = ok.clone();
        nested["metadata"] = json!({"a": {"b": "c"}});
        assert!(validate_message(&nested).is_err());
        let mut big = ok.clone();
        big["channel"]["metadata"] =
            json!({"customAttributes": {"k": "v".repeat(MAX_ATTRIBUTE_VALUE + 1)}});
        assert!(validate_message(&big).is_err());
        let many: serde_json::Map<String, Value> = (0..20)
            .map(|i| (format!("key{i}"), json!("v".repeat(150))))
            .collect();
        big["channel"]["metadata"] = json!({"customAttributes": many});
        assert!(validate_message(&big).is_err());
        let mut neither = ok.clone();
        neither.as_object_mut().unwrap().remove("text");
        assert!(validate_message(&neither).is_err());
    }

    #[test]
    fn structured_response_validation() {
        let ok = json!({"channel":{"from":{"id":"u","idType":"Opaque"},"time":"2026-11-25T09:14:03.512Z","messageId":"m"},
            "buttonResponse":{"type":"QuickReply","text":"Blue","payload":"blue"},"originatingMessageId":"a1"});
        assert!(validate_structured_response(&ok).is_ok());
        let code = |v: &Value| validate_structured_response(v).unwrap_err().1["code"].clone();
        let mut bad_type = ok.clone();
        bad_type["buttonResponse"]["type"] = json!("Quickreply");
        assert_eq!(code(&bad_type), "invalid.value");
        for (ptr, field) in [
            ("", "originatingMessageId"),
            ("", "buttonResponse"),
            ("/buttonResponse", "text"),
            ("/buttonResponse", "payload"),
            ("/buttonResponse", "type"),
            ("/channel", "time"),
        ] {
            let mut missing = ok.clone();
            missing
                .pointer_mut(ptr)
                .unwrap()
                .as_object_mut()
                .unwrap()
                .remove(field);
            assert_eq!(code(&missing), "bad.request", "{ptr}/{field}");
        }
    }
}
