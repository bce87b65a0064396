//! From a Genesys outbound webhook to what the host should do: the signature check, the
//! body limit and parse, whether it belongs to the open handover's conversation at all, and
//! the mapping of message types (text, structured, typing, receipts, bot messages) to
//! actions and warnings. No URL reaches the user that `url_policy` refuses: such
//! attachments, links and avatars are dropped with a warning.

use super::content::{self, Part, Shown};
use super::outbound;
use super::signature;
use crate::model::*;
use crate::url_policy;

/// Largest webhook body accepted.
pub const MAX_WEBHOOK_BYTES: usize = 1024 * 1024;

fn header<'w>(w: &'w Webhook, name: &str) -> Option<&'w str> {
    w.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Verify the signature under any of `secrets` (none configured: accepted with the
/// warning `unsigned-webhook-accepted`), then check the size and parse the body.
pub fn read<'w>(
    webhook: &'w Webhook,
    secrets: &[String],
) -> Result<(outbound::Webhook<'w>, Vec<Warning>), Error> {
    let mut warnings = Vec::new();
    if secrets.is_empty() {
        warnings.push(Warning::UnsignedWebhookAccepted);
    } else {
        signature::verify(header(webhook, signature::HEADER), &webhook.body, secrets)
            .map_err(Error::BadSignature)?;
    }
    if webhook.body.len() > MAX_WEBHOOK_BYTES {
        return Err(Error::InvalidInput(format!(
            "webhook body is over {MAX_WEBHOOK_BYTES} bytes"
        )));
    }
    let w = serde_json::from_slice(&webhook.body)
        .map_err(|e| Error::InvalidInput(format!("webhook body is not a Genesys message: {e}")))?;
    Ok((w, warnings))
}

/// How far Genesys's clock may be behind the host's before a webhook that names no
/// conversation counts as sent before the open handover began. The handover's time is the
/// host's (the one its first message carried); a message of its own conversation is sent
/// by Genesys after that message arrived, so only a skew between the two clocks could put
/// it earlier.
pub const CLOCK_SKEW_MS: u64 = 2_000;

/// Whether a webhook belongs to an earlier conversation of the user than the open
/// handover's (`conversation_id`, opened at `opened_ms`): it names another conversation, or
/// names none and was sent more than [`CLOCK_SKEW_MS`] before the handover opened. A time
/// that does not read as ISO 8601, or a handover of unknown age, drops nothing.
pub fn is_stale(w: &outbound::Webhook, conversation_id: &str, opened_ms: Option<u64>) -> bool {
    match w.conversation_id() {
        Some(named) => {
            !conversation_id.is_empty() && !named.eq_ignore_ascii_case(conversation_id.trim())
        }
        None => match (w.sent_ms(), opened_ms) {
            (Some(sent), Some(opened)) => sent.saturating_add(CLOCK_SKEW_MS) < opened,
            _ => false,
        },
    }
}

/// What a bot or flow message becomes: its content, as an agent's would be but from the
/// bot (no agent shown), or nothing (with a warning) when `handle-bot-messages` is off.
fn bot_message(w: &outbound::Webhook, handle: bool) -> (Vec<Action>, Vec<Warning>) {
    if !handle {
        return (Vec::new(), vec![Warning::BotMessageDropped]);
    }
    let id = w.message_id().unwrap_or_default();
    content_actions(w, id, None, Sender::Bot)
}

fn dropped(unsafe_url_dropped: bool) -> Vec<Warning> {
    match unsafe_url_dropped {
        true => vec![Warning::UnsafeUrlDropped],
        false => Vec::new(),
    }
}

/// The agent as the user may be shown them: an avatar whose URL `url_policy` refuses is
/// left out (the `bool` says so).
pub fn shown_agent(agent: Option<&AgentInfo>) -> (Option<AgentInfo>, bool) {
    match agent {
        Some(a)
            if a.avatar_url
                .as_deref()
                .is_some_and(|u| !url_policy::allowed(u)) =>
        {
            let a = AgentInfo {
                name: a.name.clone(),
                avatar_url: None,
            };
            (Some(a), true)
        }
        other => (other.cloned(), false),
    }
}

/// What a message of an agent or a bot shows the user, part by part, with its warnings.
fn content_actions(
    w: &outbound::Webhook,
    message_id: &str,
    agent: Option<&AgentInfo>,
    sender: Sender,
) -> (Vec<Action>, Vec<Warning>) {
    let message_id = message_id.to_string();
    let Shown {
        parts,
        unsafe_url_dropped,
    } = content::parts(w);
    let (agent, avatar_dropped) = shown_agent(agent);
    let avatar_dropped = avatar_dropped && !parts.is_empty();
    let actions = parts
        .into_iter()
        .map(|part| match part {
            Part::Text(text) => Action::SendText(AgentText {
                message_id: message_id.clone(),
                text,
                agent: agent.clone(),
                sender,
            }),
            Part::Attachment(attachment, caption) => Action::SendAttachment(AgentAttachment {
                message_id: message_id.clone(),
                attachment,
                caption,
                agent: agent.clone(),
                sender,
            }),
            Part::Choices { text, choices } => Action::SendChoices(AgentChoices {
                message_id: message_id.clone(),
                fallback: content::fallback(&text, &choices),
                text,
                choices,
                agent: agent.clone(),
                sender,
            }),
        })
        .collect();
    (actions, dropped(unsafe_url_dropped || avatar_dropped))
}

/// What a receipt about a user message becomes: `user-message-failed` for `Failed` (what
/// the message said is filled in by the hook, which knows the handover's notes); nothing
/// for `Delivered`, `Read` and the rest.
fn receipt(w: &outbound::Webhook) -> Vec<Action> {
    let Some((message_id, reasons)) = w.failure() else {
        return Vec::new();
    };
    vec![Action::UserMessageFailed(UserMessageFailure {
        message_id,
        text: None,
        attachment: None,
        reasons,
    })]
}

/// The actions and warnings of a webhook of the open handover's conversation (see
/// [`is_stale`]). `agent` is the agent shown with agent messages (`send-profile` or Display
/// Agent Details); `handle_bot_messages` is the tenant's flag.
pub fn actions(
    w: &outbound::Webhook,
    agent: Option<&AgentInfo>,
    handle_bot_messages: bool,
) -> (Vec<Action>, Vec<Warning>) {
    match w.kind.as_deref() {
        Some("Receipt") => (receipt(w), Vec::new()),
        Some("Event") if content::is_typing(w) => (vec![Action::AgentTyping], Vec::new()),
        Some("Event") => (Vec::new(), Vec::new()),
        Some("Text" | "Structured") if w.is_bot() => bot_message(w, handle_bot_messages),
        Some("Text" | "Structured") => {
            let id = w.message_id().unwrap_or_default();
            content_actions(w, id, agent, Sender::Agent)
        }
        _ => (Vec::new(), vec![Warning::UnsupportedIgnored]),
    }
}
