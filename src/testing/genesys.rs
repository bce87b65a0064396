//! The in-process fake Genesys of native tests: token, integrations, inbound endpoints
//! (with Genesys's 409 for a repeated message id and injectable faults), conversations with
//! a customer and a connected agent, participants and users.

use super::fakes::lock;
use super::fixtures::{self, Rng};
use crate::genesys::paths;
use crate::ports::{Http, HttpRequest, HttpResponse};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// The Genesys user id of the agent connected to every fake conversation.
pub const AGENT_USER_ID: &str = "00000000-0000-4000-8000-00000000a9e1";

/// One inbound message, event or receipt the fake Genesys accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    /// `message`, `event` or `receipt`.
    pub kind: String,
    /// `channel.messageId` (receipts: `id`).
    pub message_id: Option<String>,
    /// `channel.from.id` (receipts: `channel.to.id`): the end user.
    pub user_id: String,
    /// `text`, when a text message.
    pub text: Option<String>,
    /// The whole body.
    pub body: Value,
}

/// A fake queue: estimated wait (seconds), agents on queue, of them idle.
pub type Queue = (Option<u32>, u32, u32);

struct Faults {
    percent: u64,
    lose_answers: bool,
    rng: Rng,
}

#[derive(Default)]
struct Genesys {
    accepted: Vec<Inbound>,
    message_ids: HashSet<String>,
    opened: u64,
    conversation_of: HashMap<String, String>,
    disconnected: HashSet<String>,
    faults: Option<Faults>,
}

/// Answers Genesys calls in process: token, integrations, inbound (a repeated message id
/// gets a 409, as Genesys answers; a text starting with [`fixtures::REFUSED_PREFIX`] a
/// 400), conversations, participants, users. A fault switch makes inbound messages and
/// events fail at random.
#[derive(Default)]
pub struct FakeGenesys {
    /// Every request seen, as `METHOD url`.
    pub calls: Mutex<Vec<String>>,
    /// When not 0, the Users API answers with this status (e.g. 403) instead of the agent.
    pub users_status: AtomicU64,
    /// Queues by id: estimated wait (seconds), agents on queue, agents idle. Any other
    /// queue is unknown (404).
    pub queues: Mutex<HashMap<String, Queue>>,
    state: Mutex<Genesys>,
}

/// How the fake answers one inbound call.
enum Fault {
    None,
    /// 503 without taking it.
    Refuse,
    /// No answer, without taking it.
    Drop,
    /// Takes it, but the answer is lost (503).
    LoseAnswer,
}

fn answer(status: u16, body: Value) -> Result<HttpResponse, String> {
    Ok(HttpResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        },
    })
}

fn text(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_string)
}

impl FakeGenesys {
    /// From now on `percent` % of inbound messages and events fail: refused (503) or
    /// dropped before Genesys takes them, or, with `lose_answers`, also taken with the
    /// answer lost. Seeded, so a run replays.
    pub fn set_faults(&self, percent: u64, seed: u64, lose_answers: bool) {
        lock(&self.state).faults = Some(Faults {
            percent,
            lose_answers,
            rng: Rng::new(seed),
        });
    }

    /// No more injected faults.
    pub fn clear_faults(&self) {
        lock(&self.state).faults = None;
    }

    /// What Genesys accepted, in order.
    pub fn accepted(&self) -> Vec<Inbound> {
        lock(&self.state).accepted.clone()
    }

    /// How many conversations were opened (first messages with `prefetchConversationId`).
    pub fn conversations_opened(&self) -> u64 {
        lock(&self.state).opened
    }

    /// Every request seen so far.
    pub fn calls(&self) -> Vec<String> {
        lock(&self.calls).clone()
    }

    fn fault(g: &mut Genesys) -> Fault {
        let Some(f) = g.faults.as_mut() else {
            return Fault::None;
        };
        if f.rng.below(100) >= f.percent {
            return Fault::None;
        }
        match f.rng.below(if f.lose_answers { 3 } else { 2 }) {
            0 => Fault::Refuse,
            1 => Fault::Drop,
            _ => Fault::LoseAnswer,
        }
    }

    fn inbound(&self, kind: &str, prefetch: bool, body: &[u8]) -> Result<HttpResponse, String> {
        let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let mut g = lock(&self.state);
        let fault = match prefetch || kind == "receipt" {
            true => Fault::None,
            false => Self::fault(&mut g),
        };
        match fault {
            Fault::Refuse => return answer(503, json!({"code": "service.unavailable"})),
            Fault::Drop => return Err("connection reset (injected)".into()),
            _ => {}
        }
        if text(&v, "/text").is_some_and(|t| t.starts_with(fixtures::REFUSED_PREFIX)) {
            let e = json!({"status": 400, "code": "bad.request", "message": "refused (test)"});
            return answer(400, e);
        }
        let message_id = match kind {
            "receipt" => text(&v, "/id"),
            _ => text(&v, "/channel/messageId"),
        };
        if let Some(id) = &message_id {
            if kind != "receipt" && !g.message_ids.insert(id.clone()) {
                let e = json!({"status": 409, "code": "conflict", "message": "messageId already exists"});
                return answer(409, e);
            }
        }
        let user_id = text(&v, "/channel/from/id")
            .or_else(|| text(&v, "/channel/to/id"))
            .unwrap_or_default();
        if prefetch {
            g.opened += 1;
            let cid = format!("conversation-{}", g.opened);
            g.conversation_of.insert(user_id.clone(), cid);
        }
        let cid = g.conversation_of.get(&user_id).cloned();
        g.accepted.push(Inbound {
            kind: kind.to_string(),
            message_id,
            user_id,
            text: text(&v, "/text"),
            body: v,
        });
        if let Fault::LoseAnswer = fault {
            return answer(503, json!({"code": "service.unavailable"}));
        }
        let cid = cid.unwrap_or_else(|| "conversation-1".into());
        answer(
            200,
            json!({"id": "m1", "type": "Text", "conversationId": cid}),
        )
    }

