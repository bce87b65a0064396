//! The thin binding layer (wasm32 only): implements the ports over the WASI imports and
//! converts between the generated WIT types and the plain Rust model.

use crate::hooks;
use crate::model as m;
use crate::ports::{Clock, Config, Env, Http, HttpRequest, HttpResponse, Kv};

wit_bindgen::generate!({
    path: "wit",
    world: "handover",
    generate_all,
    features: ["clocks-timezone"],
});

use exports::handover::genesys_om::hooks::Guest;
use handover::genesys_om::types as t;
use wasi::http::types as http;

/// Name of the bucket the component opens (or the host's default store, when a host has
/// no named ones); the host scopes it to the tenant.
const BUCKET: &str = "genesys-om";

struct WasiHttp;

fn split_url(url: &str) -> Result<(http::Scheme, &str, &str), String> {
    let (scheme, rest) = if let Some(r) = url.strip_prefix("https://") {
        (http::Scheme::Https, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (http::Scheme::Http, r)
    } else {
        return Err("only http(s) URLs are supported".into());
    };
    let i = rest.find('/').unwrap_or(rest.len());
    let path = if i == rest.len() { "/" } else { &rest[i..] };
    Ok((scheme, &rest[..i], path))
}

impl Http for WasiHttp {
    fn send(&self, req: &HttpRequest) -> Result<HttpResponse, String> {
        let (scheme, authority, path) = split_url(&req.url)?;
        let entries: Vec<(String, Vec<u8>)> = req
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().into_bytes()))
            .collect();
        let headers =
            http::Fields::from_list(&entries).map_err(|e| format!("bad header: {e:?}"))?;
        let out = http::OutgoingRequest::new(headers);
        let method = match req.method {
            "GET" => http::Method::Get,
            "POST" => http::Method::Post,
            "PUT" => http::Method::Put,
            "PATCH" => http::Method::Patch,
            "DELETE" => http::Method::Delete,
            other => http::Method::Other(other.to_string()),
        };
        out.set_method(&method).map_err(|_| "bad method")?;
        out.set_scheme(Some(&scheme)).map_err(|_| "bad scheme")?;
        out.set_authority(Some(authority))
            .map_err(|_| "bad authority")?;
        out.set_path_with_query(Some(path))
            .map_err(|_| "bad path")?;
        let body = out.body().map_err(|_| "request body unavailable")?;
        let options = http::RequestOptions::new();
        let timeout_ns = req.timeout_ms.saturating_mul(1_000_000);
        let _ = options.set_connect_timeout(Some(timeout_ns));
        let _ = options.set_first_byte_timeout(Some(timeout_ns));
        let _ = options.set_between_bytes_timeout(Some(timeout_ns));
        let future = wasi::http::outgoing_handler::handle(out, Some(options))
            .map_err(|e| format!("request refused: {e:?}"))?;
        {
            let stream = body
                .write()
                .map_err(|_| "request body stream unavailable")?;
            for chunk in req.body.chunks(4096) {
                stream
                    .blocking_write_and_flush(chunk)
                    .map_err(|e| format!("write failed: {e:?}"))?;
            }
        }
        http::OutgoingBody::finish(body, None).map_err(|e| format!("finish failed: {e:?}"))?;
        future.subscribe().block();
        let resp = match future.get() {
            Some(Ok(Ok(r))) => r,
            Some(Ok(Err(e))) => return Err(format!("{e:?}")),
            _ => return Err("no response".into()),
        };
        let status = resp.status();
        let headers = resp
            .headers()
            .entries()
            .into_iter()
            .map(|(k, v)| {
                (
                    k.to_ascii_lowercase(),
                    String::from_utf8_lossy(&v).into_owned(),
                )
            })
            .collect();
        let incoming = resp.consume().map_err(|_| "response body unavailable")?;
        let mut buf = Vec::new();
        {
            let stream = incoming
                .stream()
                .map_err(|_| "response stream unavailable")?;
            loop {
                match stream.blocking_read(65_536) {
                    Ok(chunk) => buf.extend_from_slice(&chunk),
                    Err(wasi::io::streams::StreamError::Closed) => break,
                    Err(e) => return Err(format!("read failed: {e:?}")),
                }
            }
        }
        drop(http::IncomingBody::finish(incoming));
        Ok(HttpResponse {
            status,
            headers,
            body: buf,
        })
    }
}

struct WasiKv(wasi::keyvalue::store::Bucket);

fn kv_err(e: wasi::keyvalue::store::Error) -> String {
    match e {
        wasi::keyvalue::store::Error::NoSuchStore => "no such store".into(),
        wasi::keyvalue::store::Error::AccessDenied => "access denied".into(),
        wasi::keyvalue::store::Error::Other(s) => s,
    }
}

impl Kv for WasiKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.0.get(key).map_err(kv_err)
    }
    fn set(&self, key: &str, value: &[u8]) -> Result<(), String> {
        self.0.set(key, value).map_err(kv_err)
    }
    fn delete(&self, key: &str) -> Result<(), String> {
        self.0.delete(key).map_err(kv_err)
    }
}

