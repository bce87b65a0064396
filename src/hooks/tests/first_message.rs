//! What the first message of a handover carries: routing and custom attributes that never
//! stop the handover, the user's profile only with `send-user-profile`, and a transcript
//! the agent can read.

use super::*;

/// The participant data of the first message Genesys accepted.
fn attributes_sent(f: &Fakes) -> serde_json::Value {
    f.genesys.accepted()[0].body["channel"]["metadata"]["customAttributes"].clone()
}

fn with_custom(custom: &str) -> HandoverSettings {
    HandoverSettings {
        custom_attributes: Some(custom.into()),
        ..HandoverSettings::default()
    }
}

#[test]
fn a_custom_attribute_named_like_a_routing_one_is_dropped_and_the_handover_starts() {
    let f = Fakes::working();
    let node = with_custom(r#"{"queueId":"mine","tier":"gold"}"#);
    let o = start(&f.env(), &user(), &[], &node).unwrap();
    assert_eq!(o.actions, vec![Action::Status(HandoverStatus::Queued)]);
    assert_eq!(
        o.warnings,
        vec![Warning::AttributeDropped("queueId".into())]
    );
    let a = attributes_sent(&f);
    assert_eq!(a["queueId"], fixtures::QUEUE_ID);
    assert_eq!(a["tier"], "gold");
}

#[test]
fn oversized_attributes_are_dropped_by_name_and_the_handover_starts() {
    let f = Fakes::working();
    let many: Vec<String> = (0..12)
        .map(|i| format!(r#""k{i:02}":"{}""#, "v".repeat(250)))
        .collect();
    let custom = format!(r#"{{"big":"{}",{}}}"#, "x".repeat(257), many.join(","));
    let o = start(&f.env(), &user(), &[], &with_custom(&custom)).unwrap();
    assert_eq!(o.actions, vec![Action::Status(HandoverStatus::Queued)]);
    let dropped: Vec<&str> = o
        .warnings
        .iter()
        .filter_map(|w| match w {
            Warning::AttributeDropped(k) => Some(k.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(dropped[0], "big");
    assert!(dropped.len() > 3 && dropped.contains(&"k11"));
    let a = attributes_sent(&f);
    assert!(serde_json::to_vec(&a).unwrap().len() <= crate::genesys::attributes::MAX_TOTAL_BYTES);
    assert_eq!(a["userId"], "u1");
    assert!(a.get("big").is_none() && a.get("k00").is_some());
}

#[test]
fn only_custom_attributes_that_are_not_json_stop_a_handover() {
    let f = Fakes::working();
    let e = start(&f.env(), &user(), &[], &with_custom("{tier: gold")).unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)));
    assert!(f.genesys.accepted().is_empty());
    let o = start(&f.env(), &user(), &[], &with_custom(r#"["gold"]"#)).unwrap();
    assert_eq!(o.warnings, vec![Warning::CustomAttributesIgnored]);
    assert_eq!(attributes_sent(&f)["userId"], "u1");
}

#[test]
fn the_users_profile_goes_to_genesys_only_with_send_user_profile() {
    let profile = fixtures::user("u1");
    for (key, sent) in [("send-profile", false), ("send-user-profile", true)] {
        let f = Fakes {
            config: MapConfig::working().with(key, "true"),
            ..Fakes::default()
        };
        start(&f.env(), &profile, &[], &HandoverSettings::default()).unwrap();
        let from = &f.genesys.accepted()[0].body["channel"]["from"];
        assert_eq!(from["id"], "u1");
        assert_eq!(from.get("firstName").is_some(), sent, "{key}");
        assert_eq!(from.get("lastName").is_some(), sent, "{key}");
    }
}

#[test]
fn the_transcript_shows_rich_outputs_and_times() {
    let f = Fakes::working();
    let quick = r#"{"_cognigy":{"_default":{"_quickReplies":{"type":"quick_replies","text":"Which parcel?",
        "quickReplies":[{"id":1,"title":"Blue box","contentType":"postback","payload":"blue"},
                        {"id":2,"title":"Red box","contentType":"postback","payload":"red"}]}}}}"#;
    let transcript = vec![
        TranscriptEntry {
            speaker: Speaker::Bot,
            text: "Which parcel?".into(),
            data: Some(quick.into()),
            time: Some("2026-11-25T09:14:03Z".into()),
        },
        TranscriptEntry {
            speaker: Speaker::User,
            text: "Blue box".into(),
            data: None,
            time: None,
        },
    ];
    start(&f.env(), &user(), &transcript, &HandoverSettings::default()).unwrap();
    let text = f.genesys.accepted()[0].text.clone().unwrap();
    assert!(
        text.ends_with(
            "\n[2026-11-25T09:14:03Z] Bot: Which parcel? [Blue box | Red box]\nUser: Blue box"
        ),
        "{text}"
    );
}
