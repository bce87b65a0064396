//! In-memory ports for native tests, fuzzing and benchmarks: a KV map, a config map, a
//! fixed clock, and an in-process fake Genesys that answers what the hooks call (no network).

use crate::ports::{Clock, Config, Http, HttpRequest, HttpResponse, Kv};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

/// A KV bucket in a `HashMap`.
#[derive(Default)]
pub struct MemKv(pub RefCell<HashMap<String, Vec<u8>>>);

impl Kv for MemKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        Ok(self.0.borrow().get(key).cloned())
    }
    fn set(&self, key: &str, value: &[u8]) -> Result<(), String> {
        self.0.borrow_mut().insert(key.to_string(), value.to_vec());
        Ok(())
    }
    fn delete(&self, key: &str) -> Result<(), String> {
        self.0.borrow_mut().remove(key);
        Ok(())
    }
}

/// Provider settings from a map.
#[derive(Default, Clone)]
pub struct MapConfig(pub HashMap<String, String>);

impl MapConfig {
    /// Settings that work with [`FakeGenesys`].
    pub fn working() -> Self {
        let mut m = HashMap::new();
        for (k, v) in [
            ("host", "mypurecloud.de"),
            ("deployment-name", "CognigyHandover"),
            ("queue-id", "queue-1"),
            ("webhook-secret", "bench-webhook-secret-1"),
            ("client-id", "client"),
            ("client-secret", "secret"),
        ] {
            m.insert(k.to_string(), v.to_string());
        }
        MapConfig(m)
    }
}

impl Config for MapConfig {
    fn get(&self, key: &str) -> Result<Option<String>, String> {
        Ok(self.0.get(key).cloned())
    }
}

/// A clock that only moves when told to, with sequential ids.
pub struct FixedClock {
    pub now: Cell<u64>,
    pub next: Cell<u64>,
}

impl Default for FixedClock {
    fn default() -> Self {
        Self {
            now: Cell::new(1_764_062_043_512),
            next: Cell::new(1),
        }
    }
}

impl Clock for FixedClock {
    fn now_ms(&self) -> u64 {
        self.now.get()
    }
    fn new_id(&self) -> String {
        let n = self.next.get();
        self.next.set(n + 1);
        format!("00000000-0000-4000-8000-{n:012x}")
    }
    fn sleep_ms(&self, ms: u64) {
        self.now.set(self.now.get() + ms);
    }
}

/// Answers Genesys calls in process: token, integrations, inbound, conversations, users.
#[derive(Default)]
pub struct FakeGenesys {
    /// Every request seen, as `METHOD url`.
    pub calls: RefCell<Vec<String>>,
}

impl Http for FakeGenesys {
    fn send(&self, req: &HttpRequest) -> Result<HttpResponse, String> {
        self.calls
            .borrow_mut()
            .push(format!("{} {}", req.method, req.url));
        let path = req
            .url
            .splitn(4, '/')
            .nth(3)
            .map(|p| format!("/{p}"))
            .unwrap_or_default();
        let path = path.split('?').next().unwrap_or("").to_string();
        let body = if path == "/oauth/token" {
            r#"{"access_token":"fake-token","token_type":"bearer","expires_in":86399}"#.to_string()
        } else if path.ends_with("/integrations/open") {
            r#"{"entities":[{"id":"integration-1","name":"CognigyHandover"}],"pageNumber":1,"pageCount":1}"#.to_string()
        } else if path.ends_with("/inbound/open/message") {
            r#"{"id":"m1","type":"Text","conversationId":"conversation-1"}"#.to_string()
        } else if path.contains("/participants/") {
            String::new()
        } else if path.starts_with("/api/v2/conversations/messages/") {
            r#"{"id":"conversation-1","participants":[{"id":"p1","purpose":"customer","state":"connected"}]}"#.to_string()
        } else if path.starts_with("/api/v2/users/") {
            r#"{"id":"agent-1","name":"Alex Agent","images":[{"resolution":"x96","imageUri":"https://a/x96"}]}"#.to_string()
        } else {
            r#"{"id":"x"}"#.to_string()
        };
        Ok(HttpResponse {
            status: 200,
            headers: Vec::new(),
            body: body.into_bytes(),
        })
    }
}

/// No network at all: every request fails.
pub struct NoHttp;

impl Http for NoHttp {
    fn send(&self, _: &HttpRequest) -> Result<HttpResponse, String> {
        Err("no network in this test".into())
    }
}
