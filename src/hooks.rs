//! The four handover hooks (and delivery receipts) over plain Rust types: what the
//! component exports, callable natively in tests with in-memory ports.

use crate::flatten;
use crate::genesys::events::{self, Topic};
use crate::genesys::{inbound, outbound, Client};
use crate::model::*;
use crate::ports::Env;
use crate::settings::ProviderSettings;
use crate::signature;
use crate::state::{self, Handover};
use crate::time::iso8601;
use crate::transcript::{self, Filters, MAX_TEXT_CHARS};
use serde_json::Value;
use std::collections::BTreeMap;

/// Largest webhook body accepted.
pub const MAX_WEBHOOK_BYTES: usize = 1024 * 1024;
/// Text sent to the agent when the user comes back.
pub const USER_JOINED: &str = "User joined the conversation";
/// Text sent to the agent when the user goes away.
pub const USER_LEFT: &str = "User left the conversation";

fn outcome(h: &Handover, actions: Vec<Action>) -> Outcome {
    Outcome {
        session_id: Some(h.session_id.clone()),
        user_id: Some(h.user_id.clone()),
        actions,
        warnings: Vec::new(),
    }
}

/// Routing attributes the Architect flow reads, plus the node's Custom Attributes.
fn attributes(
    user: &UserProfile,
    node: &HandoverSettings,
    provider: &ProviderSettings,
) -> Result<BTreeMap<String, String>, Error> {
    let mut attrs = BTreeMap::new();
    let routing = [
        ("queueId", provider.queue_id.as_deref()),
        ("myLanguage", node.language.as_deref()),
        ("mySkills", node.skills.as_deref()),
        ("priority", node.priority.as_deref()),
        ("userId", Some(user.user_id.as_str())),
        ("sessionId", Some(user.session_id.as_str())),
    ];
    for (k, v) in routing {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            attrs.insert(k.to_string(), v.to_string());
        }
    }
    if let Some(custom) = node
        .custom_attributes
        .as_deref()
        .filter(|c| !c.trim().is_empty())
    {
        for (k, v) in flatten::flatten(custom)? {
            if attrs.contains_key(&k) {
                return Err(Error::InvalidInput(format!(
                    "custom attribute {k:?} collides with a routing attribute of the same name"
                )));
            }
            attrs.insert(k, v);
        }
    }
    flatten::check_limits(&attrs)?;
    Ok(attrs)
}

fn message_id(env: &Env) -> String {
    env.clock.new_id()
}

/// Send one text message for an open handover (split when over Genesys's length limit).
fn send_text(client: &Client, h: &Handover, text: &str) -> Result<(), Error> {
    let now = iso8601(client.env.clock.now_ms());
    for piece in transcript::split_chars(text, MAX_TEXT_CHARS) {
        let body = inbound::text_message(
            inbound::from(&h.user_id, None),
            &message_id(client.env),
            &now,
            &piece,
            None,
        );
        client.api(
            "POST",
            &inbound::path(&h.integration_id, "message"),
            Some(&body),
        )?;
    }
    Ok(())
}

