//! The bot side's JSON: the request bodies of `serve`'s `/api/<tenant>/…` endpoints, which
//! are also the steps of a scenario file. Converted to the WIT types in one place.

use crate::bindings::types::{
    Attachment, ButtonResponse, CaptionedAttachment, ChoiceKind, EndSignal, HandoverSettings,
    Speaker, TranscriptEntry, UserEvent, UserProfile,
};
use serde::Deserialize;

/// The end user, as the bot platform sends it.
#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// Stable user id.
    pub user_id: String,
    /// Bot platform session id.
    pub session_id: String,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Display name.
    pub nickname: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
}

/// One transcript line.
#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct Line {
    /// `user`, `bot` or `agent`.
    pub speaker: String,
    /// Message text.
    #[serde(default)]
    pub text: String,
    /// Structured data, as JSON.
    pub data: Option<serde_json::Value>,
    /// When it was said (ISO 8601 recommended); shown to the agent before the line.
    #[serde(default)]
    pub time: Option<String>,
}

/// Node settings; the toggles default as the node does.
#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `myLanguage`.
    pub language: Option<String>,
    /// `mySkills`.
    pub skills: Option<String>,
    /// `priority`.
    pub priority: Option<String>,
    /// Send "User joined the conversation" (default on).
    #[serde(default = "yes")]
    pub enable_user_connects_message: bool,
    /// Send "User left the conversation" (default on).
    #[serde(default = "yes")]
    pub enable_user_disconnects_message: bool,
    /// Show the agent's name and avatar.
    #[serde(default)]
    pub display_agent_details: bool,
    /// A JSON object, or a JSON string holding one (passed through as JSON text).
    pub custom_attributes: Option<serde_json::Value>,
    /// Text for the agent when the user or bot closes.
    pub disconnect_message: Option<String>,
}

fn yes() -> bool {
    true
}

impl Default for Settings {
    fn default() -> Self {
        serde_json::from_value(serde_json::json!({})).expect("all fields have defaults")
    }
}

/// What the user chose with, as Genesys names it (`ButtonResponse.type`).
#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A quick reply.
    QuickReply,
    /// A button.
    Button,
}

/// A user event: `{"text": …}`, `{"attachment": {…}}`, `{"typing": null}`,
/// `{"button_response": {"type": "QuickReply", "text": …, "payload": …,
/// "originating_message_id": …}}`, …
#[derive(Deserialize, Clone, Debug)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Event {
    /// A text message.
    Text(String),
    /// A shared file.
    Attachment {
        /// Where the file is.
        url: String,
        /// IANA media type.
        mime_type: String,
        /// File name.
        file_name: Option<String>,
        /// Text sent with the file, in the same message.
        #[serde(default)]
        caption: Option<String>,
    },
    /// The user is typing.
    Typing(()),
    /// The user came back.
    Reconnected(()),
    /// The user went away.
    Disconnected(()),
    /// The user chose one of the agent's quick replies or buttons.
    ButtonResponse {
        /// `QuickReply` or `Button`.
        #[serde(rename = "type")]
        kind: Kind,
        /// The label chosen.
        text: String,
        /// The value sent back.
        payload: String,
        /// The `message_id` of the `send-choices` action that offered the choice.
        originating_message_id: String,
    },
}

/// `POST /api/<tenant>/start`.
#[derive(Deserialize, Clone, Debug)]
pub struct StartRequest {
    /// The user.
    pub user: User,
    /// The conversation so far.
    #[serde(default)]
    pub transcript: Vec<Line>,
    /// Node settings.
    #[serde(default)]
    pub settings: Settings,
}

/// `POST /api/<tenant>/message`.
#[derive(Deserialize, Clone, Debug)]
pub struct MessageRequest {
    /// The user.
    pub user_id: String,
    /// What they did.
    #[serde(flatten)]
    pub event: Event,
}

/// `POST /api/<tenant>/end`.
#[derive(Deserialize, Clone, Debug)]
pub struct EndRequest {
    /// The user.
    pub user_id: String,
    /// `user_left` (default) or `bot_closed`.
    #[serde(default)]
    pub reason: Option<String>,
}

impl From<&User> for UserProfile {
    fn from(u: &User) -> Self {
        UserProfile {
            user_id: u.user_id.clone(),
            session_id: u.session_id.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            nickname: u.nickname.clone(),
            email: u.email.clone(),
        }
    }
}

impl TryFrom<&Line> for TranscriptEntry {
    type Error = anyhow::Error;
    fn try_from(l: &Line) -> anyhow::Result<Self> {
        let speaker = match l.speaker.as_str() {
            "user" => Speaker::User,
            "bot" => Speaker::Bot,
            "agent" => Speaker::Agent,
            other => anyhow::bail!("unknown speaker {other:?} (user, bot or agent)"),
        };
        Ok(TranscriptEntry {
            speaker,
            text: l.text.clone(),
            data: l.data.as_ref().map(|d| d.to_string()),
            time: l.time.clone(),
        })
    }
}

/// The transcript lines as WIT entries.
pub fn transcript(lines: &[Line]) -> anyhow::Result<Vec<TranscriptEntry>> {
    lines.iter().map(TranscriptEntry::try_from).collect()
}

impl From<&Settings> for HandoverSettings {
    fn from(s: &Settings) -> Self {
        HandoverSettings {
            language: s.language.clone(),
            skills: s.skills.clone(),
            priority: s.priority.clone(),
            enable_user_connects_message: s.enable_user_connects_message,
            enable_user_disconnects_message: s.enable_user_disconnects_message,
            display_agent_details: s.display_agent_details,
            custom_attributes: s.custom_attributes.as_ref().map(|v| v.to_string()),
            disconnect_message: s.disconnect_message.clone(),
        }
    }
}

impl From<&Event> for UserEvent {
    fn from(e: &Event) -> Self {
        match e {
            Event::Text(t) => UserEvent::Text(t.clone()),
            Event::Attachment {
                url,
                mime_type,
                file_name,
                caption,
            } => {
                let attachment = Attachment {
                    url: url.clone(),
                    mime_type: mime_type.clone(),
                    file_name: file_name.clone(),
                };
                match caption.as_ref().filter(|c| !c.trim().is_empty()) {
                    Some(caption) => UserEvent::CaptionedAttachment(CaptionedAttachment {
                        attachment,
                        caption: caption.clone(),
                    }),
                    None => UserEvent::Attachment(attachment),
                }
            }
            Event::Typing(()) => UserEvent::Typing,
            Event::Reconnected(()) => UserEvent::Reconnected,
            Event::Disconnected(()) => UserEvent::Disconnected,
            Event::ButtonResponse {
                kind,
                text,
                payload,
                originating_message_id,
            } => UserEvent::ButtonResponse(ButtonResponse {
                originating_message_id: originating_message_id.clone(),
                kind: match kind {
                    Kind::QuickReply => ChoiceKind::QuickReply,
                    Kind::Button => ChoiceKind::Button,
                },
                text: text.clone(),
                payload: payload.clone(),
            }),
        }
    }
}

impl From<EndRequest> for EndSignal {
    fn from(e: EndRequest) -> Self {
        match e.reason.as_deref() {
            Some("bot_closed") => EndSignal::BotClosed(e.user_id),
            _ => EndSignal::UserLeft(e.user_id),
        }
    }
}
