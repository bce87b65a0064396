//! Everything Genesys sends back: signed webhooks of every payload type, agent details,
//! duplicates, receipts, and a randomized robustness run. Bot messages and webhooks of an
//! earlier handover have suites of their own (`bot_messages.rs`, `earlier_handover.rs`).

use crate::support::*;
use genesys_om_handover::testing::fixtures::{now_iso8601, Rng};
use genesys_om_host::bindings::types::{
    Action, Error, HandoverStatus, SignatureProblem, UserEvent, Warning, Webhook,
};
use genesys_sim::{sign, AgentSends};
use serde_json::{json, Value};

/// A realistic outbound webhook envelope for user `u1` of integration `integ`, sent now
/// and naming no conversation (as in Genesys's older documentation).
fn envelope(integ: &str, id: &str) -> Value {
    json!({
        "id": id,
        "channel": { "id": integ, "platform": "Open", "type": "Private",
                     "to": { "id": "u1", "idType": "Opaque" },
                     "from": { "nickname": DEPLOYMENT, "id": integ, "idType": "Opaque" },
                     "time": now_iso8601(), "messageId": id },
        "direction": "Outbound"
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_payload_type() {
    let h = harness().await;
    let conv = h.open("u1").await;

    let o = h.agent_sends(&conv, AgentSends::Typing).await.unwrap();
    assert_eq!(o.actions, vec![Action::AgentTyping]);

    let o = h
        .agent_sends(
            &conv,
            AgentSends::Attachment {
                url: "https://api-downloads.mypurecloud.de/api/v2/downloads/abc".into(),
                mime: "image/png".into(),
                filename: "a.png".into(),
            },
        )
        .await
        .unwrap();
    let Action::SendAttachment(a) = &o.actions[0] else {
        panic!("{o:?}")
    };
    assert_eq!(a.attachment.mime_type, "image/png");
    assert_eq!(a.attachment.file_name.as_deref(), Some("a.png"));
    assert!(a.attachment.url.ends_with("/downloads/abc"));

    let o = h
        .agent_sends(
            &conv,
            AgentSends::QuickReplies {
                text: "Callback?".into(),
                replies: vec![("Yes".into(), "y".into()), ("No".into(), "n".into())],
            },
        )
        .await
        .unwrap();
    let Action::SendChoices(c) = &o.actions[0] else {
        panic!("{o:?}")
    };
    assert_eq!(
        c.choices
            .iter()
            .map(|c| c.value.as_str())
            .collect::<Vec<_>>(),
        vec!["y", "n"]
    );
    assert_eq!(c.fallback, "Callback?\nOptions: Yes | No");

    let o = h.agent_sends(&conv, AgentSends::Receipt).await.unwrap();
    assert!(o.actions.is_empty() && o.warnings.is_empty(), "{o:?}");

    // Text together with an attachment: both, text first.
    let mut b = envelope(&h.integration, "0000000000000000000000000000000a");
    b["type"] = json!("Text");
    b["text"] = json!("Here is the label");
    b["originatingEntity"] = json!("Human");
    b["content"] = json!([{ "contentType": "Attachment", "attachment": { "mediaType": "File", "url": "https://x/l.pdf", "mime": "application/pdf", "filename": "l.pdf" } }]);
    let o = h.agent(&signed(&b, WEBHOOK_SECRET)).await.unwrap();
    assert!(matches!(&o.actions[0], Action::SendText(t) if t.text == "Here is the label"));
    assert!(matches!(&o.actions[1], Action::SendAttachment(_)));

    // A card carousel from a bot flow, forwarded as a Human message here to see the mapping.
    let mut b = envelope(&h.integration, "0000000000000000000000000000000b");
    b["type"] = json!("Structured");
    b["originatingEntity"] = json!("Human");
    b["content"] = json!([{ "contentType": "Carousel", "carousel": { "cards": [
        { "title": "Blue", "description": "a blue one", "actions": [{ "type": "Postback", "text": "Pick blue", "payload": "blue" }] },
        { "title": "Red", "actions": [{ "type": "Link", "text": "See red", "url": "https://shop/red" }] } ] } }]);
    let o = h.agent(&signed(&b, WEBHOOK_SECRET)).await.unwrap();
    let Action::SendChoices(c) = &o.actions[0] else {
        panic!("{o:?}")
    };
    assert_eq!(c.text, "Blue\na blue one\nRed");
    assert_eq!(c.choices[1].value, "https://shop/red");

    // An unknown type is ignored with a warning, not an error.
    let mut b = envelope(&h.integration, "0000000000000000000000000000000c");
    b["type"] = json!("Hologram");
    let o = h.agent(&signed(&b, WEBHOOK_SECRET)).await.unwrap();
    assert!(o.actions.is_empty());
    assert_eq!(o.warnings, vec![Warning::UnsupportedIgnored]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_previous_secret_is_accepted_during_rotation() {
    let h = harness_with(|c| {
        c.insert("webhook-secret".into(), "the-brand-new-secret-value".into());
        c.insert("webhook-secret-previous".into(), WEBHOOK_SECRET.into());
    })
    .await;
    let conv = h.open("u1").await;
    // The simulator still signs with the old secret.
    let o = h
        .agent_sends(&conv, AgentSends::Text("old secret".into()))
        .await
        .unwrap();
    assert_eq!(o.actions.len(), 1);
    let b = envelope(&h.integration, "0000000000000000000000000000000d");
    assert_eq!(
        h.agent(&signed(&b, "the-brand-new-secret-value"))
            .await
            .unwrap()
            .warnings,
        vec![Warning::UnsupportedIgnored]
    );
    assert_eq!(
        h.agent(&signed(&b, "a-third-secret-value-xx")).await,
        Err(Error::BadSignature(SignatureProblem::Mismatch))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_secret_webhooks_are_accepted_with_a_warning() {
    let h = harness_with(|c| {
        c.remove("webhook-secret");
    })
    .await;
    let conv = h.open("u1").await;
    let mut w = h.webhook(&conv, AgentSends::Text("hi".into())).unwrap();
    w.headers.clear();
    let o = h.agent(&w).await.unwrap();
    assert_eq!(o.warnings, vec![Warning::UnsignedWebhookAccepted]);
    assert_eq!(o.actions.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_webhook_repeats_its_action_under_one_delivery_key() {
    let h = harness().await;
    let conv = h.open("u1").await;
    let w = h
        .webhook(&conv, AgentSends::Text("only once".into()))
        .unwrap();
    let first = h.agent(&w).await.unwrap();
    assert_eq!(first.actions.len(), 1);
    assert!(first.warnings.is_empty());
    let key = first
        .delivery_key
        .clone()
        .expect("a webhook with an id has a delivery key");
    assert!(key.starts_with(&conv), "{key}");
    for _ in 0..5 {
        let again = h.agent(&w).await.unwrap();
        assert_eq!(again.warnings, vec![Warning::Duplicate]);
        assert_eq!(again.actions, first.actions);
        assert_eq!(again.delivery_key.as_deref(), Some(key.as_str()));
    }
    let other = h
        .webhook(&conv, AgentSends::Text("another".into()))
        .unwrap();
    let o = h.agent(&other).await.unwrap();
    assert!(o.warnings.is_empty());
    assert_ne!(o.delivery_key.as_deref(), Some(key.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_details_travel_only_when_the_node_asks() {
    for display in [true, false] {
        let h = harness().await;
        let agent = h
            .sim
            .add_agent("Alex Agent", Some("https://avatars.example/alex.png"));
        let mut s = settings();
        s.display_agent_details = display;
        h.start_with(&user("u1"), &transcript(), &s).await.unwrap();
        let conv = h.sim.conversation_of("u1").unwrap().id;
        h.sim.agent_joins(&conv, &agent);
        let joined = h
            .event(&conv, "user.start", None, Some(&agent))
            .await
            .unwrap();
        let o = h
            .agent_sends(&conv, AgentSends::Text("Hello".into()))
            .await
            .unwrap();
        let Action::SendText(t) = &o.actions[0] else {
            panic!()
        };
        let users_api_calls = h
            .sim
            .state
            .lock()
            .unwrap()
            .log
            .iter()
            .filter(|l| l.contains("/api/v2/users/"))
            .count();
        if display {
            let a = t.agent.as_ref().expect("agent attached");
            assert_eq!(a.name, "Alex Agent");
            assert_eq!(
                a.avatar_url.as_deref(),
                Some("https://avatars.example/alex.png")
            );
            assert!(
                matches!(&joined.actions[0], Action::Status(HandoverStatus::AgentJoined(Some(a))) if a.name == "Alex Agent")
            );
            assert_eq!(users_api_calls, 1);
        } else {
            assert_eq!(t.agent, None);
            assert_eq!(
                joined.actions,
                vec![Action::Status(HandoverStatus::AgentJoined(None))]
            );
            assert_eq!(users_api_calls, 0, "no agent lookup when details are off");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_for_unknown_or_ended_handovers() {
    let h = harness().await;
    let mut b = envelope(&h.integration, "0000000000000000000000000000000e");
    b["type"] = json!("Text");
    b["text"] = json!("anyone?");
    assert!(matches!(
        h.agent(&signed(&b, WEBHOOK_SECRET)).await,
        Err(Error::UnknownConversation(_))
    ));
    let conv = h.open("u1").await;
    h.event(&conv, "customer.end", Some("CLIENT"), None)
        .await
        .unwrap();
    assert!(matches!(
        h.agent_sends(&conv, AgentSends::Text("late".into())).await,
        Err(Error::UnknownConversation(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_receipts_reach_genesys() {
    let h = harness().await;
    let conv = h.open("u1").await;
    let o = h
        .agent_sends(&conv, AgentSends::Text("one".into()))
        .await
        .unwrap();
    let Action::SendText(t) = &o.actions[0] else {
        panic!()
    };
    h.plugin
        .report_delivery(&h.tenant, "u1", &t.message_id, true, None)
        .await
        .unwrap()
        .unwrap();
    h.plugin
        .report_delivery(
            &h.tenant,
            "u1",
            &t.message_id,
            false,
            Some("chat tab closed"),
        )
        .await
        .unwrap()
        .unwrap();
    let r = h.sim.received("receipt");
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].body["status"], "Delivered");
    assert_eq!(r[0].body["id"], t.message_id.as_str());
    assert!(r[0].body.get("reasons").is_none());
    assert_eq!(r[1].body["status"], "Failed");
    assert_eq!(r[1].body["reasons"][0]["message"], "chat tab closed");
    assert_eq!(r[1].body["channel"]["to"]["id"], "u1");
    let e = h
        .plugin
        .report_delivery(&h.tenant, "nobody", "x", true, None)
        .await
        .unwrap();
    assert!(matches!(e, Err(Error::UnknownConversation(_))));
}

/// A number below `n` from the shared seeded generator, so a failure can be replayed.
fn pick(rng: &mut Rng, n: usize) -> usize {
    rng.below(n as u64) as usize
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_and_mutated_webhooks_never_trap_or_act_unsigned() {
    let h = harness().await;
    let conv = h.open("u1").await;
    let base = h.webhook(&conv, AgentSends::Text("seed".into())).unwrap();
    let samples: Vec<Vec<u8>> = vec![
        base.body.clone(),
        h.webhook(&conv, AgentSends::Typing).unwrap().body,
        h.webhook(
            &conv,
            AgentSends::QuickReplies {
                text: "q".into(),
                replies: vec![("a".into(), "b".into())],
            },
        )
        .unwrap()
        .body,
        b"{}".to_vec(),
        b"[]".to_vec(),
    ];
    let mut rng = Rng::new(0x9E37_79B9_7F4A_7C15);
    let (mut acted, mut refused) = (0, 0);
    for i in 0..2500 {
        let mut body = samples[pick(&mut rng, samples.len())].clone();
        match pick(&mut rng, 6) {
            0 => {
                let n = pick(&mut rng, 200);
                body = (0..n).map(|_| rng.next_u64() as u8).collect();
            }
            1 if !body.is_empty() => {
                let at = pick(&mut rng, body.len());
                body[at] ^= 1 << pick(&mut rng, 8);
            }
            2 => {
                let at = pick(&mut rng, body.len() + 1);
                body.truncate(at);
            }
            3 => {
                let at = pick(&mut rng, body.len() + 1);
                const JUNK: &[u8] = b"{}[]\",:\\0\xff";
                let junk: Vec<u8> = (0..pick(&mut rng, 8))
                    .map(|_| JUNK[pick(&mut rng, JUNK.len())])
                    .collect();
                body.splice(at..at, junk);
            }
            _ => {}
        }
        // Half of them are re-signed correctly, so the parser sees garbage with a valid signature.
        let resign = pick(&mut rng, 2) == 0;
        let signature = match pick(&mut rng, 5) {
            _ if resign => Some(sign(WEBHOOK_SECRET, &body)),
            0 => None,
            1 => Some("sha256=".into()),
            2 => Some(format!("sha256={}", "A".repeat(pick(&mut rng, 60)))),
            3 => Some(sign("wrong-secret-value-123", &body)),
            _ => Some(base.headers[1].1.clone()),
        };
        let valid = signature.as_deref() == Some(sign(WEBHOOK_SECRET, &body).as_str());
        let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
        if let Some(s) = signature {
            let name = if i % 2 == 0 {
                "X-Hub-Signature-256"
            } else {
                "x-hub-signature-256"
            };
            headers.push((name.into(), s));
        }
        let result = h
            .plugin
            .agent_message(&h.tenant, &Webhook { headers, body })
            .await
            .expect("the component never traps");
        match result {
            Ok(o) => {
                assert!(valid, "an unsigned or badly signed webhook was accepted");
                if !o.actions.is_empty() {
                    acted += 1;
                }
            }
            Err(Error::BadSignature(_)) => {
                assert!(!valid);
                refused += 1;
            }
            Err(Error::InvalidInput(_) | Error::UnknownConversation(_)) => assert!(valid),
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }
    assert!(
        refused > 500 && acted > 0,
        "refused {refused}, acted {acted}"
    );
}

/// Genesys refuses a user's file: its `Failed` receipt reaches the bot side as an action
/// naming the message and Genesys's reason; a `Delivered` receipt stays silent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_receipt_tells_the_bot_which_user_message_failed_and_why() {
    use genesys_om_host::bindings::types::Attachment;
    let h = harness().await;
    let conv = h.open("u1").await;
    let file = Attachment {
        url: "https://files.example.com/contract.exe".into(),
        mime_type: "application/x-msdownload".into(),
        file_name: Some("contract.exe".into()),
    };
    h.user_says("u1", UserEvent::Attachment(file))
        .await
        .unwrap();
    let sent = h.sim.received("message");
    let message_id = sent.last().unwrap().body["channel"]["messageId"]
        .as_str()
        .unwrap()
        .to_string();

    let quiet = h.agent_sends(&conv, AgentSends::Receipt).await.unwrap();
    assert!(quiet.actions.is_empty(), "{quiet:?}");
    let failed = AgentSends::FailedReceipt {
        message_id: message_id.clone(),
        code: "MediaTypeNotAllowed".into(),
        message: "Media type not allowed".into(),
    };
    let o = h.agent_sends(&conv, failed).await.unwrap();
    let [Action::UserMessageFailed(f)] = o.actions.as_slice() else {
        panic!("{o:?}")
    };
    assert_eq!(f.message_id, message_id);
    assert_eq!(f.reasons[0].code.as_deref(), Some("MediaTypeNotAllowed"));
    assert_eq!(
        f.attachment.as_ref().map(|a| a.url.as_str()),
        Some("https://files.example.com/contract.exe"),
        "the action says which message it was"
    );
}
