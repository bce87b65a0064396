//! The agent's side: outbound webhooks as Genesys POSTs them (compact JSON, signed with the
//! integration's secret), and their delivery with Genesys's retry policy: 10 s deadline, up to
//! 5 retries 5 s apart on timeouts, 429 and 5xx, the same body each time.

use crate::client::post;
use crate::sign::sign;
use crate::time::now_iso;
use crate::Simulator;
use serde_json::{json, Value};
use std::time::Duration;

/// What the simulated agent sends.
#[derive(Clone, Debug)]
pub enum AgentSends {
    /// A text from a human agent.
    Text(String),
    /// A typing indicator (`typing.duration` 5000).
    Typing,
    /// An attachment (`Image` for `image/*`, else `File`).
    Attachment {
        /// Where the file is.
        url: String,
        /// Its MIME type.
        mime: String,
        /// Its file name.
        filename: String,
    },
    /// A structured message with quick replies.
    QuickReplies {
        /// The question.
        text: String,
        /// `(text, payload)` of each reply.
        replies: Vec<(String, String)>,
    },
    /// A text from a Genesys bot (`originatingEntity: Bot`).
    BotText(String),
    /// Quick replies from a Genesys bot or in-queue flow, e.g. a callback offer
    /// (`Structured`, `originatingEntity: Bot`).
    BotQuickReplies {
        /// The question.
        text: String,
        /// `(text, payload)` of each reply.
        replies: Vec<(String, String)>,
    },
    /// A file from a Genesys bot or flow (`originatingEntity: Bot`).
    BotAttachment {
        /// Where the file is.
        url: String,
        /// Its MIME type.
        mime: String,
        /// Its file name.
        filename: String,
    },
    /// A delivery receipt for the customer's message.
    Receipt,
    /// Genesys could not take the customer's message `message_id` (e.g. a file its
    /// content profile refuses): a final `Failed` receipt with one reason.
    FailedReceipt {
        /// The inbound message's id.
        message_id: String,
        /// Genesys's reason code, e.g. `MediaTypeNotAllowed`.
        code: String,
        /// The reason's text.
        message: String,
    },
}

/// An outbound webhook request: its headers and raw body, exactly as Genesys POSTs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Webhook {
    /// `Content-Type` and `X-Hub-Signature-256`.
    pub headers: Vec<(String, String)>,
    /// Compact JSON.
    pub body: Vec<u8>,
}

