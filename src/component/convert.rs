//! Every conversion between the wit-bindgen generated types and the plain `model` mirror,
//! as `From` impls in one place: arguments come in, outcomes and errors go out, and the
//! domain code never sees a binding type.

use super::handover::genesys_om::types as t;
use crate::model as m;

impl From<t::UserProfile> for m::UserProfile {
    fn from(u: t::UserProfile) -> Self {
        m::UserProfile {
            user_id: u.user_id,
            session_id: u.session_id,
            first_name: u.first_name,
            last_name: u.last_name,
            nickname: u.nickname,
            email: u.email,
        }
    }
}

impl From<t::Speaker> for m::Speaker {
    fn from(s: t::Speaker) -> Self {
        match s {
            t::Speaker::User => m::Speaker::User,
            t::Speaker::Bot => m::Speaker::Bot,
            t::Speaker::Agent => m::Speaker::Agent,
        }
    }
}

impl From<t::TranscriptEntry> for m::TranscriptEntry {
    fn from(e: t::TranscriptEntry) -> Self {
        m::TranscriptEntry {
            speaker: e.speaker.into(),
            text: e.text,
            data: e.data,
            time: e.time,
        }
    }
}

impl From<t::HandoverSettings> for m::HandoverSettings {
    fn from(s: t::HandoverSettings) -> Self {
        m::HandoverSettings {
            language: s.language,
            skills: s.skills,
            priority: s.priority,
            enable_user_connects_message: s.enable_user_connects_message,
            enable_user_disconnects_message: s.enable_user_disconnects_message,
            display_agent_details: s.display_agent_details,
            custom_attributes: s.custom_attributes,
            disconnect_message: s.disconnect_message,
        }
    }
}

impl From<t::Attachment> for m::Attachment {
    fn from(a: t::Attachment) -> Self {
        m::Attachment {
            url: a.url,
            mime_type: a.mime_type,
            file_name: a.file_name,
        }
    }
}

impl From<m::Attachment> for t::Attachment {
    fn from(a: m::Attachment) -> Self {
        t::Attachment {
            url: a.url,
            mime_type: a.mime_type,
            file_name: a.file_name,
        }
    }
}

impl From<t::UserEvent> for m::UserEvent {
    fn from(e: t::UserEvent) -> Self {
        match e {
            t::UserEvent::Text(s) => m::UserEvent::Text(s),
            t::UserEvent::Attachment(a) => m::UserEvent::Attachment(a.into()),
            t::UserEvent::CaptionedAttachment(c) => {
                m::UserEvent::CaptionedAttachment(m::CaptionedAttachment {
                    attachment: c.attachment.into(),
                    caption: c.caption,
                })
            }
            t::UserEvent::Typing => m::UserEvent::Typing,
            t::UserEvent::Reconnected => m::UserEvent::Reconnected,
            t::UserEvent::Disconnected => m::UserEvent::Disconnected,
            t::UserEvent::ButtonResponse(b) => m::UserEvent::ButtonResponse(m::ButtonResponse {
                originating_message_id: b.originating_message_id,
                kind: match b.kind {
                    t::ChoiceKind::QuickReply => m::ChoiceKind::QuickReply,
                    t::ChoiceKind::Button => m::ChoiceKind::Button,
                },
                text: b.text,
                payload: b.payload,
            }),
        }
    }
}

impl From<m::QueueFigures> for t::QueueFigures {
    fn from(q: m::QueueFigures) -> Self {
        t::QueueFigures {
            estimated_wait_seconds: q.estimated_wait_seconds,
            agents_on_queue: q.agents_on_queue,
            agents_available: q.agents_available,
            interacting: q.interacting,
        }
    }
}

impl From<t::Webhook> for m::Webhook {
    fn from(w: t::Webhook) -> Self {
        m::Webhook {
            headers: w.headers,
            body: w.body,
        }
    }
}

impl From<t::EndSignal> for m::EndSignal {
    fn from(s: t::EndSignal) -> Self {
        match s {
            t::EndSignal::GenesysEvent(b) => m::EndSignal::GenesysEvent(b),
            t::EndSignal::UserLeft(u) => m::EndSignal::UserLeft(u),
            t::EndSignal::BotClosed(u) => m::EndSignal::BotClosed(u),
            t::EndSignal::InactivityCheck(u) => m::EndSignal::InactivityCheck(u),
        }
    }
}

impl From<m::AgentInfo> for t::AgentInfo {
    fn from(a: m::AgentInfo) -> Self {
        t::AgentInfo {
            name: a.name,
            avatar_url: a.avatar_url,
        }
    }
}

impl From<m::Choice> for t::Choice {
    fn from(c: m::Choice) -> Self {
        t::Choice {
            label: c.label,
            value: c.value,
        }
    }
}

