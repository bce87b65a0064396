//! Everything the plugin sends to Genesys: auth, integration lookup, transcript, custom
//! attributes, profile, user turns and events.

use crate::support::*;
use genesys_om_host::bindings::types::{
    Action, Attachment, Error, HandoverStatus, Speaker, TranscriptEntry, UserEvent,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_setting_forms_reach_the_right_region() {
    for host in [
        "mypurecloud.de",
        "https://apps.mypurecloud.de/",
        "login.mypurecloud.de",
        "HTTPS://API.MYPURECLOUD.DE/x",
    ] {
        let h = harness_with(|c| {
            c.insert("host".into(), host.into());
        })
        .await;
        h.start("u1").await;
        let hosts = h.sim.state.lock().unwrap().hosts.clone();
        assert!(
            hosts.iter().all(|x| x.ends_with("mypurecloud.de")),
            "{host}: {hosts:?}"
        );
    }
    for bad in [
        "mypurecloud.de.attacker.test",
        "localhost",
        "",
        "https://127.0.0.1/",
    ] {
        let h = harness_with(|c| {
            c.insert("host".into(), bad.into());
        })
        .await;
        let e = h
            .start_with(&user("u1"), &transcript(), &settings())
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Config(_)), "{bad}: {e:?}");
        assert!(
            h.sim.state.lock().unwrap().log.is_empty(),
            "{bad}: a request was made"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_token_serves_many_hooks_and_is_renewed_after_a_401() {
    let h = harness().await;
    h.start("u1").await;
    h.user_says("u1", UserEvent::Text("one".into()))
        .await
        .unwrap();
    h.user_says("u1", UserEvent::Typing).await.unwrap();
    assert_eq!(h.sim.state.lock().unwrap().token_requests, 1);
    // Genesys forgets the token: the next call gets 401, renews once and succeeds.
    h.sim.expire_tokens();
    h.user_says("u1", UserEvent::Text("two".into()))
        .await
        .unwrap();
    let st = h.sim.state.lock().unwrap();
    assert_eq!(st.token_requests, 2);
    assert!(st.log.iter().any(|l| l.ends_with(" 401")), "{:?}", st.log);
    drop(st);
    assert_eq!(h.sim.received("message").len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_close_to_expiry_is_not_reused() {
    let h = harness().await;
    // 30 s of life is inside the 60 s renewal margin: every hook fetches a new token.
    h.sim.state.lock().unwrap().token_lifetime_secs = 30;
    h.start("u1").await;
    let after_start = h.sim.state.lock().unwrap().token_requests;
    h.user_says("u1", UserEvent::Text("x".into()))
        .await
        .unwrap();
    assert_eq!(h.sim.state.lock().unwrap().token_requests, after_start + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_a_typed_auth_error_without_the_secret() {
    let h = harness_with(|c| {
        c.insert("client-secret".into(), "wrong-secret-4242".into());
    })
    .await;
    let e = h
        .start_with(&user("u1"), &transcript(), &settings())
        .await
        .unwrap_err();
    let Error::Auth(msg) = &e else {
        panic!("{e:?}")
    };
    assert!(
        msg.contains("invalid_client") && msg.contains(CLIENT_ID),
        "{msg}"
    );
    assert!(!msg.contains("wrong-secret-4242"));
    assert!(h.sim.received("message").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_integration_is_found_on_page_three_and_cached() {
    let sim_h = harness().await;
    // Move our integration behind 60 others: pages of 25 put it on page 3.
    {
        let mut st = sim_h.sim.state.lock().unwrap();
        let ours = st.integrations.remove(0);
        for i in 0..60 {
            st.integrations.push(genesys_sim::Integration {
                id: format!("other-{i}"),
                name: format!("Other{i}"),
                webhook_url: String::new(),
                secret: "x".repeat(16),
            });
        }
        st.integrations.push(ours);
    }
    sim_h.start("u1").await;
    sim_h.start("u2").await;
    let log = sim_h.sim.state.lock().unwrap().log.clone();
    let lists: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("/integrations/open"))
        .collect();
    assert_eq!(
        lists.len(),
        3,
        "three pages read once, then cached: {log:?}"
    );
    assert_eq!(
        sim_h.sim.received("message")[0].integration_id,
        sim_h.integration
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_deployment_name_says_how_many_were_seen() {
    let h = harness_with(|c| {
        c.insert("deployment-name".into(), "NoSuchDeployment".into());
    })
    .await;
    h.sim
        .add_integration("Another", "", "y".repeat(16).as_str());
    let e = h
        .start_with(&user("u1"), &transcript(), &settings())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Config(m) if m.contains("none of the 2")),
        "{e:?}"
    );
}

fn messy_transcript() -> Vec<TranscriptEntry> {
    vec![
        TranscriptEntry {
            speaker: Speaker::User,
            text: "hello".into(),
            data: None,
            time: None,
        },
        TranscriptEntry {
            speaker: Speaker::Bot,
            text: "".into(),
            data: Some(r#"{"_cognigy":{"_default":"UNSUPPORTED_STRUCTURE_DATA"}}"#.into()),
            time: None,
        },
        TranscriptEntry {
            speaker: Speaker::User,
            text: "  ".into(),
            data: None,
            time: None,
        },
        TranscriptEntry {
            speaker: Speaker::Bot,
            text: "bye".into(),
            data: None,
            time: None,
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transcript_filters_off_and_on() {
    let h = harness().await;
    h.start_with(&user("u1"), &messy_transcript(), &settings())
        .await
        .unwrap();
    let text = h.sim.received("message")[0].body["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        text.contains("Bot: [unsupported content]") && text.contains("User: [empty message]"),
        "{text}"
    );

    let h = harness_with(|c| {
        c.insert("filter-unsupported-messages".into(), "true".into());
        c.insert("filter-empty-messages".into(), "true".into());
    })
    .await;
    h.start_with(&user("u1"), &messy_transcript(), &settings())
        .await
        .unwrap();
    let text = h.sim.received("message")[0].body["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        text,
        "Transcript of the conversation with the bot:\nUser: hello\nBot: bye"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_transcript_is_split_and_only_the_first_part_carries_attributes() {
    let h = harness().await;
    let long: Vec<TranscriptEntry> = (0..40)
        .map(|i| TranscriptEntry {
            speaker: Speaker::User,
            text: format!("{i} {}", "x".repeat(300)),
            data: None,
            time: None,
        })
        .collect();
    h.start_with(&user("u1"), &long, &settings()).await.unwrap();
    let msgs = h.sim.received("message");
    assert!(msgs.len() >= 3, "{}", msgs.len());
    assert!(msgs[0].body["channel"]["metadata"]["customAttributes"].is_object());
    assert!(msgs[1..]
        .iter()
        .all(|m| m.body["channel"].get("metadata").is_none()));
    let ids: std::collections::HashSet<_> = msgs
        .iter()
        .map(|m| m.body["channel"]["messageId"].to_string())
        .collect();
    assert_eq!(ids.len(), msgs.len(), "message ids are unique");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_attributes_examples_of_the_feature_source() {
    let h = harness().await;
    let mut s = settings();
    s.custom_attributes =
        Some(r#""{\"customerType\":\"premium\",\"tags\":[\"urgent\",\"vip\"]}""#.into());
    h.start_with(&user("u1"), &transcript(), &s).await.unwrap();
    let a = h.sim.conversation_of("u1").unwrap().attributes;
    assert_eq!(a["customerType"], "premium");
    assert_eq!(a["tags"], "urgent,vip");

    s.custom_attributes = Some(
        r#"{"customerType":"premium","tags":["urgent","vip"],"preferences":{"language":"en","notifications":true},
            "items":[{"sku":"A1"}],"score":1.50,"none":null}"#
            .into(),
    );
    h.start_with(&user("u2"), &transcript(), &s).await.unwrap();
    let a = h.sim.conversation_of("u2").unwrap().attributes;
    assert_eq!(a["preferences.language"], "en");
    assert_eq!(a["preferences.notifications"], "1");
    assert_eq!(a["items.0.sku"], "A1");
    // Written as the feature source's JavaScript platform writes the number.
    assert_eq!(a["score"], "1.5");
    assert!(!a.contains_key("none"));
}

/// Custom attributes never block a handover: what does not fit is dropped with a warning
/// naming the key, and the conversation opens; only text that is not JSON is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_custom_attributes_are_dropped_with_a_warning_and_the_handover_opens() {
    use genesys_om_host::bindings::types::Warning;
    let big = format!(r#"{{"big":"{}"}}"#, "v".repeat(300));
    for (i, (attrs, warning)) in [
        (
            r#"{"queueId":"mine"}"#,
            Warning::AttributeDropped("queueId".into()),
        ),
        (big.as_str(), Warning::AttributeDropped("big".into())),
        (r#"["not","an","object"]"#, Warning::CustomAttributesIgnored),
    ]
    .into_iter()
    .enumerate()
    {
        let h = harness().await;
        let mut s = settings();
        s.custom_attributes = Some(attrs.to_string());
        let u = format!("u{i}");
        let o = h
            .start_with(&user(&u), &transcript(), &s)
            .await
            .unwrap_or_else(|e| panic!("{attrs}: {e:?}"));
        assert!(o.warnings.contains(&warning), "{attrs}: {:?}", o.warnings);
        let sent = h.sim.received("message");
        assert_eq!(sent.len(), 1, "{attrs}: the conversation opened");
        let custom = &sent[0].body["channel"]["metadata"]["customAttributes"];
        assert_ne!(
            custom["queueId"], "mine",
            "routing attributes win: {custom}"
        );
        assert!(custom.get("big").is_none(), "{custom}");
    }
    let h = harness().await;
    let mut s = settings();
    s.custom_attributes = Some("{not json".into());
    let e = h
        .start_with(&user("u1"), &transcript(), &s)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)), "{e:?}");
    assert!(h.sim.received("message").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_fields_travel_only_when_send_user_profile_is_on() {
    let h = harness().await;
    h.start("u1").await;
    let from = h.sim.received("message")[0].body["channel"]["from"].clone();
    assert_eq!(from, serde_json::json!({"id": "u1", "idType": "Opaque"}));

    // `send-profile` is about the agent shown to the user; the user's own profile goes to
    // Genesys only with `send-user-profile`.
    let h = harness_with(|c| {
        c.insert("send-profile".into(), "true".into());
    })
    .await;
    h.start("u1").await;
    let from = h.sim.received("message")[0].body["channel"]["from"].clone();
    assert_eq!(from, serde_json::json!({"id": "u1", "idType": "Opaque"}));

    let h = harness_with(|c| {
        c.insert("send-user-profile".into(), "true".into());
    })
    .await;
    h.start("u1").await;
    let from = h.sim.received("message")[0].body["channel"]["from"].clone();
    assert_eq!(from["firstName"], "Jane");
    assert_eq!(from["lastName"], "Doe");
    assert_eq!(from["nickname"], "JD");
    assert_eq!(from["email"], "jane@example.com");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_turns_attachments_and_typing() {
    let h = harness().await;
    h.start("u1").await;
    h.user_says("u1", UserEvent::Text("where is my parcel?".into()))
        .await
        .unwrap();
    h.user_says(
        "u1",
        UserEvent::Attachment(Attachment {
            url: "https://files.example/receipt.png".into(),
            mime_type: "image/png".into(),
            file_name: Some("receipt.png".into()),
        }),
    )
    .await
    .unwrap();
    h.user_says("u1", UserEvent::Typing).await.unwrap();
    let msgs = h.sim.received("message");
    assert_eq!(msgs[1].body["text"], "where is my parcel?");
    let att = &msgs[2].body["content"][0]["attachment"];
    assert_eq!(att["mediaType"], "Image");
    assert_eq!(att["mime"], "image/png");
    assert_eq!(att["filename"], "receipt.png");
    let events = h.sim.received("event");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].body["events"][0]["eventType"], "Typing");
    // All of them joined the same Genesys conversation.
    let conv = msgs[0].conversation_id.clone();
    assert!(msgs.iter().all(|m| m.conversation_id == conv));
    assert_eq!(events[0].conversation_id, conv);

    let bad = UserEvent::Attachment(Attachment {
        url: "".into(),
        mime_type: "image/png".into(),
        file_name: None,
    });
    assert!(matches!(
        h.user_says("u1", bad).await,
        Err(Error::InvalidInput(_))
    ));
    assert!(matches!(
        h.user_says("nobody", UserEvent::Text("x".into())).await,
        Err(Error::UnknownConversation(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joined_and_left_messages_follow_the_node_toggles() {
    let h = harness().await;
    h.start("u1").await;
    h.user_says("u1", UserEvent::Disconnected).await.unwrap();
    h.user_says("u1", UserEvent::Reconnected).await.unwrap();
    let texts: Vec<String> = h
        .sim
        .received("message")
        .iter()
        .skip(1)
        .map(|m| m.body["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        texts,
        vec!["User left the conversation", "User joined the conversation"]
    );

    let h = harness().await;
    let mut s = settings();
    s.enable_user_connects_message = false;
    s.enable_user_disconnects_message = false;
    h.start_with(&user("u1"), &transcript(), &s).await.unwrap();
    h.user_says("u1", UserEvent::Disconnected).await.unwrap();
    h.user_says("u1", UserEvent::Reconnected).await.unwrap();
    assert_eq!(h.sim.received("message").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_start_reports_already_in_progress() {
    let h = harness().await;
    h.start("u1").await;
    let o = h.start("u1").await;
    assert_eq!(
        o.actions,
        vec![Action::Status(HandoverStatus::AlreadyInProgress)]
    );
    assert_eq!(h.sim.received("message").len(), 1);
    assert_eq!(h.sim.state.lock().unwrap().conversations.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recreated_integration_is_looked_up_again() {
    let h = harness().await;
    h.start("u1").await;
    // The admin deletes the integration and creates it again under the same name.
    let new_id = {
        let mut st = h.sim.state.lock().unwrap();
        st.integrations.clear();
        "recreated-integration-id".to_string()
    };
    h.sim
        .state
        .lock()
        .unwrap()
        .integrations
        .push(genesys_sim::Integration {
            id: new_id.clone(),
            name: DEPLOYMENT.into(),
            webhook_url: String::new(),
            secret: WEBHOOK_SECRET.into(),
        });
    h.start("u2").await;
    let last = h.sim.received("message").pop().unwrap();
    assert_eq!(last.integration_id, new_id);
    // The new id is what the component keeps now.
    let kept = dump(&h.plugin.kv, "tenant-a").await;
    assert!(kept.values().any(|v| v == new_id.as_bytes()), "{kept:?}");
}