/// `start`: open the Genesys conversation with the transcript and routing attributes.
pub fn start(
    env: &Env,
    user: &UserProfile,
    transcript_entries: &[TranscriptEntry],
    node: &HandoverSettings,
) -> Result<Outcome, Error> {
    if user.user_id.trim().is_empty() {
        return Err(Error::InvalidInput("user-id is empty".into()));
    }
    let provider = ProviderSettings::load(env.config)?;
    if let Some(h) = state::load(env.kv, &user.user_id)? {
        return Ok(outcome(
            &h,
            vec![Action::Status(HandoverStatus::AlreadyInProgress)],
        ));
    }
    let attrs = attributes(user, node, &provider)?;
    let client = Client::new(env, &provider);
    let mut integration_id = client.integration_id()?;
    let filters = Filters {
        drop_unsupported: provider.filter_unsupported,
        drop_empty: provider.filter_empty,
    };
    let mut texts = transcript::messages(transcript_entries, filters);
    if texts.is_empty() {
        texts.push("The user asked for a human agent.".to_string());
    }
    let profile = provider.send_profile.then_some(user);
    let now_ms = env.clock.now_ms();
    let now = iso8601(now_ms);
    let first = inbound::text_message(
        inbound::from(&user.user_id, profile),
        &message_id(env),
        &now,
        &texts[0],
        Some(&attrs),
    );
    let first_path = |id: &str| {
        format!(
            "{}?prefetchConversationId=true",
            inbound::path(id, "message")
        )
    };
    let resp = match client.api("POST", &first_path(&integration_id), Some(&first)) {
        // The cached integration is gone (deleted and re-created under the same name):
        // look it up again once.
        Err(Error::Api(e)) if e.status == 404 => {
            client.forget_integration()?;
            integration_id = client.integration_id()?;
            client.api("POST", &first_path(&integration_id), Some(&first))?
        }
        other => other?,
    };
    let conversation_id = resp
        .get("conversationId")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| Error::Transport("Genesys did not return a conversationId".into()))?
        .to_string();
    let h = Handover {
        user_id: user.user_id.clone(),
        session_id: user.session_id.clone(),
        integration_id,
        conversation_id,
        display_agent_details: node.display_agent_details,
        user_connects_message: node.enable_user_connects_message,
        user_disconnects_message: node.enable_user_disconnects_message,
        disconnect_message: node
            .disconnect_message
            .clone()
            .filter(|m| !m.trim().is_empty()),
        agent: None,
        started_ms: now_ms,
        last_activity_ms: now_ms,
        transfer_ms: None,
    };
    // Remember the conversation before sending the rest, so a failure later leaves no orphan.
    state::save(env.kv, &h)?;
    for text in &texts[1..] {
        send_text(&client, &h, text)?;
    }
    Ok(outcome(&h, vec![Action::Status(HandoverStatus::Queued)]))
}

/// Send the handover's outbox in order. Stops at the first message Genesys does not take:
/// retryable failures keep it (warning `delivery-pending`), a 4xx drops it with an error.
fn flush_outbox(client: &Client, h: &Handover) -> Result<Vec<Warning>, Error> {
    let kv = client.env.kv;
    let mut queue = state::load_outbox(kv, &h.user_id)?;
    while let Some(item) = queue.first_mut() {
        let path = inbound::path(&h.integration_id, &item.kind);
        match client.api_sent("POST", &path, Some(&item.body), item.tried) {
            Ok(_) => {
                queue.remove(0);
                state::save_outbox(kv, &h.user_id, &queue)?;
            }
            Err(Error::Api(e))
                if (400..500).contains(&e.status) && !matches!(e.status, 408 | 429) =>
            {
                // Genesys will never accept this one; keep the rest flowing.
                queue.remove(0);
                state::save_outbox(kv, &h.user_id, &queue)?;
                return Err(Error::Api(e));
            }
            Err(e) => {
                item.tried = true;
                state::save_outbox(kv, &h.user_id, &queue)?;
                return match e {
                    Error::Transport(_) | Error::Api(_) => Ok(vec![Warning::DeliveryPending]),
                    other => Err(other),
                };
            }
        }
    }
    Ok(Vec::new())
}

fn queue_text(env: &Env, h: &Handover, text: &str, queue: &mut Vec<state::Pending>) {
    let now = iso8601(env.clock.now_ms());
    for piece in transcript::split_chars(text, MAX_TEXT_CHARS) {
        let body = inbound::text_message(
            inbound::from(&h.user_id, None),
            &message_id(env),
            &now,
            &piece,
            None,
        );
        queue.push(state::Pending {
            kind: "message".into(),
            body,
            tried: false,
        });
    }
}

