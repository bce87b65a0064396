//! Custom Attributes flattening: Genesys participant data is a flat map of strings, so the
//! node's JSON is flattened as the feature source describes ("skips unsupported types").
//! Only text that is not JSON at all is an error; whatever else cannot be kept is named.

use crate::model::Error;
use serde_json::Value;
use std::collections::BTreeMap;

/// The node's Custom Attributes, flattened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flattened {
    /// The flat attributes, by key.
    pub attrs: BTreeMap<String, String>,
    /// Keys left out: an empty part (`""`, `a.`), or a key produced twice (the first kept).
    pub dropped: Vec<String>,
    /// The JSON was not an object (nor a string holding one): nothing was taken from it.
    pub not_object: bool,
}

/// Flatten the node's Custom Attributes: a JSON object, or a JSON string holding one.
///
/// Nested objects become dotted keys; arrays of scalars are joined with commas; arrays that
/// hold objects or arrays are indexed (`items.0.sku`); booleans become `1`/`0`; numbers are
/// written as the JavaScript platform of the feature source writes them (shortest form:
/// `1.50` is `1.5`), whole numbers exactly up to 64 bits; null is skipped. Text that is not JSON (or a string that does not hold
/// JSON) is `invalid-input`; JSON that is not an object is skipped whole (`not_object`).
pub fn flatten(input: &str) -> Result<Flattened, Error> {
    // From bytes, as every other JSON the component reads: one instance of the parser.
    let value: Value = serde_json::from_slice(input.as_bytes())
        .map_err(|e| Error::InvalidInput(format!("custom attributes are not valid JSON: {e}")))?;
    let value = match value {
        Value::String(inner) => serde_json::from_slice(inner.as_bytes()).map_err(|e| {
            Error::InvalidInput(format!(
                "custom attributes string does not hold valid JSON: {e}"
            ))
        })?,
        v => v,
    };
    let mut out = Flattened::default();
    match value {
        Value::Object(map) => {
            for (k, v) in &map {
                walk(k.clone(), v, &mut out);
            }
        }
        Value::Null => {}
        _ => out.not_object = true,
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

fn bad_key(key: &str) -> bool {
    key.is_empty() || key.starts_with('.') || key.ends_with('.') || key.contains("..")
}

fn insert(key: String, value: String, out: &mut Flattened) {
    if bad_key(&key) || out.attrs.contains_key(&key) {
        out.dropped.push(key);
    } else {
        out.attrs.insert(key, value);
    }
}

fn walk(key: String, v: &Value, out: &mut Flattened) {
    match v {
        Value::Null => {}
        Value::Object(map) if key.is_empty() => {
            if !map.is_empty() {
                out.dropped.push(key);
            }
        }
        Value::Object(map) => {
            for (k, child) in map {
                walk(format!("{key}.{k}"), child, out);
            }
        }
        Value::Array(items) => {
            let nested = items.iter().any(|i| i.is_object() || i.is_array());
            if nested {
                for (i, child) in items.iter().enumerate() {
                    walk(format!("{key}.{i}"), child, out);
                }
            } else if !items.iter().all(Value::is_null) {
                let joined: Vec<String> = items.iter().filter_map(scalar).collect();
                insert(key, joined.join(","), out);
            }
        }
        scalar_value => {
            if let Some(s) = scalar(scalar_value) {
                insert(key, s, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(s: &str) -> Vec<(String, String)> {
        flatten(s).unwrap().attrs.into_iter().collect()
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
                ("n", "1.5"),
                ("off", "0"),
            ])
        );
    }

    #[test]
    fn only_text_that_is_not_json_is_an_error() {
        for bad in [r#"{not json"#, r#""{not json""#, "", r#""plain words""#] {
            assert!(matches!(flatten(bad), Err(Error::InvalidInput(_))), "{bad}");
        }
    }

    #[test]
    fn what_cannot_be_kept_is_named_not_refused() {
        let f = flatten(r#"{"a.b":"x","a":{"b":"y"},"":"e","c":{"":"z"},"ok":"1"}"#).unwrap();
        assert_eq!(f.attrs.get("ok").map(String::as_str), Some("1"));
        // Keys are walked in order: `a` gives `a.b` first, the literal `a.b` comes second.
        assert_eq!(f.attrs.get("a.b").map(String::as_str), Some("y"));
        let mut dropped = f.dropped.clone();
        dropped.sort();
        assert_eq!(dropped, ["", "a.b", "c."]);
        assert!(!f.not_object);
        for other in [r#"[1,2]"#, r#""[1]""#, r#"42"#, r#"true"#] {
            let f = flatten(other).unwrap();
            assert!(f.not_object && f.attrs.is_empty(), "{other}");
        }
        assert_eq!(flatten("null").unwrap(), Flattened::default());
    }
}