    /// Set a queue's figures: estimated wait, agents on queue, of them idle.
    pub fn set_queue(&self, queue_id: &str, wait_secs: Option<u32>, on_queue: u32, idle: u32) {
        lock(&self.queues).insert(queue_id.into(), (wait_secs, on_queue, idle));
    }

    /// `GET .../estimatedwaittime` and the observations query of a queue.
    fn queue(&self, path: &str, body: &[u8]) -> Result<HttpResponse, String> {
        let query: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let id = match path.strip_suffix(paths::ESTIMATED_WAIT) {
            Some(p) => p.trim_start_matches(paths::QUEUES).to_string(),
            None => text(&query, "/filter/predicates/0/value").unwrap_or_default(),
        };
        let known = lock(&self.queues).get(&id).copied();
        if path.ends_with(paths::ESTIMATED_WAIT) {
            let Some((wait, _, _)) = known else {
                let e = json!({"status": 404, "code": "not.found", "message": "no such queue"});
                return answer(404, e);
            };
            let results: Vec<Value> = wait
                .map(|w| json!({"intent": "ALL", "formula": "BEST", "estimatedWaitTimeSeconds": w}))
                .into_iter()
                .collect();
            return answer(200, json!({ "results": results }));
        }
        let (_, on_queue, idle) = known.unwrap_or_default();
        let data = json!([
            {"metric": "oOnQueueUsers", "qualifier": "IDLE", "stats": {"count": idle}},
            {"metric": "oOnQueueUsers", "qualifier": "INTERACTING", "stats": {"count": on_queue - idle}},
            {"metric": "oInteracting", "stats": {"count": on_queue - idle}}
        ]);
        answer(
            200,
            json!({"results": [{"group": {"queueId": id}, "data": data}]}),
        )
    }

    fn conversation(&self, cid: &str) -> Result<HttpResponse, String> {
        let state = match lock(&self.state).disconnected.contains(cid) {
            true => "disconnected",
            false => "connected",
        };
        let participants = json!([{"id": "p1", "purpose": "customer", "state": state},
            {"id": "p2", "purpose": "agent", "state": "connected", "user": {"id": AGENT_USER_ID},
             "connectedTime": "2026-11-25T09:14:00.000Z"}]);
        answer(200, json!({"id": cid, "participants": participants}))
    }
}

impl Http for FakeGenesys {
    fn send(&self, req: &HttpRequest) -> Result<HttpResponse, String> {
        lock(&self.calls).push(format!("{} {}", req.method, req.url));
        let full = req.url.splitn(4, '/').nth(3).unwrap_or("");
        let (path, query) = full.split_once('?').unwrap_or((full, ""));
        let path = format!("/{path}");
        let segments: Vec<&str> = path.split('/').collect();
        if path == paths::TOKEN {
            let token =
                json!({"access_token": "fake-token", "token_type": "bearer", "expires_in": 86399});
            answer(200, token)
        } else if path == paths::INTEGRATIONS {
            let entity = json!({"id": fixtures::INTEGRATION_ID, "name": fixtures::DEPLOYMENT_NAME});
            answer(
                200,
                json!({"entities": [entity], "pageNumber": 1, "pageCount": 1}),
            )
        } else if let Some(kind) = path.split(paths::INBOUND).nth(1) {
            let prefetch = query.contains("prefetchConversationId=true");
            self.inbound(kind, prefetch, &req.body)
        } else if path.starts_with(paths::QUEUES) || path == paths::QUEUE_OBSERVATIONS {
            self.queue(&path, &req.body)
        } else if path.contains("/participants/") {
            let cid = segments.get(5).copied().unwrap_or("");
            lock(&self.state).disconnected.insert(cid.to_string());
            answer(202, Value::Null)
        } else if path.starts_with(paths::CONVERSATIONS) {
            self.conversation(segments.get(5).copied().unwrap_or(""))
        } else if path.starts_with(paths::USERS) {
            let status = self.users_status.load(Ordering::SeqCst) as u16;
            if status != 0 {
                let e = json!({"status": status, "code": "missing.permissions", "message": "no (test)"});
                return answer(status, e);
            }
            let images = json!([{"resolution": "x96", "imageUri": "https://a/x96"}]);
            answer(
                200,
                json!({"id": "agent-1", "name": "Alex Agent", "images": images}),
            )
        } else {
            answer(200, json!({"id": "x"}))
        }
    }
}