/// `user-message`: relay a user turn or user event to Genesys. Messages go through the
/// handover's outbox, so one Genesys could not take yet is kept and re-sent, in order.
pub fn user_message(env: &Env, user_id: &str, event: &UserEvent) -> Result<Outcome, Error> {
    let provider = ProviderSettings::load(env.config)?;
    let Some(h) = state::load(env.kv, user_id)? else {
        return match event {
            UserEvent::Text(_) | UserEvent::Attachment(_) => Err(Error::UnknownConversation(
                format!("no open handover for user {user_id:?}"),
            )),
            _ => Ok(Outcome {
                user_id: Some(user_id.to_string()),
                warnings: vec![Warning::NoOpenHandover],
                ..Outcome::default()
            }),
        };
    };
    let client = Client::new(env, &provider);
    let now = iso8601(env.clock.now_ms());
    let mut queue = state::load_outbox(env.kv, user_id)?;
    let before = queue.len();
    match event {
        UserEvent::Text(text) => queue_text(env, &h, text, &mut queue),
        UserEvent::Attachment(a) => {
            if a.url.trim().is_empty() || a.mime_type.trim().is_empty() {
                return Err(Error::InvalidInput(
                    "attachment needs a url and a mime type".into(),
                ));
            }
            let body = inbound::attachment_message(
                inbound::from(user_id, None),
                &message_id(env),
                &now,
                a,
            );
            queue.push(state::Pending {
                kind: "message".into(),
                body,
                tried: false,
            });
        }
        UserEvent::Typing => {}
        UserEvent::Reconnected if h.user_connects_message => {
            queue_text(env, &h, USER_JOINED, &mut queue)
        }
        UserEvent::Disconnected if h.user_disconnects_message => {
            queue_text(env, &h, USER_LEFT, &mut queue)
        }
        UserEvent::Reconnected | UserEvent::Disconnected => {}
    }
    if queue.len() != before {
        state::save_outbox(env.kv, user_id, &queue)?;
    }
    let mut warnings = flush_outbox(&client, &h)?;
    if *event == UserEvent::Typing {
        // Typing is momentary: sent only when nothing older is waiting, never queued.
        if warnings.is_empty() {
            let body = inbound::typing_event(inbound::from(user_id, None), &now);
            if let Err(e) = client.api(
                "POST",
                &inbound::path(&h.integration_id, "event"),
                Some(&body),
            ) {
                match e {
                    Error::Transport(_) | Error::Api(_) => warnings.push(Warning::DeliveryPending),
                    other => return Err(other),
                }
            }
        }
    }
    state::touch(env.kv, user_id, env.clock.now_ms())?;
    let mut o = outcome(&h, Vec::new());
    o.warnings = warnings;
    Ok(o)
}

/// `flush`: re-send what the handover's outbox still holds (the host may call it on a timer).
pub fn flush(env: &Env, user_id: &str) -> Result<Outcome, Error> {
    let provider = ProviderSettings::load(env.config)?;
    let Some(h) = state::load(env.kv, user_id)? else {
        return Ok(ignored(
            Some(user_id.to_string()),
            None,
            Warning::NoOpenHandover,
        ));
    };
    let client = Client::new(env, &provider);
    let mut o = outcome(&h, Vec::new());
    o.warnings = flush_outbox(&client, &h)?;
    Ok(o)
}

fn header<'w>(w: &'w Webhook, name: &str) -> Option<&'w str> {
    w.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// `agent-message`: verify, parse and turn a Genesys outbound webhook into actions.
