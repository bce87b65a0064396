//! The inbound Open Messaging API (`message`, `event`, `receipt`, `structured/response`):
//! validation, conversation join, `prefetchConversationId`, and 409 for a messageId already
//! accepted — decided in one critical section, so concurrent copies of a message are
//! accepted exactly once.

use crate::reply::{error_body, not_found, Answer};
use crate::state::Received;
use crate::validate::{
    validate_event, validate_message, validate_receipt, validate_structured_response,
};
use crate::Simulator;
use http::StatusCode;
use serde_json::{json, Value};

impl Simulator {
    /// Accepted inbound requests of one kind (`message`, `event`, `receipt` or
    /// `structured-response`), in arrival order.
    pub fn received(&self, kind: &str) -> Vec<Received> {
        self.lock()
            .received
            .iter()
            .filter(|r| r.kind == kind)
            .cloned()
            .collect()
    }

    /// The texts of accepted inbound messages from one user (`channel.from.id`), in arrival
    /// order; messages without text (attachments only) are left out.
    pub fn texts_of(&self, user_id: &str) -> Vec<String> {
        self.lock()
            .received
            .iter()
            .filter(|r| {
                r.kind == "message"
                    && r.body.pointer("/channel/from/id").and_then(Value::as_str) == Some(user_id)
            })
            .filter_map(|r| {
                r.body
                    .get("text")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .collect()
    }

    /// `POST .../messages/{integration_id}/inbound/open/{kind}` with a parsed JSON body
    /// (`structured-response`: `.../inbound/open/structured/response`, which joins or opens
    /// the user's conversation as a message does); `query` is the raw query string.
    pub(crate) fn inbound(
        &self,
        integration_id: &str,
        kind: &str,
        query: &str,
        body: Value,
    ) -> Answer {
        // Everything from the lookup to the record happens under one lock: the 409 check,
        // the conversation join and the arrival order cannot interleave with another request.
        let mut st = self.lock();
        let Some(integ) = st
            .integrations
            .iter()
            .find(|i| i.id == integration_id)
            .cloned()
        else {
            return not_found();
        };
        let result = match kind {
            "message" => validate_message(&body).map(Some),
            "event" => validate_event(&body).map(|_| None),
            "receipt" => validate_receipt(&body).map(|_| None),
            "structured-response" => validate_structured_response(&body).map(|_| None),
            _ => return not_found(),
        };
        let is_message = kind == "message" || kind == "structured-response";
        let attrs = match result {
            Ok(a) => a,
            Err(e) => return e,
        };
        if is_message {
            if let Some(mid) = body.pointer("/channel/messageId").and_then(Value::as_str) {
                if !st.message_ids.insert((integ.id.clone(), mid.to_string())) {
                    return (
                        StatusCode::CONFLICT,
                        error_body(
                            409,
                            "conflict",
                            "A message with this messageId was already received.",
                        ),
                    );
                }
            }
        }
        let user_id = body
            .pointer("/channel/from/id")
            .or_else(|| body.pointer("/channel/to/id"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let conversation_id = if is_message {
            let (new_id, customer_id) = (self.next_id(), self.next_id());
            Some(st.join_or_create(
                &integ.id,
                &user_id,
                attrs.unwrap_or_default(),
                new_id,
                customer_id,
            ))
        } else {
            st.active_conversation(&integ.id, &user_id)
                .map(|c| c.id.clone())
        };
        let message_id = self.hex_id();
        st.received.push(Received {
            kind: kind.to_string(),
            integration_id: integ.id.clone(),
            conversation_id: conversation_id.clone(),
            body: body.clone(),
        });
        drop(st);
        let channel = json!({
            "id": integ.id, "platform": "Open", "type": "Private",
            "messageId": body.pointer("/channel/messageId").cloned().unwrap_or(Value::Null),
            "to": { "id": integ.id }, "from": body.pointer("/channel/from").cloned().unwrap_or(json!({})),
            "time": body.pointer("/channel/time").cloned().unwrap_or(Value::Null)
        });
        let mut resp = match kind {
            "message" => json!({ "id": message_id, "channel": channel, "type": "Text",
                                 "text": body.get("text").cloned().unwrap_or(Value::Null) }),
            "event" => {
                json!({ "id": message_id, "channel": channel, "type": "Event", "events": body["events"].clone() })
            }
            "structured-response" => json!({
                "id": message_id, "channel": channel, "type": "Structured", "direction": "Inbound",
                "content": [ { "contentType": "ButtonResponse", "buttonResponse": body["buttonResponse"].clone() } ]
            }),
            _ => {
                json!({ "id": body["id"].clone(), "channel": channel, "type": "Receipt", "status": body["status"].clone(), "direction": "Outbound" })
            }
        };
        if kind == "message" && query.split('&').any(|p| p == "prefetchConversationId=true") {
            resp["conversationId"] = json!(conversation_id);
        }
        (StatusCode::OK, resp)
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::{bearer, message, start};
    use crate::{post, request};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_copies_of_a_message_are_accepted_exactly_once() {
        let (sim, id) = start().await;
        let auth = bearer(&sim).await;
        let url = format!(
            "{}/api/v2/conversations/messages/{id}/inbound/open/message",
            sim.base_url()
        );
        let body = message("u1", "only once", "m-1");
        let copies: Vec<_> = (0..24)
            .map(|_| {
                let (url, auth, body) = (url.clone(), auth.clone(), body.clone());
                tokio::spawn(async move { post(&url, &auth, &body).await.unwrap() })
            })
            .collect();
        let mut statuses = Vec::new();
        for c in copies {
            statuses.push(c.await.unwrap());
        }
        statuses.sort_unstable();
        assert_eq!(statuses[0], 200);
        assert!(statuses[1..].iter().all(|s| *s == 409), "{statuses:?}");
        assert_eq!(sim.texts_of("u1"), vec!["only once"]);
        assert_eq!(sim.received("message").len(), 1);
        assert_eq!(sim.requests("message"), 24);
        assert_eq!(sim.state.lock().unwrap().conversations.len(), 1);
    }

    #[tokio::test]
    async fn messages_join_one_conversation_and_prefetch_its_id() {
        let (sim, id) = start().await;
        let auth = bearer(&sim).await;
        let url = format!(
            "{}/api/v2/conversations/messages/{id}/inbound/open/message",
            sim.base_url()
        );
        let (status, first) = request(
            "POST",
            &format!("{url}?prefetchConversationId=true"),
            &auth,
            &message("u1", "one", "m-1"),
        )
        .await
        .unwrap();
        assert_eq!(status, 200);
        let first: serde_json::Value = serde_json::from_slice(&first).unwrap();
        let conv = sim.conversation_of("u1").unwrap();
        assert_eq!(first["conversationId"], conv.id.as_str());
        assert_eq!(
            post(&url, &auth, &message("u1", "two", "m-2"))
                .await
                .unwrap(),
            200
        );
        assert_eq!(
            post(&url, &auth, &message("u2", "other", "m-3"))
                .await
                .unwrap(),
            200
        );
        assert_eq!(sim.texts_of("u1"), vec!["one", "two"]);
        assert_eq!(sim.received("message")[1].conversation_id, Some(conv.id));
        // Bad JSON, an unknown kind, an unknown integration.
        assert_eq!(post(&url, &auth, b"{").await.unwrap(), 400);
        let bogus = url.replace("/message", "/bogus");
        assert_eq!(post(&bogus, &auth, b"{}").await.unwrap(), 404);
        let elsewhere = url.replace(id.as_str(), "no-such-integration");
        assert_eq!(
            post(&elsewhere, &auth, &message("u1", "x", "m-9"))
                .await
                .unwrap(),
            404
        );
        assert_eq!(sim.received("message").len(), 3);
    }

    #[tokio::test]
    async fn a_structured_response_is_validated_recorded_and_answered_once() {
        let (sim, id) = start().await;
        let auth = bearer(&sim).await;
        let url = format!(
            "{}/api/v2/conversations/messages/{id}/inbound/open/structured/response",
            sim.base_url()
        );
        let mut body = serde_json::json!({
            "channel": {"from": {"id": "u1", "idType": "Opaque"}, "time": "2026-11-25T09:14:03.512Z", "messageId": "m-1"},
            "buttonResponse": {"type": "Button", "text": "Yes", "payload": "yes"},
            "originatingMessageId": "a-1"
        });
        let (status, answer) = request("POST", &url, &auth, body.to_string().as_bytes())
            .await
            .unwrap();
        assert_eq!(status, 200);
        let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap();
        assert_eq!(answer["type"], "Structured");
        assert_eq!(answer["content"][0]["contentType"], "ButtonResponse");
        assert_eq!(
            post(&url, &auth, body.to_string().as_bytes())
                .await
                .unwrap(),
            409
        );
        body["channel"]["messageId"] = "m-2".into();
        body["buttonResponse"]["type"] = "Link".into();
        assert_eq!(
            post(&url, &auth, body.to_string().as_bytes())
                .await
                .unwrap(),
            400
        );
        let got = sim.received("structured-response");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].body["buttonResponse"]["text"], "Yes");
        assert_eq!(
            got[0].conversation_id,
            sim.conversation_of("u1").map(|c| c.id)
        );
        assert_eq!(sim.requests("structured-response"), 3);
        // Only the structured route takes it: not `.../inbound/open/structured-response`.
        let other = url.replace("structured/response", "structured-response");
        assert_eq!(post(&other, &auth, b"{}").await.unwrap(), 404);
    }
}