struct WasiConfig;

impl Config for WasiConfig {
    fn get(&self, key: &str) -> Result<Option<String>, String> {
        wasi::config::store::get(key).map_err(|e| match e {
            wasi::config::store::Error::Upstream(s) | wasi::config::store::Error::Io(s) => s,
        })
    }
}

struct WasiClock;

impl Clock for WasiClock {
    fn now_ms(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }
    fn sleep_ms(&self, ms: u64) {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }

    fn new_id(&self) -> String {
        // Rust std seeds `RandomState` from the host's random source; two keyed hashes
        // give 128 unpredictable bits without importing more than std already does.
        use std::hash::{BuildHasher, Hasher};
        let mut b = [0u8; 16];
        for (i, half) in b.chunks_mut(8).enumerate() {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(self.now_ms() ^ i as u64);
            half.copy_from_slice(&h.finish().to_le_bytes());
        }
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }
}

fn with_env<T>(f: impl FnOnce(&Env) -> Result<T, m::Error>) -> Result<T, t::Error> {
    // Hosts that only offer their default store (the wasmtime CLI) get the empty name.
    let bucket = match wasi::keyvalue::store::open(BUCKET) {
        Err(wasi::keyvalue::store::Error::NoSuchStore) => wasi::keyvalue::store::open(""),
        other => other,
    }
    .map_err(|e| t::Error::Storage(kv_err(e)))?;
    let kv = WasiKv(bucket);
    let env = Env {
        http: &WasiHttp,
        kv: &kv,
        config: &WasiConfig,
        clock: &WasiClock,
    };
    f(&env).map_err(error_out)
}

fn error_out(e: m::Error) -> t::Error {
    match e {
        m::Error::Config(s) => t::Error::Config(s),
        m::Error::Auth(s) => t::Error::Auth(s),
        m::Error::Api(a) => t::Error::Api(t::ApiError {
            status: a.status,
            code: a.code,
            message: a.message,
        }),
        m::Error::Transport(s) => t::Error::Transport(s),
        m::Error::InvalidInput(s) => t::Error::InvalidInput(s),
        m::Error::BadSignature(p) => t::Error::BadSignature(match p {
            m::SignatureProblem::Missing => t::SignatureProblem::Missing,
            m::SignatureProblem::Malformed => t::SignatureProblem::Malformed,
            m::SignatureProblem::Mismatch => t::SignatureProblem::Mismatch,
        }),
        m::Error::UnknownConversation(s) => t::Error::UnknownConversation(s),
        m::Error::Storage(s) => t::Error::Storage(s),
    }
}

fn attachment_in(a: t::Attachment) -> m::Attachment {
    m::Attachment {
        url: a.url,
        mime_type: a.mime_type,
        file_name: a.file_name,
    }
}

fn attachment_out(a: m::Attachment) -> t::Attachment {
    t::Attachment {
        url: a.url,
        mime_type: a.mime_type,
        file_name: a.file_name,
    }
}

fn agent_out(a: Option<m::AgentInfo>) -> Option<t::AgentInfo> {
    a.map(|a| t::AgentInfo {
        name: a.name,
        avatar_url: a.avatar_url,
    })
}

fn reason_out(r: m::EndReason) -> t::EndReason {
    match r {
        m::EndReason::AgentEnded => t::EndReason::AgentEnded,
        m::EndReason::CustomerEnded => t::EndReason::CustomerEnded,
        m::EndReason::UserLeft => t::EndReason::UserLeft,
        m::EndReason::BotClosed => t::EndReason::BotClosed,
        m::EndReason::Inactivity => t::EndReason::Inactivity,
        m::EndReason::Error => t::EndReason::Error,
    }
}

fn action_out(a: m::Action) -> t::Action {
    match a {
        m::Action::SendText(x) => t::Action::SendText(t::AgentText {
            message_id: x.message_id,
            text: x.text,
            agent: agent_out(x.agent),
        }),
        m::Action::SendAttachment(x) => t::Action::SendAttachment(t::AgentAttachment {
            message_id: x.message_id,
            attachment: attachment_out(x.attachment),
            caption: x.caption,
            agent: agent_out(x.agent),
        }),
        m::Action::SendChoices(x) => t::Action::SendChoices(t::AgentChoices {
            message_id: x.message_id,
            text: x.text,
            choices: x
                .choices
                .into_iter()
                .map(|c| t::Choice {
                    label: c.label,
                    value: c.value,
                })
                .collect(),
            fallback: x.fallback,
            agent: agent_out(x.agent),
        }),
        m::Action::AgentTyping => t::Action::AgentTyping,
        m::Action::Status(s) => t::Action::Status(match s {
            m::HandoverStatus::Queued => t::HandoverStatus::Queued,
            m::HandoverStatus::AlreadyInProgress => t::HandoverStatus::AlreadyInProgress,
            m::HandoverStatus::AgentJoined(a) => t::HandoverStatus::AgentJoined(agent_out(a)),
            m::HandoverStatus::Transferred => t::HandoverStatus::Transferred,
            m::HandoverStatus::Ended(r) => t::HandoverStatus::Ended(reason_out(r)),
            m::HandoverStatus::Update(s) => t::HandoverStatus::Update(s),
        }),
    }
}