pub fn agent_message(env: &Env, webhook: &Webhook) -> Result<Outcome, Error> {
    let secrets = ProviderSettings::webhook_secrets(env.config)?;
    let mut warnings = Vec::new();
    if secrets.is_empty() {
        warnings.push(Warning::UnsignedWebhookAccepted);
    } else {
        signature::verify(header(webhook, signature::HEADER), &webhook.body, &secrets)
            .map_err(Error::BadSignature)?;
    }
    if webhook.body.len() > MAX_WEBHOOK_BYTES {
        return Err(Error::InvalidInput(format!(
            "webhook body is over {MAX_WEBHOOK_BYTES} bytes"
        )));
    }
    let w: outbound::Webhook = serde_json::from_slice(&webhook.body)
        .map_err(|e| Error::InvalidInput(format!("webhook body is not a Genesys message: {e}")))?;
    let user_id = w
        .user_id()
        .ok_or_else(|| Error::InvalidInput("webhook has no channel.to.id".into()))?
        .to_string();
    let Some(h) = state::load(env.kv, &user_id)? else {
        return Err(Error::UnknownConversation(format!(
            "no open handover for user {user_id:?}"
        )));
    };
    let message_id = w.message_id().unwrap_or_default().to_string();
    let seen = state::load_seen(env.kv, &user_id)?;
    if !message_id.is_empty() && seen.contains(&message_id) {
        warnings.push(Warning::DuplicateIgnored);
        let mut o = outcome(&h, Vec::new());
        o.warnings = warnings;
        return Ok(o);
    }
    let handle_bot_messages = ProviderSettings::handle_bot_messages(env.config)?;
    let agent = h
        .agent
        .as_ref()
        .filter(|_| h.display_agent_details)
        .map(AgentInfo::from);
    let mut actions = Vec::new();
    match w.kind.as_deref() {
        Some("Receipt") => {}
        Some("Event") => {
            if outbound::is_typing(&w) {
                actions.push(Action::AgentTyping);
            }
        }
        Some("Text" | "Structured") if w.is_bot() => {
            if handle_bot_messages {
                let text: Vec<String> = outbound::parts(&w)
                    .into_iter()
                    .filter_map(|p| match p {
                        outbound::Part::Text(t) => Some(t),
                        outbound::Part::Choices { text, choices } => {
                            Some(outbound::fallback(&text, &choices))
                        }
                        _ => None,
                    })
                    .collect();
                if !text.is_empty() {
                    actions.push(Action::Status(HandoverStatus::Update(text.join("\n"))));
                }
            } else {
                warnings.push(Warning::BotMessageDropped);
            }
        }
        Some("Text" | "Structured") => {
            for part in outbound::parts(&w) {
                actions.push(match part {
                    outbound::Part::Text(text) => Action::SendText(AgentText {
                        message_id: message_id.clone(),
                        text,
                        agent: agent.clone(),
                    }),
                    outbound::Part::Attachment(attachment, caption) => {
                        Action::SendAttachment(AgentAttachment {
                            message_id: message_id.clone(),
                            attachment,
                            caption,
                            agent: agent.clone(),
                        })
                    }
                    outbound::Part::Choices { text, choices } => {
                        Action::SendChoices(AgentChoices {
                            message_id: message_id.clone(),
                            fallback: outbound::fallback(&text, &choices),
                            text,
                            choices,
                            agent: agent.clone(),
                        })
                    }
                    outbound::Part::Typing => Action::AgentTyping,
                });
            }
        }
        other => {
            let kind: String = other.unwrap_or("(none)").chars().take(40).collect();
            eprintln!("genesys-om: ignored a webhook of type {kind:?}");
            warnings.push(Warning::UnsupportedIgnored);
        }
    }
    state::mark_seen(env.kv, &user_id, seen, &message_id)?;
    state::touch(env.kv, &user_id, env.clock.now_ms())?;
    let mut o = outcome(&h, actions);
    o.warnings = warnings;
    Ok(o)
}

fn ended(env: &Env, h: &Handover, reason: EndReason) -> Result<Outcome, Error> {
    state::remove(env.kv, h)?;
    Ok(outcome(
        h,
        vec![Action::Status(HandoverStatus::Ended(reason))],
    ))
}

fn ignored(user_id: Option<String>, session_id: Option<String>, w: Warning) -> Outcome {
    Outcome {
        session_id,
        user_id,
        actions: Vec::new(),
        warnings: vec![w],
    }
}

