//! How hook results look to people (the demo) and to programs (one JSON line each).

use genesys_om_host::bindings::types::{
    Action, AgentInfo, EndReason, Error, HandoverStatus, Outcome, Sender,
};

/// One line per action, as the user would see it in the chat.
pub fn actions(o: &Outcome) -> Vec<String> {
    o.actions.iter().map(action).collect()
}

/// Who a message is from: the agent's name when shown, or what sent it.
fn who(agent: &Option<AgentInfo>, sender: Sender) -> String {
    match (agent, sender) {
        (Some(a), _) => a.name.clone(),
        (None, Sender::Agent) => "Agent".into(),
        (None, Sender::Bot) => "Genesys bot".into(),
    }
}

/// One action as a chat line.
pub fn action(a: &Action) -> String {
    match a {
        Action::SendText(t) => format!("{}: {}", who(&t.agent, t.sender), t.text),
        Action::SendAttachment(x) => format!(
            "{}: [file {}] {}",
            who(&x.agent, x.sender),
            x.attachment.file_name.clone().unwrap_or_default(),
            x.attachment.url
        ),
        Action::SendChoices(c) => format!(
            "{}: {}",
            who(&c.agent, c.sender),
            c.fallback.replace('\n', " / ")
        ),
        Action::AgentTyping => "(the agent is typing…)".into(),
        Action::Status(s) => format!("[handover: {}]", status(s)),
        Action::UserMessageFailed(f) => format!(
            "(a user message did not reach the agent: {})",
            f.reasons
                .iter()
                .map(|r| r.code.clone().unwrap_or_else(|| r.message.clone()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Action::InactivityWarning(secs) => {
            format!("[handover: idle, closed for inactivity in {secs} s unless someone writes]")
        }
    }
}

/// A handover status in words.
pub fn status(s: &HandoverStatus) -> String {
    match s {
        HandoverStatus::Queued => "queued, waiting for an agent".into(),
        HandoverStatus::AlreadyInProgress => "already in progress".into(),
        HandoverStatus::AgentJoined(Some(a)) => format!("{} joined", a.name),
        HandoverStatus::AgentJoined(None) => "an agent joined".into(),
        HandoverStatus::Transferred => "transferred, still open".into(),
        HandoverStatus::Ended(r) => format!("ended ({})", reason(*r)),
        HandoverStatus::Update(t) => format!("update: {t}"),
    }
}

/// An end reason in words.
pub fn reason(r: EndReason) -> &'static str {
    match r {
        EndReason::AgentEnded => "agent ended",
        EndReason::CustomerEnded => "customer ended",
        EndReason::UserLeft => "user left",
        EndReason::BotClosed => "bot closed",
        EndReason::Inactivity => "inactivity",
        EndReason::Error => "error",
    }
}

/// A hook error in words.
pub fn error(e: &Error) -> String {
    match e {
        Error::Config(m) => format!("config error: {m}"),
        Error::Auth(m) => format!("auth error: {m}"),
        Error::Api(a) => format!("Genesys error {} {}: {}", a.status, a.code, a.message),
        Error::Transport(m) => format!("transport error: {m}"),
        Error::InvalidInput(m) => format!("invalid input: {m}"),
        Error::BadSignature(p) => format!("bad webhook signature: {p:?}"),
        Error::UnknownConversation(m) => format!("unknown conversation: {m}"),
        Error::Storage(m) => format!("storage error: {m}"),
    }
}

/// A hook's result as one JSON line: `{"step":N,"hook":"...","ok":{...}}` or `"error"`.
pub fn json_line(step: usize, hook: &str, result: &Result<Outcome, Error>) -> String {
    let v = match result {
        Ok(o) => serde_json::json!({ "step": step, "hook": hook, "ok": o }),
        Err(e) => serde_json::json!({ "step": step, "hook": hook, "error": e }),
    };
    v.to_string()
}