impl Simulator {
    /// A signed outbound webhook for a conversation, exactly as Genesys would POST it.
    pub fn webhook(&self, conversation_id: &str, sends: AgentSends) -> anyhow::Result<Webhook> {
        let (integ, user) = {
            let st = self.lock();
            let c = st
                .conversations
                .get(conversation_id)
                .ok_or_else(|| anyhow::anyhow!("no conversation {conversation_id}"))?;
            let i = st
                .integrations
                .iter()
                .find(|i| i.id == c.integration_id)
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("no integration"))?;
            (i, c.user_id.clone())
        };
        let id = self.hex_id();
        let mut body = json!({
            "id": id,
            "channel": {
                "id": integ.id, "platform": "Open", "type": "Private",
                "to": { "id": user, "idType": "Opaque" },
                "from": { "nickname": integ.name, "id": integ.id, "idType": "Opaque" },
                "metadata": { "subType": "None" },
                "time": now_iso(), "messageId": id
            },
            "direction": "Outbound",
            "conversationId": conversation_id,
        });
        // A bot sends what an agent can, marked as the bot's.
        let entity = match sends {
            AgentSends::BotText(_)
            | AgentSends::BotQuickReplies { .. }
            | AgentSends::BotAttachment { .. } => "Bot",
            _ => "Human",
        };
        match sends {
            AgentSends::Text(t) | AgentSends::BotText(t) => {
                body["type"] = json!("Text");
                body["text"] = json!(t);
                body["originatingEntity"] = json!(entity);
            }
            AgentSends::Typing => {
                body["type"] = json!("Event");
                body["events"] = json!([{ "eventType": "Typing", "typing": { "type": "On", "duration": 5000 } }]);
            }
            AgentSends::Attachment {
                url,
                mime,
                filename,
            }
            | AgentSends::BotAttachment {
                url,
                mime,
                filename,
            } => {
                body["type"] = json!("Text");
                body["originatingEntity"] = json!(entity);
                body["content"] = json!([{ "contentType": "Attachment", "attachment": {
                    "id": self.next_id(), "mediaType": if mime.starts_with("image/") { "Image" } else { "File" },
                    "url": url, "mime": mime, "filename": filename, "contentSizeBytes": 2444 } }]);
            }
            AgentSends::QuickReplies { text, replies }
            | AgentSends::BotQuickReplies { text, replies } => {
                body["type"] = json!("Structured");
                body["text"] = json!(text);
                body["originatingEntity"] = json!(entity);
                body["content"] = Value::Array(
                    replies
                        .into_iter()
                        .map(|(t, p)| json!({ "contentType": "QuickReply", "quickReply": { "text": t, "payload": p, "action": "Message" } }))
                        .collect(),
                );
            }
            AgentSends::Receipt => {
                body["type"] = json!("Receipt");
                body["status"] = json!("Delivered");
                body["isFinalReceipt"] = json!(true);
                body["direction"] = json!("Inbound");
            }
            AgentSends::FailedReceipt {
                message_id,
                code,
                message,
            } => {
                body["id"] = json!(message_id);
                body["type"] = json!("Receipt");
                body["status"] = json!("Failed");
                body["reasons"] = json!([{ "code": code, "message": message }]);
                body["isFinalReceipt"] = json!(true);
                body["direction"] = json!("Inbound");
            }
        }
        let bytes = serde_json::to_vec(&body)?;
        let headers = vec![
            ("Content-Type".to_string(), "application/json".to_string()),
            (
                "X-Hub-Signature-256".to_string(),
                sign(&integ.secret, &bytes),
            ),
        ];
        Ok(Webhook {
            headers,
            body: bytes,
        })
    }

    /// Send a signed webhook to the conversation's integration webhook URL, as Genesys does
    /// (10 s deadline, up to 5 retries 5 s apart on timeouts, 429 and 5xx, same body).
    /// Returns the last status, 0 if no attempt got an answer.
    pub async fn send_webhook(
        &self,
        conversation_id: &str,
        sends: AgentSends,
    ) -> anyhow::Result<u16> {
        let Webhook { headers, body } = self.webhook(conversation_id, sends)?;
        let url = {
            let st = self.lock();
            let c = st
                .conversations
                .get(conversation_id)
                .ok_or_else(|| anyhow::anyhow!("no conversation"))?;
            st.integrations
                .iter()
                .find(|i| i.id == c.integration_id)
                .map(|i| i.webhook_url.clone())
                .unwrap_or_default()
        };
        let mut status = 0;
        for attempt in 0..6 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(if cfg!(test) { 10 } else { 5000 })).await;
            }
            match tokio::time::timeout(Duration::from_secs(10), post(&url, &headers, &body)).await {
                Ok(Ok(s)) => {
                    status = s;
                    if s != 429 && s < 500 {
                        return Ok(s);
                    }
                }
                Ok(Err(e)) => eprintln!("simulator: webhook to {url} failed: {e}"),
                Err(_) => eprintln!("simulator: webhook to {url} timed out"),
            }
        }
        Ok(status)
    }
}

#[cfg(test)]
mod tests {
    use super::AgentSends;
    use crate::testkit::{bearer, message, start};
    use crate::{post, sign, Faults, Simulator};

    #[tokio::test]
    async fn webhooks_are_signed_and_retried_like_genesys() {
        let (sim, id) = start().await;
        let auth = bearer(&sim).await;
        let url = format!(
            "{}/api/v2/conversations/messages/{id}/inbound/open/message",
            sim.base_url()
        );
        assert_eq!(
            post(&url, &auth, &message("u1", "hi", "m-1"))
                .await
                .unwrap(),
            200
        );
        let conv = sim.conversation_of("u1").unwrap().id;
        let w = sim
            .webhook(&conv, AgentSends::Text("hello".into()))
            .unwrap();
        let sig = &w
            .headers
            .iter()
            .find(|(k, _)| k == "X-Hub-Signature-256")
            .unwrap()
            .1;
        assert_eq!(*sig, sign("webhook-secret-0123456789", &w.body));
        let body: serde_json::Value = serde_json::from_slice(&w.body).unwrap();
        assert_eq!(
            (body["text"].as_str(), body["channel"]["to"]["id"].as_str()),
            (Some("hello"), Some("u1"))
        );
        // A receiver that always fails with 500: the first try and 5 retries, then give up.
        let receiver = Simulator::start("c", "s").await.unwrap();
        receiver.set_faults(
            Faults {
                rate: 1.0,
                weights: [1, 0, 0, 0, 0],
                ..Faults::default()
            },
            5,
        );
        sim.set_webhook_url(&id, &format!("{}/hook", receiver.base_url()));
        assert_eq!(
            sim.send_webhook(&conv, AgentSends::Typing).await.unwrap(),
            500
        );
        assert_eq!(receiver.requests("other"), 6);
        // A 4xx is final.
        receiver.set_faults(Faults::default(), 1);
        assert_eq!(
            sim.send_webhook(&conv, AgentSends::Receipt).await.unwrap(),
            404
        );
        assert_eq!(receiver.requests("other"), 7);
        let envelope = sim.eventbridge(&conv, "customer.end", Some("CLIENT"), None);
        assert_eq!(envelope["detail"]["eventBody"]["addressFrom"], "u1");
    }
}
