//! The conversions between the wit-bindgen generated types and the plain `model` mirror,
//! as `From` impls in one place: arguments come in, `queue-status`'s figures and errors go
//! out (the outcome hooks' results are lowered straight from `model` in `lower.rs`), and
//! the domain code never sees a binding type.

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
