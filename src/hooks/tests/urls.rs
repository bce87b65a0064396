//! No URL `url_policy` refuses crosses between the user and Genesys: user attachments,
//! agent attachments, link buttons and avatars.

use super::*;

#[test]
fn a_user_attachment_with_an_unsafe_url_is_dropped_with_a_warning() {
    let f = Fakes::working();
    let env = f.env();
    start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
    let (calls, keys) = (f.genesys.calls(), f.kv.keys());
    for url in [
        "javascript:alert(document.cookie)",
        "JavaScript:alert(1)",
        "data:image/png;base64,iVBORw0KGgo=",
        "file:///etc/passwd",
        "ftp://files.example/x.png",
        "http://files.example/x.png",
        "files.example/x.png",
        "https://evil@169.254.169.254/latest/meta-data/",
        "https://[::1]/x.png",
    ] {
        let o = user_message(&env, "u1", &attachment(url), None).unwrap();
        assert_eq!(o.warnings, vec![Warning::UnsafeUrlDropped], "{url}");
        assert!(o.actions.is_empty());
        assert_eq!(o.user_id.as_deref(), Some("u1"));
    }
    assert_eq!(f.genesys.calls(), calls, "nothing sent to Genesys");
    assert_eq!(f.kv.keys(), keys, "nothing queued");
    // An empty URL is still a caller's mistake, not a dropped attachment.
    let e = user_message(&env, "u1", &attachment(" "), None).unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)));

    let o = user_message(&env, "u1", &attachment("HTTPS://files.example/x.png"), None).unwrap();
    assert!(o.warnings.is_empty());
    let last = f.genesys.accepted().pop().unwrap();
    let att = &last.body["content"][0]["attachment"];
    assert_eq!(att["url"], "HTTPS://files.example/x.png");
}

fn attachments(o: &Outcome) -> Vec<&Attachment> {
    o.actions
        .iter()
        .filter_map(|a| match a {
            Action::SendAttachment(a) => Some(&a.attachment),
            _ => None,
        })
        .collect()
}

#[test]
fn agent_attachments_reach_the_user_only_over_https() {
    let f = Fakes::working();
    let env = f.env();
    start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
    agent_joins(&env, "u1");
    let unsafe_urls = [
        "http://files.example/x.png",
        "data:image/png;base64,iVBORw0KGgo=",
        "javascript:alert(1)",
        "https://169.254.169.254/latest/meta-data/",
    ];
    for (i, url) in unsafe_urls.iter().enumerate() {
        let w = fixtures::attachment_webhook("u1", &format!("bad{i}"), "", url, "image/png");
        let o = agent_message(&env, &w).unwrap();
        assert!(o.actions.is_empty(), "{url}: {:?}", o.actions);
        assert_eq!(o.warnings, vec![Warning::UnsafeUrlDropped], "{url}");
    }
    // The text of the message still goes; only the attachment is dropped.
    let w = fixtures::attachment_webhook("u1", "mixed", "see this", unsafe_urls[0], "image/png");
    let o = agent_message(&env, &w).unwrap();
    assert!(matches!(&o.actions[..], [Action::SendText(t)] if t.text == "see this"));
    assert_eq!(o.warnings, vec![Warning::UnsafeUrlDropped]);

    let url = "https://api-downloads.mypurecloud.de/api/v2/downloads/abc";
    let w = fixtures::attachment_webhook("u1", "good", "", url, "image/png");
    let o = agent_message(&env, &w).unwrap();
    assert_eq!(attachments(&o).len(), 1);
    assert_eq!(attachments(&o)[0].url, url);
    assert!(o.warnings.is_empty());
}

#[test]
fn agent_link_buttons_and_avatars_reach_the_user_only_over_https() {
    let f = Fakes::working();
    let env = f.env();
    start(&env, &user(), &[], &fixtures::node_settings()).unwrap();
    agent_joins(&env, "u1");
    let h = state::handover::load(&f.kv, "u1").unwrap().unwrap();
    let agent = AgentInfo {
        name: "Alex Agent".into(),
        avatar_url: Some("http://avatars.example/alex.png".into()),
    };
    state::handover::set_agent(&f.kv, &h, Some(&agent)).unwrap();
    let mut body: serde_json::Value =
        serde_json::from_slice(&fixtures::text_webhook_body("u1", "card", "Pick one")).unwrap();
    body["type"] = "Structured".into();
    body["content"] = serde_json::json!([{ "contentType": "Card", "card": { "title": "Shop",
        "actions": [
            { "type": "Link", "text": "Bad", "url": "javascript:alert(1)" },
            { "type": "Link", "text": "Good", "url": "https://shop.example/red" },
            { "type": "Postback", "text": "Pick", "payload": "pick" } ] } }]);
    let w = fixtures::signed(body.to_string().into_bytes(), WEBHOOK_SECRET);
    let o = agent_message(&env, &w).unwrap();
    let [Action::SendChoices(c)] = &o.actions[..] else {
        panic!("{:?}", o.actions)
    };
    let values: Vec<&str> = c.choices.iter().map(|c| c.value.as_str()).collect();
    assert_eq!(values, ["https://shop.example/red", "pick"]);
    let shown = c.agent.as_ref().expect("agent shown");
    assert_eq!(
        (shown.name.as_str(), shown.avatar_url.as_deref()),
        ("Alex Agent", None)
    );
    assert_eq!(o.warnings, vec![Warning::UnsafeUrlDropped]);

    // A safe avatar is passed on without a warning.
    let agent = AgentInfo {
        avatar_url: Some("https://avatars.example/alex.png".into()),
        ..agent
    };
    state::handover::set_agent(&f.kv, &h, Some(&agent)).unwrap();
    let o = agent_message(&env, &fixtures::text_webhook("u1", "t1", "hi")).unwrap();
    assert!(matches!(&o.actions[..], [Action::SendText(t)] if t.agent == Some(agent.clone())));
    assert!(o.warnings.is_empty());
}
