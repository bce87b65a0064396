//! A local Genesys Cloud simulator on 127.0.0.1: OAuth, the open-messaging integrations
//! list, the inbound Open Messaging API, conversations, users, and an agent that sends
//! signed outbound webhooks. It validates as Genesys does, so a green test means something.

use crate::bindings::types::Webhook;
use base64::Engine as _;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Longest inbound `text` the simulator accepts.
pub const MAX_TEXT_CHARS: usize = 5000;
/// Longest custom attribute value (Architect's participant data limit).
pub const MAX_ATTRIBUTE_VALUE: usize = 256;
/// Largest `customAttributes` object as JSON.
pub const MAX_ATTRIBUTES_BYTES: usize = 2048;

/// An open-messaging integration ("deployment").
#[derive(Clone, Debug)]
pub struct Integration {
    pub id: String,
    pub name: String,
    pub webhook_url: String,
    pub secret: String,
}

/// A conversation participant.
#[derive(Clone, Debug)]
pub struct Participant {
    pub id: String,
    pub purpose: String,
    pub state: String,
    pub user_id: Option<String>,
}

/// One Open Messaging conversation.
#[derive(Clone, Debug)]
pub struct Conversation {
    pub id: String,
    pub integration_id: String,
    pub user_id: String,
    pub participants: Vec<Participant>,
    /// Participant data of the customer (from the first message's custom attributes).
    pub attributes: BTreeMap<String, String>,
    pub ended: bool,
}

/// An accepted inbound request.
#[derive(Clone, Debug)]
pub struct Received {
    /// `message`, `event` or `receipt`.
    pub kind: String,
    pub integration_id: String,
    pub conversation_id: Option<String>,
    pub body: Value,
}

/// Fault injection: `rate` of all requests fail, spread over the kinds by weight.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Share of requests that get a fault, 0.0 to 1.0.
    pub rate: f64,
    /// Weights of: 500, 429 with `Retry-After`, dropped connection before processing,
    /// dropped connection after processing, slow answer.
    pub weights: [u32; 5],
    /// `Retry-After` seconds sent with 429.
    pub retry_after_secs: u64,
    /// How long a slow answer takes.
    pub slow_ms: u64,
}

/// What fault a request got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    ServerError,
    TooManyRequests,
    DropBefore,
    DropAfter,
    Slow,
}

/// Everything the simulator knows and records.
#[derive(Default)]
pub struct SimState {
    pub faults: Faults,
    pub fault_seed: u64,
    /// Faults injected so far, by kind.
    pub injected: HashMap<String, usize>,
    /// Requests to the inbound endpoints, faulted ones included.
    pub inbound_attempts: usize,
    /// Inbound message ids already accepted, per integration (a re-send gets 409).
    pub message_ids: std::collections::HashSet<(String, String)>,
    pub clients: HashMap<String, String>,
    pub token_lifetime_secs: u64,
    pub tokens: HashMap<String, Instant>,
    /// Every access token ever issued (for leak checks).
    pub issued: Vec<String>,
    pub token_requests: usize,
    pub integrations: Vec<Integration>,
    pub conversations: HashMap<String, Conversation>,
    pub received: Vec<Received>,
    pub users: HashMap<String, Value>,
    /// Every request as `METHOD path status`.
    pub log: Vec<String>,
    /// Hosts seen in the `Host` header, to check login vs api routing.
    pub hosts: Vec<String>,
    pub disconnects: Vec<(String, String)>,
}

/// A running simulator.
#[derive(Clone)]
pub struct Simulator {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<SimState>>,
    counter: Arc<AtomicU64>,
}

fn uuid(n: u64, salt: u64) -> String {
    let a = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt;
    let b = salt.rotate_left(17) ^ n;
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (a >> 32) as u32,
        (a >> 16) as u16,
        (a & 0xfff) as u16,
        (b >> 52) as u16 & 0xfff,
        b & 0xffff_ffff_ffff
    )
}

fn now_iso() -> String {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64;
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        ms % 1000
    )
}

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

/// An ErrorBody as Genesys returns it.
pub fn error_body(status: u16, code: &str, message: &str) -> Value {
    json!({
        "message": message, "code": code, "status": status,
        "contextId": "00000000-0000-4000-8000-000000000000", "details": [], "errors": []
    })
}

