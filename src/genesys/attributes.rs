//! The participant data of a handover's first message: the routing attributes the Architect
//! flow reads, then the node's Custom Attributes, fitted into Genesys's limits. Attributes
//! never stop a handover: whatever cannot be sent is left out whole, with a warning naming it.

use crate::flatten;
use crate::model::{Error, HandoverSettings, UserProfile, Warning};
use std::collections::BTreeMap;

/// Longest attribute name sent.
pub const MAX_KEY_LEN: usize = 255;
/// Longest attribute value Architect accepts.
pub const MAX_VALUE_LEN: usize = 256;
/// Largest `customAttributes` object (as compact JSON) sent.
pub const MAX_TOTAL_BYTES: usize = 2048;
/// How much of an over-long key a warning shows.
const KEY_SHOWN_CHARS: usize = 64;

/// The participant data and the warnings of what was left out.
pub type Attributes = (BTreeMap<String, String>, Vec<Warning>);

/// Routing attributes (`queueId`, `myLanguage`, `mySkills`, `priority`, `userId`,
/// `sessionId`), then the node's Custom Attributes flattened. A custom attribute named like
/// a routing attribute that is sent is left out (the routing value wins); then every
/// attribute, routing ones first and custom ones in key order, is kept while it fits: a key
/// over [`MAX_KEY_LEN`] or a value over [`MAX_VALUE_LEN`] characters, or one that would
/// take the object past [`MAX_TOTAL_BYTES`], is dropped whole (never truncated). Only
/// Custom Attributes that are not JSON at all are an error.
pub fn attributes(
    user: &UserProfile,
    node: &HandoverSettings,
    queue_id: Option<&str>,
) -> Result<Attributes, Error> {
    let routing = [
        ("queueId", queue_id),
        ("myLanguage", node.language.as_deref()),
        ("mySkills", node.skills.as_deref()),
        ("priority", node.priority.as_deref()),
        ("userId", Some(user.user_id.as_str())),
        ("sessionId", Some(user.session_id.as_str())),
    ];
    let mut candidates: Vec<(String, String)> = routing
        .iter()
        .filter_map(|(k, v)| Some((k.to_string(), v.filter(|v| !v.is_empty())?.to_string())))
        .collect();
    let mut dropped = Vec::new();
    let mut warnings = Vec::new();
    let custom = node.custom_attributes.as_deref();
    if let Some(custom) = custom.filter(|c| !c.trim().is_empty()) {
        let flat = flatten::flatten(custom)?;
        if flat.not_object {
            warnings.push(Warning::CustomAttributesIgnored);
        }
        dropped.extend(flat.dropped);
        for (k, v) in flat.attrs {
            if candidates.iter().any(|(r, _)| *r == k) {
                dropped.push(k);
            } else {
                candidates.push((k, v));
            }
        }
    }
    let (attrs, too_big) = fit(candidates);
    dropped.extend(too_big);
    warnings.extend(
        dropped
            .iter()
            .map(|k| Warning::AttributeDropped(shown_key(k))),
    );
    Ok((attrs, warnings))
}

/// A key as a warning names it: an over-long one by its first characters and `…`.
fn shown_key(key: &str) -> String {
    match key.chars().count() > MAX_KEY_LEN {
        true => key.chars().take(KEY_SHOWN_CHARS).chain(['…']).collect(),
        false => key.to_string(),
    }
}

fn json_len(s: &str) -> usize {
    serde_json::to_string(s).map_or(usize::MAX / 4, |j| j.len())
}

/// Keep the attributes, in order, that fit the limits; the keys of the others.
pub fn fit(candidates: Vec<(String, String)>) -> (BTreeMap<String, String>, Vec<String>) {
    let mut kept = BTreeMap::new();
    let mut dropped = Vec::new();
    let mut total = 2; // `{}`
    for (k, v) in candidates {
        let comma = usize::from(!kept.is_empty());
        let entry = json_len(&k) + 1 + json_len(&v) + comma;
        let too_long = k.chars().count() > MAX_KEY_LEN || v.chars().count() > MAX_VALUE_LEN;
        if too_long || total + entry > MAX_TOTAL_BYTES {
            dropped.push(k);
        } else {
            total += entry;
            kept.insert(k, v);
        }
    }
    (kept, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(custom: &str) -> HandoverSettings {
        HandoverSettings {
            language: Some("english".into()),
            custom_attributes: Some(custom.into()),
            ..HandoverSettings::default()
        }
    }

    fn user() -> UserProfile {
        UserProfile {
            user_id: "u1".into(),
            session_id: "s1".into(),
            ..UserProfile::default()
        }
    }

    fn dropped(w: &[Warning]) -> Vec<String> {
        w.iter()
            .filter_map(|w| match w {
                Warning::AttributeDropped(k) => Some(k.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn routing_attributes_win_a_collision() {
        let custom = r#"{"queueId":"mine","myLanguage":"klingon","priority":"9","tier":"gold"}"#;
        let (a, w) = attributes(&user(), &node(custom), Some("q-1")).unwrap();
        assert_eq!(a["queueId"], "q-1");
        assert_eq!(a["myLanguage"], "english");
        // No routing priority is sent, so the custom one is no collision.
        assert_eq!(a["priority"], "9");
        assert_eq!(a["tier"], "gold");
        assert_eq!(dropped(&w), ["myLanguage", "queueId"]);
    }

    #[test]
    fn oversized_values_and_keys_are_dropped_whole() {
        let long_key = "k".repeat(MAX_KEY_LEN + 1);
        let custom = format!(
            r#"{{"big":"{}","edge":"{}","{long_key}":"v","ok":"1"}}"#,
            "v".repeat(MAX_VALUE_LEN + 1),
            "é".repeat(MAX_VALUE_LEN)
        );
        let (a, w) = attributes(&user(), &node(&custom), None).unwrap();
        assert!(!a.contains_key("big") && !a.contains_key(&long_key));
        assert_eq!(
            a["edge"].chars().count(),
            MAX_VALUE_LEN,
            "at the limit is kept"
        );
        assert_eq!(a["ok"], "1");
        let shown = format!("{}…", "k".repeat(KEY_SHOWN_CHARS));
        assert_eq!(dropped(&w), ["big".to_string(), shown]);
    }

    #[test]
    fn attributes_past_the_budget_are_dropped_and_the_rest_fit() {
        let custom: String = (0..20)
            .map(|i| format!(r#""k{i:02}":"{}""#, "v".repeat(200)))
            .collect::<Vec<_>>()
            .join(",");
        let (a, w) = attributes(&user(), &node(&format!("{{{custom}}}")), Some("q")).unwrap();
        assert!(serde_json::to_vec(&a).unwrap().len() <= MAX_TOTAL_BYTES);
        assert_eq!(a["queueId"], "q", "routing attributes come first");
        assert!(a.contains_key("k00") && !a.contains_key("k19"));
        let gone = dropped(&w);
        assert_eq!(gone.len() + a.len(), 20 + 4);
        assert!(gone
            .iter()
            .all(|k| k.starts_with('k') && !a.contains_key(k)));
    }

    #[test]
    fn json_that_is_not_an_object_is_ignored_and_garbage_is_an_error() {
        let (a, w) = attributes(&user(), &node("[1,2]"), None).unwrap();
        assert_eq!(a.len(), 3);
        assert_eq!(w, vec![Warning::CustomAttributesIgnored]);
        let e = attributes(&user(), &node("{not json"), None).unwrap_err();
        assert!(matches!(e, Error::InvalidInput(_)));
    }
}
