//! What the host hands the hooks (WIT `user-profile`, `transcript-entry`,
//! `handover-settings`, `user-event`, `webhook`, `end-signal`), as plain Rust.

/// The end user, as the bot platform knows them (WIT `user-profile`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserProfile {
    /// Stable user id of the bot platform; Genesys's `channel.from.id`.
    pub user_id: String,
    /// Bot platform session id; the host routes actions back to it.
    pub session_id: String,
    /// First name (sent only with `send-user-profile`).
    pub first_name: Option<String>,
    /// Last name (sent only with `send-user-profile`).
    pub last_name: Option<String>,
    /// Display name (sent only with `send-user-profile`).
    pub nickname: Option<String>,
    /// E-mail address (sent only with `send-user-profile`).
    pub email: Option<String>,
}

/// Who said a line of the bot conversation (WIT `speaker`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaker {
    /// The end user.
    User,
    /// The bot.
    Bot,
    /// A human agent of an earlier handover.
    Agent,
}

/// One line of the conversation before the handover (WIT `transcript-entry`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptEntry {
    /// Who said it.
    pub speaker: Speaker,
    /// Message text; may be empty.
    pub text: String,
    /// Structured data of the message as JSON text, if any.
    pub data: Option<String>,
    /// When it was said, as the bot platform writes it; shown before the line.
    pub time: Option<String>,
}

/// Settings of the "Handover to Human Agent" node (WIT `handover-settings`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoverSettings {
    /// Conversation language (`myLanguage` in the flow).
    pub language: Option<String>,
    /// Routing skills (`mySkills`).
    pub skills: Option<String>,
    /// Routing priority (`priority`).
    pub priority: Option<String>,
    /// Send "User joined the conversation" when the user comes back.
    pub enable_user_connects_message: bool,
    /// Send "User left the conversation" when the user goes away.
    pub enable_user_disconnects_message: bool,
    /// Show the agent's name and avatar to the user (`send-profile` alone shows the name).
    pub display_agent_details: bool,
    /// Custom attributes as JSON text (an object, or a JSON string holding one).
    pub custom_attributes: Option<String>,
    /// Text sent to the agent before the user or the bot closes the Genesys side.
    pub disconnect_message: Option<String>,
}

impl Default for HandoverSettings {
    /// The node's defaults: connect/disconnect messages on, agent details off.
    fn default() -> Self {
        Self {
            language: None,
            skills: None,
            priority: None,
            enable_user_connects_message: true,
            enable_user_disconnects_message: true,
            display_agent_details: false,
            custom_attributes: None,
            disconnect_message: None,
        }
    }
}

/// A file the user or the agent shares (WIT `attachment`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Where the file can be fetched.
    pub url: String,
    /// IANA media type.
    pub mime_type: String,
    /// File name shown to the reader.
    pub file_name: Option<String>,
}

/// A file the user shares with a text about it (WIT `captioned-attachment`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptionedAttachment {
    /// The file.
    pub attachment: Attachment,
    /// The text sent with it.
    pub caption: String,
}

/// What kind of control the user chose with (WIT `choice-kind`; Genesys's
/// `ButtonResponse.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChoiceKind {
    /// A quick reply (`QuickReply`).
    QuickReply,
    /// A button (`Button`).
    Button,
}

/// The user's choice among the agent's quick replies or buttons (WIT `button-response`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ButtonResponse {
    /// Genesys message id of the agent message that offered the choice.
    pub originating_message_id: String,
    /// Quick reply or button.
    pub kind: ChoiceKind,
    /// The label chosen.
    pub text: String,
    /// The value sent back.
    pub payload: String,
}

/// What the user did while the handover is open (WIT `user-event`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserEvent {
    /// A text message.
    Text(String),
    /// A shared file.
    Attachment(Attachment),
    /// A shared file with a caption, in one message.
    CaptionedAttachment(CaptionedAttachment),
    /// The user is typing.
    Typing,
    /// The user came back to the chat.
    Reconnected,
    /// The user went away from the chat.
    Disconnected,
    /// The user chose one of the agent's quick replies or buttons.
    ButtonResponse(ButtonResponse),
}

/// A Genesys outbound webhook exactly as the host received it (WIT `webhook`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// Request headers, names in any case.
    pub headers: Vec<(String, String)>,
    /// The raw request body; the signature covers these bytes.
    pub body: Vec<u8>,
}

/// A signal that may end a handover (WIT `end-signal`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndSignal {
    /// A Genesys event as JSON (EventBridge envelope or Data Action body).
    GenesysEvent(Vec<u8>),
    /// The user left the chat.
    UserLeft(String),
    /// The bot flow closed the handover.
    BotClosed(String),
    /// A timer tick: ends the handover if it was idle for too long.
    InactivityCheck(String),
}
