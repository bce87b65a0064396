//! The bot side's JSON: the request bodies of `serve`'s `/api/<tenant>/…` endpoints, which
//! are also the steps of a scenario file. Where the JSON is the WIT type's own (the user),
//! the bindgen type is read directly; the few types here say something the WIT does not.

use crate::bindings::types::{
    Attachment, ButtonResponse, CaptionedAttachment, ChoiceKind, EndSignal, HandoverSettings,
    Speaker, TranscriptEntry, UserEvent, UserProfile,
};
use serde::de::{DeserializeOwned, Error as _, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// One transcript line. Not the WIT `transcript-entry`: `speaker` is written in lower case
/// and `data` is any JSON value (the WIT carries it as JSON text).
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

/// Node settings. Not the WIT `handover-settings`: every field may be left out (the toggles
/// default as the node does) and `custom_attributes` is a JSON value, not JSON text.
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
    /// This handover's inactivity timeout in seconds, in place of the tenant's
    /// `inactivity-timeout-secs` (absent: the tenant's).
    pub inactivity_timeout_secs: Option<u32>,
}

fn yes() -> bool {
    true
}

impl Default for Settings {
    fn default() -> Self {
        serde_json::from_value(serde_json::json!({})).expect("all fields have defaults")
    }
}

/// A user event: `{"text": …}`, `{"attachment": {…}}`, `{"typing": null}`,
/// `{"button_response": {"type": "QuickReply", "text": …, "payload": …,
/// "originating_message_id": …}}`, … Not the WIT `user-event`: an attachment with a caption
/// becomes `captioned-attachment`, and a button response's kind is named `type`.
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
        /// `QuickReply` or `Button`, as Genesys names them (`ButtonResponse.type`).
        #[serde(rename = "type")]
        kind: ChoiceKind,
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
    /// The user: the WIT `user-profile` (`user_id`, `session_id`, optional `first_name`,
    /// `last_name`, `nickname`, `email`), no other field.
    #[serde(deserialize_with = "strict")]
    pub user: UserProfile,
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

/// `POST /api/<tenant>/delivery`: whether an agent message (the `message_id` of a
/// `send-text`, `send-attachment` or `send-choices` action) reached the user; the
/// `report-delivery` hook, which sends Genesys a `Delivered` or `Failed` receipt.
#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct DeliveryRequest {
    /// The user the message was for.
    pub user_id: String,
    /// The agent message's id, as its action carried it.
    pub message_id: String,
    /// `true`: it reached the user (`Delivered`); `false`: it did not (`Failed`).
    pub delivered: bool,
    /// Why not, for the agent (sent with a `Failed` receipt).
    #[serde(default)]
    pub reason: Option<String>,
}

/// A bindgen type from JSON, refusing fields it does not have, as
/// `#[serde(deny_unknown_fields)]` would (a generated type cannot carry the attribute).
pub fn strict<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let given = Value::deserialize(d)?;
    if let Value::Object(map) = &given {
        let fields = fields_of::<T>();
        if let Some(k) = map.keys().find(|k| !fields.contains(&k.as_str())) {
            return Err(D::Error::unknown_field(k, fields));
        }
    }
    serde_json::from_value(given).map_err(D::Error::custom)
}

/// The field names a derived `Deserialize` of a struct declares (what it passes to
/// `deserialize_struct`); none for other types.
fn fields_of<T: DeserializeOwned>() -> &'static [&'static str] {
    struct Probe<'a>(&'a mut &'static [&'static str]);
    impl<'de> Deserializer<'de> for Probe<'_> {
        type Error = serde::de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(Self::Error::custom("only the field names are asked for"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            v: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            self.deserialize_any(v)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut fields));
    fields
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
            inactivity_timeout_secs: s.inactivity_timeout_secs,
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
                kind: *kind,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn start(body: &str) -> Result<StartRequest, serde_json::Error> {
        serde_json::from_str(body)
    }

    #[test]
    fn the_user_is_the_wit_profile_with_its_json_names_and_nothing_else() {
        let r = start(r#"{"user": {"user_id": "u1", "session_id": "s1", "first_name": "Jane"}}"#)
            .unwrap();
        assert_eq!(r.user.user_id, "u1");
        assert_eq!(r.user.session_id, "s1");
        assert_eq!(r.user.first_name.as_deref(), Some("Jane"));
        assert_eq!(
            (r.user.last_name, r.user.nickname, r.user.email),
            (None, None, None)
        );

        let e = start(r#"{"user": {"user_id": "u1", "session_id": "s1", "firstName": "J"}}"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(
                "unknown field `firstName`, expected one of `user_id`, `session_id`, \
                 `first_name`, `last_name`, `nickname`, `email`"
            ),
            "{e}"
        );
        let e = start(r#"{"user": {"user_id": "u1"}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("missing field `session_id`"), "{e}");
    }

    #[test]
    fn the_nodes_inactivity_timeout_is_optional() {
        let user = r#""user": {"user_id": "u1", "session_id": "s1"}"#;
        let r = start(&format!(
            r#"{{{user}, "settings": {{"inactivity_timeout_secs": 90}}}}"#
        ))
        .unwrap();
        assert_eq!(
            HandoverSettings::from(&r.settings).inactivity_timeout_secs,
            Some(90)
        );
        let r = start(&format!("{{{user}}}")).unwrap();
        assert_eq!(
            HandoverSettings::from(&r.settings).inactivity_timeout_secs,
            None
        );
        let bad = format!(r#"{{{user}, "settings": {{"inactivity_timeout_secs": -1}}}}"#);
        assert!(start(&bad).is_err());
    }

    #[test]
    fn a_button_response_names_its_kind_as_genesys_does() {
        let m: MessageRequest = serde_json::from_str(
            r#"{"user_id": "u1", "button_response": {"type": "QuickReply", "text": "Yes",
                "payload": "yes", "originating_message_id": "m1"}}"#,
        )
        .unwrap();
        let UserEvent::ButtonResponse(b) = UserEvent::from(&m.event) else {
            panic!("not a button response");
        };
        assert_eq!(b.kind, ChoiceKind::QuickReply);
        let wrong = r#"{"user_id": "u1", "button_response": {"type": "quick-reply",
            "text": "Yes", "payload": "yes", "originating_message_id": "m1"}}"#;
        assert!(serde_json::from_str::<MessageRequest>(wrong).is_err());
    }

    #[test]
    fn a_delivery_report_has_exactly_its_four_fields() {
        let d: DeliveryRequest = serde_json::from_str(
            r#"{"user_id": "u1", "message_id": "m1", "delivered": false, "reason": "tab closed"}"#,
        )
        .unwrap();
        assert_eq!(
            (d.user_id.as_str(), d.message_id.as_str(), d.delivered),
            ("u1", "m1", false)
        );
        assert_eq!(d.reason.as_deref(), Some("tab closed"));
        let d: DeliveryRequest =
            serde_json::from_str(r#"{"user_id": "u1", "message_id": "m1", "delivered": true}"#)
                .unwrap();
        assert_eq!(d.reason, None);
        for wrong in [
            r#"{"user_id": "u1", "message_id": "m1"}"#,
            r#"{"user_id": "u1", "message_id": "m1", "delivered": "yes"}"#,
            r#"{"user_id": "u1", "message_id": "m1", "delivered": true, "status": "Read"}"#,
        ] {
            assert!(
                serde_json::from_str::<DeliveryRequest>(wrong).is_err(),
                "{wrong}"
            );
        }
    }
}
