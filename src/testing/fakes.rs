//! In-memory ports for native tests, fuzzing and benchmarks: a KV map, a config map, a
//! clock that only moves when told, and an in-process fake Genesys. All thread-safe, so
//! tests can call hooks from several threads on one shared store, as replicas would.

use super::fixtures::{self, Rng};
use crate::genesys::paths;
use crate::ports::{Clock, Config, Env, Http, HttpRequest, HttpResponse, Kv};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A KV bucket in a `HashMap`; counters are decimal text, as in Redis and the host.
#[derive(Default)]
pub struct MemKv {
    /// The entries.
    pub entries: Mutex<HashMap<String, Vec<u8>>>,
    /// Yield the thread around every operation, to shake out interleavings.
    pub jitter: AtomicBool,
}

impl MemKv {
    /// A bucket that yields the thread around every operation.
    pub fn with_jitter() -> Self {
        let kv = MemKv::default();
        kv.jitter.store(true, Ordering::Relaxed);
        kv
    }

    /// Every key, sorted.
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = lock(&self.entries).keys().cloned().collect();
        keys.sort();
        keys
    }

    fn op<T>(&self, f: impl FnOnce(&mut HashMap<String, Vec<u8>>) -> T) -> T {
        let jitter = self.jitter.load(Ordering::Relaxed);
        if jitter {
            std::thread::yield_now();
        }
        let out = f(&mut lock(&self.entries));
        if jitter {
            std::thread::yield_now();
        }
        out
    }
}

impl Kv for MemKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        Ok(self.op(|m| m.get(key).cloned()))
    }
    fn set(&self, key: &str, value: &[u8]) -> Result<(), String> {
        self.op(|m| m.insert(key.to_string(), value.to_vec()));
        Ok(())
    }
    fn delete(&self, key: &str) -> Result<(), String> {
        self.op(|m| m.remove(key));
        Ok(())
    }
    fn increment(&self, key: &str, delta: u64) -> Result<u64, String> {
        self.op(|m| {
            let cur = match m.get(key) {
                None => 0,
                Some(v) => std::str::from_utf8(v)
                    .ok()
                    .and_then(|s| s.parse::<u64>().ok())
                    .ok_or_else(|| format!("value of {key:?} is not a number"))?,
            };
            let next = cur.wrapping_add(delta);
            m.insert(key.to_string(), next.to_string().into_bytes());
            Ok(next)
        })
    }
}

/// Provider settings from a map.
#[derive(Default, Clone)]
pub struct MapConfig(pub HashMap<String, String>);

impl MapConfig {
    /// Settings that work with [`FakeGenesys`] ([`fixtures::tenant_config`]).
    pub fn working() -> Self {
        MapConfig(fixtures::tenant_config_map())
    }

    /// The same settings with `key` set to `value`.
    pub fn with(mut self, key: &str, value: &str) -> Self {
        self.0.insert(key.to_string(), value.to_string());
        self
    }
}

impl Config for MapConfig {
    fn get(&self, key: &str) -> Result<Option<String>, String> {
        Ok(self.0.get(key).cloned())
    }
}

/// A clock that only moves when told to (sleeping moves it), with sequential ids.
pub struct FixedClock {
    /// Milliseconds since the epoch.
    pub now: AtomicU64,
    /// The number in the next id.
    pub next: AtomicU64,
}

impl Default for FixedClock {
    fn default() -> Self {
        Self {
            now: AtomicU64::new(1_764_062_043_512),
            next: AtomicU64::new(1),
        }
    }
}

impl FixedClock {
    /// Move the clock forward.
    pub fn advance(&self, ms: u64) {
        self.now.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now_ms(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }
    fn new_id(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        format!("00000000-0000-4000-8000-{n:012x}")
    }
    fn sleep_ms(&self, ms: u64) {
        self.advance(ms);
    }
}

/// No network at all: every request fails.
pub struct NoHttp;

impl Http for NoHttp {
    fn send(&self, _: &HttpRequest) -> Result<HttpResponse, String> {
        Err("no network in this test".into())
    }
}

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

    fn conversation(&self, cid: &str) -> Result<HttpResponse, String> {
        let state = match lock(&self.state).disconnected.contains(cid) {
            true => "disconnected",
            false => "connected",
        };
        let participants = json!([{"id": "p1", "purpose": "customer", "state": state}]);
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
        } else if path.contains("/participants/") {
            let cid = segments.get(5).copied().unwrap_or("");
            lock(&self.state).disconnected.insert(cid.to_string());
            answer(202, Value::Null)
        } else if path.starts_with(paths::CONVERSATIONS) {
            self.conversation(segments.get(5).copied().unwrap_or(""))
        } else if path.starts_with(paths::USERS) {
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

/// A fake Genesys, store, settings and clock together, shared by the threads of a test.
#[derive(Default)]
pub struct Fakes {
    /// The fake Genesys.
    pub genesys: FakeGenesys,
    /// The store.
    pub kv: MemKv,
    /// The settings ([`MapConfig::working`] unless replaced).
    pub config: MapConfig,
    /// The clock.
    pub clock: FixedClock,
}

impl Fakes {
    /// Fakes with working settings.
    pub fn working() -> Self {
        Fakes {
            config: MapConfig::working(),
            ..Fakes::default()
        }
    }

    /// The ports for one hook call.
    pub fn env(&self) -> Env<'_> {
        Env {
            http: &self.genesys,
            kv: &self.kv,
            config: &self.config,
            clock: &self.clock,
        }
    }
}