/// The agent shown to the user: `GET /api/v2/users/{id}`, cached in KV.
fn agent_details(client: &Client, agent_user_id: &str) -> Result<Option<AgentInfo>, Error> {
    let key = format!("agent/{agent_user_id}");
    if let Some(b) = client.env.kv.get(&key).map_err(Error::Storage)? {
        if let Ok(a) = serde_json::from_slice::<state::Agent>(&b) {
            return Ok(Some(AgentInfo::from(&a)));
        }
    }
    if agent_user_id.is_empty()
        || !agent_user_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Ok(None);
    }
    let v = client.api("GET", &format!("/api/v2/users/{agent_user_id}"), None)?;
    let agent = outbound::agent_from_user(&v);
    if let Some(a) = &agent {
        let b = serde_json::to_vec(&state::Agent::from(a))
            .map_err(|e| Error::Storage(e.to_string()))?;
        client.env.kv.set(&key, &b).map_err(Error::Storage)?;
    }
    Ok(agent)
}

/// Close the Genesys side: optional goodbye text, then the customer participant disconnected.
fn disconnect_genesys(client: &Client, h: &Handover) -> Result<(), Error> {
    // Whatever the user said last still reaches the agent, if Genesys takes it now.
    let _ = flush_outbox(client, h);
    if let Some(text) = &h.disconnect_message {
        send_text(client, h, text)?;
    }
    let path = format!("/api/v2/conversations/messages/{}", h.conversation_id);
    let conv = match client.api("GET", &path, None) {
        // Genesys no longer knows the conversation: nothing is left to disconnect.
        Err(Error::Api(e)) if e.status == 404 => return Ok(()),
        other => other?,
    };
    let participants = conv
        .get("participants")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for p in participants {
        let is_customer = p.get("purpose").and_then(Value::as_str) == Some("customer");
        let state = p.get("state").and_then(Value::as_str).unwrap_or("");
        let Some(pid) = p.get("id").and_then(Value::as_str) else {
            continue;
        };
        if is_customer && state != "disconnected" && state != "terminated" {
            client.api(
                "PATCH",
                &format!(
                    "/api/v2/conversations/messages/{}/participants/{pid}",
                    h.conversation_id
                ),
                Some(&serde_json::json!({ "state": "disconnected" })),
            )?;
        }
    }
    Ok(())
}

fn end_reason(disconnect_type: Option<&str>) -> EndReason {
    match disconnect_type.unwrap_or("") {
        "PEER" => EndReason::AgentEnded,
        "ERROR" | "TRANSPORT_FAILURE" | "SYSTEM" => EndReason::Error,
        "INACTIVITY" | "SESSION_EXPIRED" | "TIMEOUT" => EndReason::Inactivity,
        _ => EndReason::CustomerEnded,
    }
}