fn outcome_out(o: m::Outcome) -> t::Outcome {
    t::Outcome {
        session_id: o.session_id,
        user_id: o.user_id,
        actions: o.actions.into_iter().map(action_out).collect(),
        warnings: o
            .warnings
            .into_iter()
            .map(|w| match w {
                m::Warning::UnsignedWebhookAccepted => t::Warning::UnsignedWebhookAccepted,
                m::Warning::DuplicateIgnored => t::Warning::DuplicateIgnored,
                m::Warning::UnsupportedIgnored => t::Warning::UnsupportedIgnored,
                m::Warning::BotMessageDropped => t::Warning::BotMessageDropped,
                m::Warning::EventIgnored => t::Warning::EventIgnored,
                m::Warning::NoOpenHandover => t::Warning::NoOpenHandover,
                m::Warning::DeliveryPending => t::Warning::DeliveryPending,
            })
            .collect(),
    }
}

struct Component;

impl Guest for Component {
    fn version() -> String {
        match option_env!("GENESYS_OM_BUILD_TAG") {
            Some(tag) if !tag.is_empty() => format!("{}+{tag}", env!("CARGO_PKG_VERSION")),
            _ => env!("CARGO_PKG_VERSION").to_string(),
        }
    }

    fn start(
        user: t::UserProfile,
        transcript: Vec<t::TranscriptEntry>,
        settings: t::HandoverSettings,
    ) -> Result<t::Outcome, t::Error> {
        let user = m::UserProfile {
            user_id: user.user_id,
            session_id: user.session_id,
            first_name: user.first_name,
            last_name: user.last_name,
            nickname: user.nickname,
            email: user.email,
        };
        let transcript: Vec<m::TranscriptEntry> = transcript
            .into_iter()
            .map(|e| m::TranscriptEntry {
                speaker: match e.speaker {
                    t::Speaker::User => m::Speaker::User,
                    t::Speaker::Bot => m::Speaker::Bot,
                    t::Speaker::Agent => m::Speaker::Agent,
                },
                text: e.text,
                data: e.data,
            })
            .collect();
        let node = m::HandoverSettings {
            language: settings.language,
            skills: settings.skills,
            priority: settings.priority,
            enable_user_connects_message: settings.enable_user_connects_message,
            enable_user_disconnects_message: settings.enable_user_disconnects_message,
            display_agent_details: settings.display_agent_details,
            custom_attributes: settings.custom_attributes,
            disconnect_message: settings.disconnect_message,
        };
        with_env(|env| hooks::start(env, &user, &transcript, &node)).map(outcome_out)
    }

    fn user_message(user_id: String, event: t::UserEvent) -> Result<t::Outcome, t::Error> {
        let event = match event {
            t::UserEvent::Text(s) => m::UserEvent::Text(s),
            t::UserEvent::Attachment(a) => m::UserEvent::Attachment(attachment_in(a)),
            t::UserEvent::Typing => m::UserEvent::Typing,
            t::UserEvent::Reconnected => m::UserEvent::Reconnected,
            t::UserEvent::Disconnected => m::UserEvent::Disconnected,
        };
        with_env(|env| hooks::user_message(env, &user_id, &event)).map(outcome_out)
    }

    fn agent_message(webhook: t::Webhook) -> Result<t::Outcome, t::Error> {
        let w = m::Webhook {
            headers: webhook.headers,
            body: webhook.body,
        };
        with_env(|env| hooks::agent_message(env, &w)).map(outcome_out)
    }

    fn end(signal: t::EndSignal) -> Result<t::Outcome, t::Error> {
        let s = match signal {
            t::EndSignal::GenesysEvent(b) => m::EndSignal::GenesysEvent(b),
            t::EndSignal::UserLeft(u) => m::EndSignal::UserLeft(u),
            t::EndSignal::BotClosed(u) => m::EndSignal::BotClosed(u),
            t::EndSignal::InactivityCheck(u) => m::EndSignal::InactivityCheck(u),
        };
        with_env(|env| hooks::end(env, &s)).map(outcome_out)
    }

    fn flush(user_id: String) -> Result<t::Outcome, t::Error> {
        with_env(|env| hooks::flush(env, &user_id)).map(outcome_out)
    }

    fn report_delivery(
        user_id: String,
        message_id: String,
        delivered: bool,
        reason: Option<String>,
    ) -> Result<t::Outcome, t::Error> {
        with_env(|env| {
            hooks::report_delivery(env, &user_id, &message_id, delivered, reason.as_deref())
        })
        .map(outcome_out)
    }
}

export!(Component);