impl From<m::EndReason> for t::EndReason {
    fn from(r: m::EndReason) -> Self {
        match r {
            m::EndReason::AgentEnded => t::EndReason::AgentEnded,
            m::EndReason::CustomerEnded => t::EndReason::CustomerEnded,
            m::EndReason::UserLeft => t::EndReason::UserLeft,
            m::EndReason::BotClosed => t::EndReason::BotClosed,
            m::EndReason::Inactivity => t::EndReason::Inactivity,
            m::EndReason::Error => t::EndReason::Error,
        }
    }
}

impl From<m::HandoverStatus> for t::HandoverStatus {
    fn from(s: m::HandoverStatus) -> Self {
        match s {
            m::HandoverStatus::Queued => t::HandoverStatus::Queued,
            m::HandoverStatus::AlreadyInProgress => t::HandoverStatus::AlreadyInProgress,
            m::HandoverStatus::AgentJoined(a) => t::HandoverStatus::AgentJoined(a.map(Into::into)),
            m::HandoverStatus::Transferred => t::HandoverStatus::Transferred,
            m::HandoverStatus::Ended(r) => t::HandoverStatus::Ended(r.into()),
            m::HandoverStatus::Update(s) => t::HandoverStatus::Update(s),
        }
    }
}

impl From<m::Action> for t::Action {
    fn from(a: m::Action) -> Self {
        match a {
            m::Action::SendText(x) => t::Action::SendText(t::AgentText {
                message_id: x.message_id,
                text: x.text,
                agent: x.agent.map(Into::into),
            }),
            m::Action::SendAttachment(x) => t::Action::SendAttachment(t::AgentAttachment {
                message_id: x.message_id,
                attachment: x.attachment.into(),
                caption: x.caption,
                agent: x.agent.map(Into::into),
            }),
            m::Action::SendChoices(x) => t::Action::SendChoices(t::AgentChoices {
                message_id: x.message_id,
                text: x.text,
                choices: x.choices.into_iter().map(Into::into).collect(),
                fallback: x.fallback,
                agent: x.agent.map(Into::into),
            }),
            m::Action::AgentTyping => t::Action::AgentTyping,
            m::Action::Status(s) => t::Action::Status(s.into()),
            m::Action::UserMessageFailed(f) => t::Action::UserMessageFailed(f.into()),
        }
    }
}

impl From<m::UserMessageFailure> for t::UserMessageFailure {
    fn from(f: m::UserMessageFailure) -> Self {
        t::UserMessageFailure {
            message_id: f.message_id,
            text: f.text,
            attachment: f.attachment.map(Into::into),
            reasons: f
                .reasons
                .into_iter()
                .map(|r| t::FailureReason {
                    code: r.code,
                    message: r.message,
                })
                .collect(),
        }
    }
}

impl From<m::Warning> for t::Warning {
    fn from(w: m::Warning) -> Self {
        match w {
            m::Warning::UnsignedWebhookAccepted => t::Warning::UnsignedWebhookAccepted,
            m::Warning::Duplicate => t::Warning::Duplicate,
            m::Warning::UnsupportedIgnored => t::Warning::UnsupportedIgnored,
            m::Warning::BotMessageDropped => t::Warning::BotMessageDropped,
            m::Warning::EventIgnored => t::Warning::EventIgnored,
            m::Warning::NoOpenHandover => t::Warning::NoOpenHandover,
            m::Warning::DeliveryPending => t::Warning::DeliveryPending,
            m::Warning::UnsafeUrlDropped => t::Warning::UnsafeUrlDropped,
            m::Warning::AttributeDropped(k) => t::Warning::AttributeDropped(k),
            m::Warning::CustomAttributesIgnored => t::Warning::CustomAttributesIgnored,
            m::Warning::AgentLookupFailed(r) => t::Warning::AgentLookupFailed(r),
        }
    }
}

impl From<m::GenesysRef> for t::GenesysRef {
    fn from(g: m::GenesysRef) -> Self {
        t::GenesysRef {
            integration_id: g.integration_id,
            conversation_id: g.conversation_id,
        }
    }
}

impl From<m::Outcome> for t::Outcome {
    fn from(o: m::Outcome) -> Self {
        t::Outcome {
            session_id: o.session_id,
            user_id: o.user_id,
            genesys: o.genesys.map(Into::into),
            actions: o.actions.into_iter().map(Into::into).collect(),
            delivery_key: o.delivery_key,
            warnings: o.warnings.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<m::SignatureProblem> for t::SignatureProblem {
    fn from(p: m::SignatureProblem) -> Self {
        match p {
            m::SignatureProblem::Missing => t::SignatureProblem::Missing,
            m::SignatureProblem::Malformed => t::SignatureProblem::Malformed,
            m::SignatureProblem::Mismatch => t::SignatureProblem::Mismatch,
        }
    }
}

impl From<m::Error> for t::Error {
    fn from(e: m::Error) -> Self {
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
            m::Error::BadSignature(p) => t::Error::BadSignature(p.into()),
            m::Error::UnknownConversation(s) => t::Error::UnknownConversation(s),
            m::Error::Storage(s) => t::Error::Storage(s),
        }
    }
}