/// `end`: decide whether a signal ends the handover, and clean up if it does.
pub fn end(env: &Env, signal: &EndSignal) -> Result<Outcome, Error> {
    let provider = ProviderSettings::load(env.config)?;
    let client = Client::new(env, &provider);
    let now = env.clock.now_ms();
    match signal {
        EndSignal::UserLeft(user_id)
        | EndSignal::BotClosed(user_id)
        | EndSignal::InactivityCheck(user_id) => {
            let Some(h) = state::load(env.kv, user_id)? else {
                return Ok(ignored(
                    Some(user_id.clone()),
                    None,
                    Warning::NoOpenHandover,
                ));
            };
            let reason = match signal {
                EndSignal::UserLeft(_) => EndReason::UserLeft,
                EndSignal::BotClosed(_) => EndReason::BotClosed,
                _ => {
                    let idle_ms = now.saturating_sub(state::last_activity(env.kv, &h)?);
                    if idle_ms < provider.inactivity_timeout_secs.saturating_mul(1000) {
                        return Ok(outcome(&h, Vec::new()));
                    }
                    EndReason::Inactivity
                }
            };
            disconnect_genesys(&client, &h)?;
            ended(env, &h, reason)
        }
        EndSignal::GenesysEvent(bytes) => {
            let ev = events::parse(bytes)?;
            if !ev.is_open_messaging || ev.topic == Topic::Other {
                return Ok(ignored(None, None, Warning::EventIgnored));
            }
            let user_id = match (&ev.end_user_id, &ev.conversation_id) {
                (Some(u), _) => Some(u.clone()),
                (None, Some(c)) => state::user_for_conversation(env.kv, c)?,
                (None, None) => None,
            };
            let Some(mut h) = user_id
                .as_deref()
                .map(|u| state::load(env.kv, u))
                .transpose()?
                .flatten()
            else {
                return Ok(ignored(user_id, None, Warning::NoOpenHandover));
            };
            match ev.topic {
                Topic::CustomerEnd => ended(env, &h, end_reason(ev.disconnect_type.as_deref())),
                Topic::UserEnd => {
                    if events::is_transfer(ev.disconnect_type.as_deref()) || !ev.interacted {
                        h.transfer_ms = Some(now);
                        h.agent = None;
                        state::save(env.kv, &h)?;
                        Ok(outcome(
                            &h,
                            vec![Action::Status(HandoverStatus::Transferred)],
                        ))
                    } else {
                        ended(env, &h, EndReason::AgentEnded)
                    }
                }
                Topic::Acw => match h.transfer_ms {
                    Some(t) if now.saturating_sub(t) < provider.acw_grace_ms => Ok(ignored(
                        Some(h.user_id.clone()),
                        Some(h.session_id.clone()),
                        Warning::EventIgnored,
                    )),
                    _ => ended(env, &h, EndReason::AgentEnded),
                },
                Topic::UserStart => {
                    let agent = match (&ev.agent_user_id, h.display_agent_details) {
                        (Some(id), true) => agent_details(&client, id)?,
                        _ => None,
                    };
                    h.agent = agent.as_ref().map(state::Agent::from);
                    h.transfer_ms = None;
                    h.last_activity_ms = now;
                    state::save(env.kv, &h)?;
                    Ok(outcome(
                        &h,
                        vec![Action::Status(HandoverStatus::AgentJoined(agent))],
                    ))
                }
                Topic::Other => Ok(ignored(None, None, Warning::EventIgnored)),
            }
        }
    }
}

