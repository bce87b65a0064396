//! Custom Attributes flattening: Genesys participant data is a flat map of strings, so the
//! node's JSON is flattened as the feature source describes before it is sent.

use crate::model::Error;
use serde_json::Value;
use std::collections::BTreeMap;

/// Longest attribute name we send.
pub const MAX_KEY_LEN: usize = 255;
/// Longest attribute value Architect accepts.
pub const MAX_VALUE_LEN: usize = 256;
/// Largest `customAttributes` object (as compact JSON) we send.
pub const MAX_TOTAL_BYTES: usize = 2048;

/// Flatten the node's Custom Attributes: a JSON object, or a JSON string holding one.
///
/// Nested objects become dotted keys; arrays of scalars are joined with commas; arrays that
/// hold objects or arrays are indexed (`items.0.sku`); booleans become `1`/`0`; numbers keep
/// their JSON text; null is skipped.
pub fn flatten(input: &str) -> Result<BTreeMap<String, String>, Error> {
    let value: Value = serde_json::from_str(input)
        .map_err(|e| Error::InvalidInput(format!("custom attributes are not valid JSON: {e}")))?;
    let value = match value {
        Value::String(inner) => serde_json::from_str(&inner).map_err(|e| {
            Error::InvalidInput(format!(
                "custom attributes string does not hold valid JSON: {e}"
            ))
        })?,
        v => v,
    };
    let Value::Object(map) = value else {
        return Err(Error::InvalidInput(
            "custom attributes must be a JSON object at the top level".into(),
        ));
    };
    let mut out = BTreeMap::new();
    for (k, v) in &map {
        walk(k.clone(), v, &mut out)?;
    }
    Ok(out)
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "1" } else { "0" }.to_string()),
        _ => None,
    }
}

fn insert(key: String, value: String, out: &mut BTreeMap<String, String>) -> Result<(), Error> {
    if key.is_empty() || key.starts_with('.') || key.ends_with('.') || key.contains("..") {
        return Err(Error::InvalidInput(format!(
            "custom attribute key {key:?} has an empty part"
        )));
    }
    if out.contains_key(&key) {
        return Err(Error::InvalidInput(format!(
            "custom attribute key {key:?} appears twice after flattening"
        )));
    }
    out.insert(key, value);
    Ok(())
}

fn walk(key: String, v: &Value, out: &mut BTreeMap<String, String>) -> Result<(), Error> {
    match v {
        Value::Null => Ok(()),
        Value::Object(map) => {
            if key.is_empty() {
                return Err(Error::InvalidInput("custom attribute key is empty".into()));
            }
            for (k, child) in map {
                walk(format!("{key}.{k}"), child, out)?;
            }
            Ok(())
        }
        Value::Array(items) => {
            let nested = items.iter().any(|i| i.is_object() || i.is_array());
            if nested {
                for (i, child) in items.iter().enumerate() {
                    walk(format!("{key}.{i}"), child, out)?;
                }
                Ok(())
            } else if items.iter().all(Value::is_null) {
                Ok(())
            } else {
                let joined: Vec<String> = items.iter().filter_map(scalar).collect();
                insert(key, joined.join(","), out)
            }
        }
        scalar_value => match scalar(scalar_value) {
            Some(s) => insert(key, s, out),
            None => Ok(()),
        },
    }
}

/// Check the final attribute map against Genesys's limits, naming the key that broke them.
pub fn check_limits(attrs: &BTreeMap<String, String>) -> Result<(), Error> {
    for (k, v) in attrs {
        if k.chars().count() > MAX_KEY_LEN {
            return Err(Error::InvalidInput(format!(
                "custom attribute key {:?}… is longer than {MAX_KEY_LEN} characters",
                k.chars().take(40).collect::<String>()
            )));
        }
        if v.chars().count() > MAX_VALUE_LEN {
            return Err(Error::InvalidInput(format!(
                "custom attribute {k:?} has a value longer than {MAX_VALUE_LEN} characters"
            )));
        }
    }
    let total = serde_json::to_vec(attrs)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if total > MAX_TOTAL_BYTES {
        let biggest = attrs
            .iter()
            .max_by_key(|(k, v)| k.len() + v.len())
            .map(|(k, _)| k.as_str())
            .unwrap_or("");
        return Err(Error::InvalidInput(format!(
            "custom attributes take {total} bytes, over the {MAX_TOTAL_BYTES}-byte limit (largest: {biggest:?})"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(s: &str) -> Vec<(String, String)> {
        flatten(s).unwrap().into_iter().collect()
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn feature_source_examples() {
        // JSON string form.
        let s = r#""{\"customerType\":\"premium\",\"tags\":[\"urgent\",\"vip\"]}""#;
        assert_eq!(
            flat(s),
            pairs(&[("customerType", "premium"), ("tags", "urgent,vip")])
        );
        // JSON object form.
        let o = r#"{"customerType":"premium","tags":["urgent","vip"],
                   "preferences":{"language":"en","notifications":true}}"#;
        assert_eq!(
            flat(o),
            pairs(&[
                ("customerType", "premium"),
                ("preferences.language", "en"),
                ("preferences.notifications", "1"),
                ("tags", "urgent,vip"),
            ])
        );
    }

    #[test]
    fn rules() {
        let o = r#"{"items":[{"sku":"A1","qty":2},{"sku":"B2"}],"n":1.50,"big":12345678901234567890,
                   "off":false,"gone":null,"m":[[1,2],3],"e":[],"nulls":[null]}"#;
        assert_eq!(
            flat(o),
            pairs(&[
                ("big", "12345678901234567890"),
                ("items.0.qty", "2"),
                ("items.0.sku", "A1"),
                ("items.1.sku", "B2"),
                ("m.0", "1,2"),
                ("m.1", "3"),
                ("n", "1.50"),
                ("off", "0"),
            ])
        );
    }

    #[test]
    fn errors() {
        for bad in [
            r#"[1,2]"#,
            r#""[1]""#,
            r#"42"#,
            r#"{"a.b":"x","a":{"b":"y"}}"#,
            r#"{"":"x"}"#,
            r#"{"a":{"":"x"}}"#,
            r#"{not json"#,
            r#""{not json""#,
        ] {
            assert!(matches!(flatten(bad), Err(Error::InvalidInput(_))), "{bad}");
        }
    }

    #[test]
    fn limits_name_the_key() {
        let mut m = BTreeMap::new();
        m.insert("long".to_string(), "x".repeat(MAX_VALUE_LEN + 1));
        let e = check_limits(&m).unwrap_err();
        assert!(e.to_string().contains("\"long\""), "{e}");
        let mut m = BTreeMap::new();
        for i in 0..20 {
            m.insert(format!("k{i}"), "v".repeat(200));
        }
        assert!(check_limits(&m).is_err());
        let mut ok = BTreeMap::new();
        ok.insert("a".to_string(), "b".to_string());
        assert!(check_limits(&ok).is_ok());
    }
}