type Answer = (StatusCode, Value);

fn bad(code: &str, message: impl Into<String>) -> Answer {
    (
        StatusCode::BAD_REQUEST,
        error_body(400, code, &message.into()),
    )
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

/// What the simulated agent sends.
pub enum AgentSends {
    Text(String),
    Typing,
    Attachment {
        url: String,
        mime: String,
        filename: String,
    },
    QuickReplies {
        text: String,
        replies: Vec<(String, String)>,
    },
    BotText(String),
    Receipt,
}

impl Simulator {
    /// Start on 127.0.0.1 with a random port; `client_id`/`secret` is the one OAuth client.
    pub async fn start(client_id: &str, client_secret: &str) -> anyhow::Result<Self> {
        Self::start_on(0, client_id, client_secret).await
    }

    /// Start on 127.0.0.1:`port` (0 picks a free port).
    pub async fn start_on(port: u16, client_id: &str, client_secret: &str) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let state = SimState {
            clients: HashMap::from([(client_id.to_string(), client_secret.to_string())]),
            token_lifetime_secs: 86_399,
            ..SimState::default()
        };
        let sim = Simulator {
            addr,
            state: Arc::new(Mutex::new(state)),
            counter: Arc::new(AtomicU64::new(1)),
        };
        let server = sim.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let s = server.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let s = s.clone();
                        async move { s.handle_with_faults(req).await }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Ok(sim)
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn next_id(&self) -> String {
        uuid(
            self.counter.fetch_add(1, Ordering::Relaxed),
            self.addr.port() as u64 * 7919,
        )
    }

    fn hex_id(&self) -> String {
        self.next_id().replace('-', "")
    }

    /// Add an integration; returns its id.
    pub fn add_integration(&self, name: &str, webhook_url: &str, secret: &str) -> String {
        let id = self.next_id();
        self.state.lock().unwrap().integrations.push(Integration {
            id: id.clone(),
            name: name.into(),
            webhook_url: webhook_url.into(),
            secret: secret.into(),
        });
        id
    }

    /// Point an integration's outbound webhook somewhere else (e.g. the harness's listener).
    pub fn set_webhook_url(&self, integration_id: &str, url: &str) {
        let mut st = self.state.lock().unwrap();
        if let Some(i) = st.integrations.iter_mut().find(|i| i.id == integration_id) {
            i.webhook_url = url.into();
        }
    }

    /// Add a Genesys user (an agent) for `GET /api/v2/users/{id}`.
    pub fn add_agent(&self, name: &str, avatar: Option<&str>) -> String {
        let id = self.next_id();
        let mut user = json!({ "id": id, "name": name, "state": "active" });
        if let Some(a) = avatar {
            user["images"] = json!([{ "resolution": "x96", "imageUri": a }]);
        }
        self.state.lock().unwrap().users.insert(id.clone(), user);
        id
    }

    /// Invalidate every token, as if they all expired.
    pub fn expire_tokens(&self) {
        self.state.lock().unwrap().tokens.clear();
    }

    /// Accepted inbound requests of one kind.
    pub fn received(&self, kind: &str) -> Vec<Received> {
        self.state
            .lock()
            .unwrap()
            .received
            .iter()
            .filter(|r| r.kind == kind)
            .cloned()
            .collect()
    }

    /// The active or ended conversation of a user.
    pub fn conversation_of(&self, user_id: &str) -> Option<Conversation> {
        let st = self.state.lock().unwrap();
        st.conversations
            .values()
            .find(|c| c.user_id == user_id)
            .cloned()
    }

    /// The simulated agent accepts the conversation: adds an agent participant.
    pub fn agent_joins(&self, conversation_id: &str, agent_user_id: &str) {
        let pid = self.next_id();
        let mut st = self.state.lock().unwrap();
        if let Some(c) = st.conversations.get_mut(conversation_id) {
            c.participants.push(Participant {
                id: pid,
                purpose: "agent".into(),
                state: "connected".into(),
                user_id: Some(agent_user_id.into()),
            });
        }
    }

    /// A signed outbound webhook for a conversation, exactly as Genesys would POST it.
    pub fn webhook(&self, conversation_id: &str, sends: AgentSends) -> anyhow::Result<Webhook> {
        let (integ, user) = {
            let st = self.state.lock().unwrap();
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
        match sends {
            AgentSends::Text(t) => {
                body["type"] = json!("Text");
                body["text"] = json!(t);
                body["originatingEntity"] = json!("Human");
            }
            AgentSends::BotText(t) => {
                body["type"] = json!("Text");
                body["text"] = json!(t);
                body["originatingEntity"] = json!("Bot");
            }
            AgentSends::Typing => {
                body["type"] = json!("Event");
                body["events"] = json!([{ "eventType": "Typing", "typing": { "type": "On", "duration": 5000 } }]);
            }
            AgentSends::Attachment {
                url,
                mime,
                filename,
            } => {
                body["type"] = json!("Text");
                body["originatingEntity"] = json!("Human");
                body["content"] = json!([{ "contentType": "Attachment", "attachment": {
                    "id": self.next_id(), "mediaType": if mime.starts_with("image/") { "Image" } else { "File" },
                    "url": url, "mime": mime, "filename": filename, "contentSizeBytes": 2444 } }]);
            }
            AgentSends::QuickReplies { text, replies } => {
                body["type"] = json!("Structured");
                body["text"] = json!(text);
                body["originatingEntity"] = json!("Human");
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
    pub async fn send_webhook(
        &self,
        conversation_id: &str,
        sends: AgentSends,
    ) -> anyhow::Result<u16> {
        let Webhook { headers, body } = self.webhook(conversation_id, sends)?;
        let url = {
            let st = self.state.lock().unwrap();
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

    /// An Amazon EventBridge envelope for a conversation event, as Genesys's EventBridge
    /// integration delivers it (`topic` is e.g. `customer.end`, `user.end`, `acw`, `user.start`).
    pub fn eventbridge(
        &self,
        conversation_id: &str,
        topic: &str,
        disconnect_type: Option<&str>,
        agent_user_id: Option<&str>,
    ) -> Value {
        let user = self
            .conversation_of_id(conversation_id)
            .map(|c| c.user_id)
            .unwrap_or_default();
        let mut body = json!({
            "eventTime": SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as u64,
            "conversationId": conversation_id,
            "participantId": self.next_id(),
            "sessionId": self.next_id(),
            "mediaType": "MESSAGE",
            "messageType": "OPEN",
            "provider": "PureCloud Messaging",
            "direction": "INBOUND",
            "addressFrom": user,
        });
        if let Some(d) = disconnect_type {
            body["disconnectType"] = json!(d);
        }
        if let Some(u) = agent_user_id {
            body["userId"] = json!(u);
        }
        if topic == "user.end" && disconnect_type.is_some_and(|d| d != "TRANSFER") {
            body["interactingDurationMs"] = json!(60_000);
        }
        json!({
            "version": "0",
            "id": self.next_id(),
            "detail-type": format!("v2.detail.events.conversation.{{id}}.{topic}"),
            "source": "aws.partner/genesys.com/cloud/32aa07aa-db1b-4987-abd0-9483601ec29d/handover",
            "account": "123456789012",
            "time": now_iso(),
            "region": "us-east-1",
            "resources": [],
            "detail": {
                "topicName": format!("v2.detail.events.conversation.{conversation_id}.{topic}"),
                "version": "2",
                "eventBody": body,
                "metadata": { "CorrelationId": self.next_id() },
                "timestamp": now_iso()
            }
        })
    }

    fn conversation_of_id(&self, id: &str) -> Option<Conversation> {
        self.state.lock().unwrap().conversations.get(id).cloned()
    }

    /// Configure fault injection (deterministic for a given seed).
    pub fn set_faults(&self, faults: Faults, seed: u64) {
        let mut st = self.state.lock().unwrap();
        st.faults = faults;
        st.fault_seed = seed.max(1);
    }

    fn pick_fault(&self) -> Option<Fault> {
        let mut st = self.state.lock().unwrap();
        if st.faults.rate <= 0.0 {
            return None;
        }
        let mut next = || {
            st.fault_seed ^= st.fault_seed << 13;
            st.fault_seed ^= st.fault_seed >> 7;
            st.fault_seed ^= st.fault_seed << 17;
            st.fault_seed
        };
        let roll = (next() % 1_000_000) as f64 / 1_000_000.0;
        let pick = next();
        if roll >= st.faults.rate {
            return None;
        }
        let total: u32 = st.faults.weights.iter().sum();
        if total == 0 {
            return None;
        }
        let mut r = (pick % u64::from(total)) as u32;
        let kinds = [
            Fault::ServerError,
            Fault::TooManyRequests,
            Fault::DropBefore,
            Fault::DropAfter,
            Fault::Slow,
        ];
        for (k, w) in kinds.iter().zip(st.faults.weights) {
            if r < w {
                *st.injected.entry(format!("{k:?}")).or_default() += 1;
                return Some(*k);
            }
            r -= w;
        }
        None
    }

    /// Total faults injected so far.
    pub fn faults_injected(&self) -> usize {
        self.state.lock().unwrap().injected.values().sum()
    }

    async fn handle_with_faults(
        &self,
        req: Request<Incoming>,
    ) -> Result<Response<Full<Bytes>>, std::io::Error> {
        let dropped =
            || std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "fault: dropped");
        if req.uri().path().contains("/inbound/open/") {
            self.state.lock().unwrap().inbound_attempts += 1;
        }
        match self.pick_fault() {
            None => Ok(self.handle(req).await),
            Some(Fault::ServerError) => {
                self.state.lock().unwrap().log.push(format!(
                    "{} {} 500 (fault)",
                    req.method(),
                    req.uri().path()
                ));
                Ok(json_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &error_body(
                        500,
                        "internal.server.error",
                        "The server encountered an unexpected condition.",
                    ),
                    &[],
                ))
            }
            Some(Fault::TooManyRequests) => {
                let secs = self.state.lock().unwrap().faults.retry_after_secs;
                self.state.lock().unwrap().log.push(format!(
                    "{} {} 429 (fault)",
                    req.method(),
                    req.uri().path()
                ));
                let body = json!({"message": format!("Rate limit exceeded the maximum. Retry the request in [{secs}] seconds"),
                    "code": "too.many.requests.retry.after", "status": 429,
                    "contextId": "00000000-0000-4000-8000-000000000000", "details": [], "errors": []});
                Ok(json_response(
                    StatusCode::TOO_MANY_REQUESTS,
                    &body,
                    &[("retry-after", secs.to_string())],
                ))
            }
            Some(Fault::DropBefore) => Err(dropped()),
            Some(Fault::DropAfter) => {
                let _ = self.handle(req).await;
                Err(dropped())
            }
            Some(Fault::Slow) => {
                let ms = self.state.lock().unwrap().faults.slow_ms;
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok(self.handle(req).await)
            }
        }
    }

    async fn handle(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let method = req.method().as_str().to_string();
        let path = req.uri().path().to_string();
        let query = req.uri().query().unwrap_or("").to_string();
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        let (host, auth, ctype) = (
            header("host"),
            header("authorization"),
            header("content-type"),
        );
        let body = req
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let (status, value) = self.route(&method, &path, &query, &host, &auth, &ctype, &body);
        {
            let mut st = self.state.lock().unwrap();
            st.log.push(format!("{method} {path} {}", status.as_u16()));
            st.hosts.push(host);
        }
        let bytes = if value.is_null() {
            Bytes::new()
        } else {
            Bytes::from(value.to_string())
        };
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .header(
                "inin-correlation-id",
                "00000000-0000-4000-8000-000000000000",
            )
            .body(Full::new(bytes))
            .unwrap()
    }

    #[allow(clippy::too_many_arguments)]
    fn route(
        &self,
        method: &str,
        path: &str,
        query: &str,
        host: &str,
        auth: &str,
        ctype: &str,
        body: &[u8],
    ) -> Answer {
        let not_found = (
            StatusCode::NOT_FOUND,
            error_body(404, "not.found", "The requested resource was not found."),
        );
        // A loopback Host means a client pointed straight at the simulator (the
        // `loopback-genesys` test build); otherwise OAuth and API hosts must be right.
        let direct = ["127.0.0.1", "localhost", "[::1]"]
            .iter()
            .any(|h| host.starts_with(h));
        if method == "GET" && path == "/_sim/received" {
            let st = self.state.lock().unwrap();
            let v: Vec<Value> = st
                .received
                .iter()
                .map(|r| json!({"kind": r.kind, "integration": r.integration_id, "body": r.body}))
                .collect();
            return (StatusCode::OK, Value::Array(v));
        }
        if path == "/oauth/token" {
            if !host.starts_with("login.") && !direct {
                return not_found;
            }
            return self.token(method, auth, ctype, body);
        }
        if !path.starts_with("/api/v2/") {
            return not_found;
        }
        if !host.starts_with("api.") && !direct {
            return not_found;
        }
        if let Err(e) = self.check_bearer(auth) {
            return e;
        }
        let parts: Vec<&str> = path.trim_start_matches("/api/v2/").split('/').collect();
        let json_body = || -> Result<Value, Answer> {
            serde_json::from_slice::<Value>(body).map_err(|_| {
                bad(
                    "bad.request",
                    "The request could not be understood by the server due to malformed syntax.",
                )
            })
        };
        match (method, parts.as_slice()) {
            ("GET", ["conversations", "messaging", "integrations", "open"]) => {
                self.list_integrations(query)
            }
            ("POST", ["conversations", "messages", integration, "inbound", "open", kind]) => {
                let v = match json_body() {
                    Ok(v) => v,
                    Err(e) => return e,
                };
                self.inbound(integration, kind, query, v)
            }
            ("GET", ["conversations", "messages", conv]) => {
                let st = self.state.lock().unwrap();
                match st.conversations.get(*conv) {
                    Some(c) => (
                        StatusCode::OK,
                        json!({
                            "id": c.id,
                            "participants": c.participants.iter().map(|p| json!({
                                "id": p.id, "purpose": p.purpose, "state": p.state, "userId": p.user_id,
                                "attributes": if p.purpose == "customer" { json!(c.attributes) } else { json!({}) }
                            })).collect::<Vec<_>>()
                        }),
                    ),
                    None => not_found,
                }
            }
            ("PATCH", ["conversations", "messages", conv, "participants", pid]) => {
                let v = match json_body() {
                    Ok(v) => v,
                    Err(e) => return e,
                };
                let state = v.get("state").and_then(Value::as_str).unwrap_or("");
                const STATES: [&str; 12] = [
                    "alerting",
                    "dialing",
                    "contacting",
                    "offering",
                    "connected",
                    "disconnected",
                    "terminated",
                    "converting",
                    "uploading",
                    "transmitting",
                    "parked",
                    "none",
                ];
                if !STATES.contains(&state) {
                    return bad(
                        "invalid.value",
                        format!("Value [{state}] is not valid for field type [state]"),
                    );
                }
                let mut st = self.state.lock().unwrap();
                let Some(c) = st.conversations.get_mut(*conv) else {
                    return not_found;
                };
                let Some(p) = c.participants.iter_mut().find(|p| p.id == *pid) else {
                    return not_found;
                };
                p.state = state.to_string();
                if state == "disconnected" {
                    let purpose = p.purpose.clone();
                    if purpose == "customer" {
                        c.ended = true;
                        for p in c.participants.iter_mut() {
                            p.state = "disconnected".into();
                        }
                    }
                    st.disconnects.push((conv.to_string(), pid.to_string()));
                }
                (StatusCode::ACCEPTED, Value::Null)
            }
            ("GET", ["users", id]) => {
                let st = self.state.lock().unwrap();
                match st.users.get(*id) {
                    Some(u) => (StatusCode::OK, u.clone()),
                    None => not_found,
                }
            }
            _ => not_found,
        }
    }

    fn token(&self, method: &str, auth: &str, ctype: &str, body: &[u8]) -> Answer {
        let invalid = (
            StatusCode::UNAUTHORIZED,
            json!({"error": "invalid_client", "description": "authentication failed", "error_description": "authentication failed"}),
        );
        if method != "POST" {
            return (
                StatusCode::METHOD_NOT_ALLOWED,
                error_body(405, "method.not.allowed", "Method not allowed"),
            );
        }
        if !ctype.starts_with("application/x-www-form-urlencoded") {
            return (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                error_body(415, "unsupported.media.type", "Unsupported media type"),
            );
        }
        if body != b"grant_type=client_credentials" {
            return (
                StatusCode::BAD_REQUEST,
                json!({"error": "unsupported_grant_type", "description": "grant_type must be client_credentials"}),
            );
        }
        let Some(basic) = auth.strip_prefix("Basic ") else {
            return invalid;
        };
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(basic.trim()) else {
            return invalid;
        };
        let decoded = String::from_utf8_lossy(&decoded).to_string();
        let Some((id, secret)) = decoded.split_once(':') else {
            return invalid;
        };
        let mut st = self.state.lock().unwrap();
        if st.clients.get(id).map(String::as_str) != Some(secret) {
            return invalid;
        }
        st.token_requests += 1;
        let token = format!("tok-{}", self.hex_id());
        let lifetime = st.token_lifetime_secs;
        st.tokens.insert(
            token.clone(),
            Instant::now() + Duration::from_secs(lifetime),
        );
        st.issued.push(token.clone());
        (
            StatusCode::OK,
            json!({ "access_token": token, "token_type": "bearer", "expires_in": lifetime }),
        )
    }

    fn check_bearer(&self, auth: &str) -> Result<(), Answer> {
        let Some(token) = auth.strip_prefix("Bearer ") else {
            return Err((
                StatusCode::UNAUTHORIZED,
                error_body(
                    401,
                    "authentication.required",
                    "No authentication bearer token specified in authorization header.",
                ),
            ));
        };
        let st = self.state.lock().unwrap();
        match st.tokens.get(token) {
            Some(exp) if *exp > Instant::now() => Ok(()),
            _ => Err((
                StatusCode::UNAUTHORIZED,
                error_body(401, "bad.credentials", "Invalid login credentials."),
            )),
        }
    }

    fn list_integrations(&self, query: &str) -> Answer {
        let mut page_size = 25usize;
        let mut page_number = 1usize;
        for (k, v) in query.split('&').filter_map(|p| p.split_once('=')) {
            let n = v.parse::<usize>();
            match (k, n) {
                ("pageSize", Ok(n)) if (1..=100).contains(&n) => page_size = n,
                ("pageNumber", Ok(n)) if n >= 1 => page_number = n,
                ("pageSize" | "pageNumber", _) => {
                    return bad(
                        "invalid.value",
                        format!("Value [{v}] is not valid for field type [{k}]"),
                    )
                }
                _ => {}
            }
        }
        let st = self.state.lock().unwrap();
        let total = st.integrations.len();
        let page_count = total.div_ceil(page_size).max(1);
        let entities: Vec<Value> = st
            .integrations
            .iter()
            .skip((page_number - 1) * page_size)
            .take(page_size)
            .map(|i| {
                json!({
                    "id": i.id, "name": i.name,
                    "outboundNotificationWebhookUrl": i.webhook_url,
                    "outboundNotificationWebhookSignatureSecretToken": "********",
                    "status": "Active", "createStatus": "Completed",
                    "selfUri": format!("/api/v2/conversations/messaging/integrations/open/{}", i.id)
                })
            })
            .collect();
        let uri = |n: usize| {
            format!("/api/v2/conversations/messaging/integrations/open?pageSize={page_size}&pageNumber={n}")
        };
        let mut v = json!({
            "entities": entities, "pageSize": page_size, "pageNumber": page_number, "total": total,
            "pageCount": page_count, "firstUri": uri(1), "lastUri": uri(page_count), "selfUri": uri(page_number)
        });
        if page_number < page_count {
            v["nextUri"] = json!(uri(page_number + 1));
        }
        if page_number > 1 {
            v["previousUri"] = json!(uri(page_number - 1));
        }
        (StatusCode::OK, v)
    }

    fn inbound(&self, integration_id: &str, kind: &str, query: &str, body: Value) -> Answer {
        let integ = {
            let st = self.state.lock().unwrap();
            st.integrations
                .iter()
                .find(|i| i.id == integration_id)
                .cloned()
        };
        let Some(integ) = integ else {
            return (
                StatusCode::NOT_FOUND,
                error_body(404, "not.found", "The requested resource was not found."),
            );
        };
        let result = match kind {
            "message" => validate_message(&body).map(Some),
            "event" => validate_event(&body).map(|_| None),
            "receipt" => validate_receipt(&body).map(|_| None),
            _ => {
                return (
                    StatusCode::NOT_FOUND,
                    error_body(404, "not.found", "The requested resource was not found."),
                )
            }
        };
        let attrs = match result {
            Ok(a) => a,
            Err(e) => return e,
        };
        if kind == "message" {
            if let Some(mid) = body.pointer("/channel/messageId").and_then(Value::as_str) {
                let key = (integ.id.clone(), mid.to_string());
                let mut st = self.state.lock().unwrap();
                if !st.message_ids.insert(key) {
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
        let conversation_id = if kind == "message" {
            Some(self.join_or_create(&integ, &user_id, attrs.unwrap_or_default()))
        } else {
            let st = self.state.lock().unwrap();
            st.conversations
                .values()
                .find(|c| !c.ended && c.integration_id == integ.id && c.user_id == user_id)
                .map(|c| c.id.clone())
        };
        let message_id = self.hex_id();
        let mut st = self.state.lock().unwrap();
        st.received.push(Received {
            kind: kind.to_string(),
            integration_id: integ.id.clone(),
            conversation_id: conversation_id.clone(),
            body: body.clone(),
        });
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
            _ => {
                json!({ "id": body["id"].clone(), "channel": channel, "type": "Receipt", "status": body["status"].clone(), "direction": "Outbound" })
            }
        };
        if kind == "message" && query.split('&').any(|p| p == "prefetchConversationId=true") {
            resp["conversationId"] = json!(conversation_id);
        }
        (StatusCode::OK, resp)
    }

    fn join_or_create(
        &self,
        integ: &Integration,
        user_id: &str,
        attrs: BTreeMap<String, String>,
    ) -> String {
        let new_id = self.next_id();
        let customer = self.next_id();
        let mut st = self.state.lock().unwrap();
        if let Some(c) = st
            .conversations
            .values()
            .find(|c| !c.ended && c.integration_id == integ.id && c.user_id == user_id)
        {
            return c.id.clone();
        }
        st.conversations.insert(
            new_id.clone(),
            Conversation {
                id: new_id.clone(),
                integration_id: integ.id.clone(),
                user_id: user_id.to_string(),
                participants: vec![Participant {
                    id: customer,
                    purpose: "customer".into(),
                    state: "connected".into(),
                    user_id: None,
                }],
                attributes: attrs,
                ended: false,
            },
        );
        new_id
    }
}

fn json_response(
    status: StatusCode,
    value: &Value,
    headers: &[(&str, String)],
) -> Response<Full<Bytes>> {
    let bytes = if value.is_null() {
        Bytes::new()
    } else {
        Bytes::from(value.to_string())
    };
    let mut r = Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header(
            "inin-correlation-id",
            "00000000-0000-4000-8000-000000000000",
        );
    for (k, v) in headers {
        r = r.header(*k, v);
    }
    r.body(Full::new(bytes)).unwrap()
}

/// `sha256=` + base64(HMAC-SHA256(secret, body)), the `X-Hub-Signature-256` value.
/// Written here again on purpose: the simulator is the test oracle and does not borrow
/// the component's code.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    format!(
        "sha256={}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

/// POST `body` to a loopback `http://` URL; returns the status.
pub async fn post(url: &str, headers: &[(String, String)], body: &[u8]) -> anyhow::Result<u16> {
    Ok(request("POST", url, headers, body).await?.0)
}

/// One HTTP/1.1 request to a loopback `http://` URL; returns status and body.
pub async fn request(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> anyhow::Result<(u16, Vec<u8>)> {
    let uri: http::Uri = url.parse()?;
    let host = uri.host().unwrap_or("");
    anyhow::ensure!(
        host == "127.0.0.1" || host == "localhost" || host == "[::1]",
        "refusing non-loopback target {host}"
    );
    let port = uri.port_u16().unwrap_or(80);
    let stream = tokio::net::TcpStream::connect((host.trim_matches(['[', ']']), port)).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let mut req = Request::builder()
        .method(method)
        .uri(uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"))
        .header("host", format!("{host}:{port}"));
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let resp = sender
        .send_request(req.body(Full::new(Bytes::copy_from_slice(body)))?)
        .await?;
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await?.to_bytes().to_vec();
    Ok((status, body))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