/// `report-delivery`: tell Genesys whether an agent message reached the user.
pub fn report_delivery(
    env: &Env,
    user_id: &str,
    message_id: &str,
    delivered: bool,
    reason: Option<&str>,
) -> Result<Outcome, Error> {
    let provider = ProviderSettings::load(env.config)?;
    let Some(h) = state::load(env.kv, user_id)? else {
        return Err(Error::UnknownConversation(format!(
            "no open handover for user {user_id:?}"
        )));
    };
    if message_id.is_empty() {
        return Err(Error::InvalidInput("message-id is empty".into()));
    }
    let client = Client::new(env, &provider);
    let body = inbound::receipt(
        user_id,
        message_id,
        &iso8601(env.clock.now_ms()),
        delivered,
        reason,
    );
    client.api(
        "POST",
        &inbound::path(&h.integration_id, "receipt"),
        Some(&body),
    )?;
    Ok(outcome(&h, Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FakeGenesys, FixedClock, MapConfig, MemKv, NoHttp};

    fn user() -> UserProfile {
        UserProfile {
            user_id: "u1".into(),
            session_id: "s1".into(),
            ..UserProfile::default()
        }
    }

    #[test]
    fn a_whole_handover_natively() {
        let (http, kv, config, clock) = (
            FakeGenesys::default(),
            MemKv::default(),
            MapConfig::working(),
            FixedClock::default(),
        );
        let env = Env {
            http: &http,
            kv: &kv,
            config: &config,
            clock: &clock,
        };
        let o = start(&env, &user(), &[], &HandoverSettings::default()).unwrap();
        assert_eq!(o.actions, vec![Action::Status(HandoverStatus::Queued)]);
        user_message(&env, "u1", &UserEvent::Text("hi".into())).unwrap();
        let body = br#"{"id":"a1","channel":{"to":{"id":"u1"}},"type":"Text","text":"hello","originatingEntity":"Human"}"#;
        let w = Webhook {
            headers: vec![(
                "X-Hub-Signature-256".into(),
                signature::sign("bench-webhook-secret-1", body),
            )],
            body: body.to_vec(),
        };
        let o = agent_message(&env, &w).unwrap();
        assert!(matches!(&o.actions[0], Action::SendText(t) if t.text == "hello"));
        let ev = br#"{"detail":{"topicName":"v2.detail.events.conversation.conversation-1.customer.end","eventBody":{"conversationId":"conversation-1"}}}"#;
        let o = end(&env, &EndSignal::GenesysEvent(ev.to_vec())).unwrap();
        assert_eq!(
            o.actions,
            vec![Action::Status(HandoverStatus::Ended(
                EndReason::CustomerEnded
            ))]
        );
        assert!(kv
            .0
            .borrow()
            .keys()
            .all(|k| !k.starts_with("handover/") && !k.starts_with("conversation/")));
    }

    /// xorshift64*, so a failing input can be replayed from the seed.
    fn rng(state: &mut u64) -> u64 {
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    #[test]
    fn random_webhooks_and_events_never_panic_or_act_unsigned() {
        let (kv, config, clock) = (
            MemKv::default(),
            MapConfig::working(),
            FixedClock::default(),
        );
        let env = Env {
            http: &NoHttp,
            kv: &kv,
            config: &config,
            clock: &clock,
        };
        let h = Handover {
            user_id: "u1".into(),
            session_id: "s1".into(),
            integration_id: "i".into(),
            conversation_id: "c".into(),
            display_agent_details: false,
            user_connects_message: true,
            user_disconnects_message: true,
            disconnect_message: None,
            agent: None,
            started_ms: 0,
            last_activity_ms: 0,
            transfer_ms: None,
        };
        state::save(&kv, &h).unwrap();
        let seeds: [&[u8]; 4] = [
            br#"{"id":"a1","channel":{"to":{"id":"u1"}},"type":"Structured","text":"t","content":[{"contentType":"QuickReply","quickReply":{"text":"a","payload":"b"}}]}"#,
            br#"{"id":"a2","channel":{"to":{"id":"u1"}},"type":"Event","events":[{"eventType":"Typing"}]}"#,
            br#"{"detail":{"topicName":"v2.detail.events.conversation.c.user.end","eventBody":{"conversationId":"c","disconnectType":"TRANSFER"}}}"#,
            br#"{"userId":"u1","topic":"v2.detail.events.conversation.id.acw"}"#,
        ];
        let mut s = 0x1234_5678_9abc_def1u64;
        for i in 0..20_000 {
            let mut body = seeds[(rng(&mut s) % 4) as usize].to_vec();
            for _ in 0..(rng(&mut s) % 4) {
                let at = (rng(&mut s) as usize) % (body.len() + 1);
                match rng(&mut s) % 3 {
                    0 if at < body.len() => body[at] = rng(&mut s) as u8,
                    1 => body.truncate(at),
                    _ => body.insert(at.min(body.len()), b"{}[]\":,0"[(rng(&mut s) % 8) as usize]),
                }
            }
            let signed = i % 2 == 0;
            let header = if signed {
                signature::sign("bench-webhook-secret-1", &body)
            } else {
                format!("sha256={}", "x".repeat(i % 50))
            };
            let w = Webhook {
                headers: vec![("x-hub-signature-256".into(), header)],
                body: body.clone(),
            };
            match agent_message(&env, &w) {
                Ok(_) => assert!(signed),
                Err(Error::BadSignature(_)) => assert!(!signed),
                Err(_) => assert!(signed),
            }
            let _ = end(&env, &EndSignal::GenesysEvent(body));
            if state::load(&kv, "u1").unwrap().is_none() {
                state::save(&kv, &h).unwrap();
            }
        }
    }
}
