//! Plain Rust mirrors of the WIT types (`wit/handover.wit`). The domain code speaks only
//! these; `component/convert.rs` converts them to and from the generated bindings, so the
//! hooks run natively in tests without any bindings.

/// The end user, as the bot platform knows them (WIT `user-profile`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserProfile {
    /// Stable user id of the bot platform; Genesys's `channel.from.id`.
    pub user_id: String,
    /// Bot platform session id; the host routes actions back to it.
    pub session_id: String,
    /// First name (sent only with `send-profile`).
    pub first_name: Option<String>,
    /// Last name (sent only with `send-profile`).
    pub last_name: Option<String>,
    /// Display name (sent only with `send-profile`).
    pub nickname: Option<String>,
    /// E-mail address (sent only with `send-profile`).
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
    /// Show the agent's name and avatar to the user.
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

/// What the user did while the handover is open (WIT `user-event`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserEvent {
    /// A text message.
    Text(String),
    /// A shared file.
    Attachment(Attachment),
    /// The user is typing.
    Typing,
    /// The user came back to the chat.
    Reconnected,
    /// The user went away from the chat.
    Disconnected,
}

/// A Genesys outbound webhook exactly as the host received it (WIT `webhook`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// Request headers, names in any case.
    pub headers: Vec<(String, String)>,
    /// The raw request body; the signature covers these bytes.
    pub body: Vec<u8>,
}

/// The agent as shown to the user (WIT `agent-info`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentInfo {
    /// The agent's display name.
    pub name: String,
    /// URL of the agent's avatar.
    pub avatar_url: Option<String>,
}

/// Text for the user from the contact center (WIT `agent-text`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentText {
    /// Genesys message id, for `report-delivery`.
    pub message_id: String,
    /// The text.
    pub text: String,
    /// The agent, when shown.
    pub agent: Option<AgentInfo>,
}

/// A file for the user from the contact center (WIT `agent-attachment`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentAttachment {
    /// Genesys message id, for `report-delivery`.
    pub message_id: String,
    /// The file.
    pub attachment: Attachment,
    /// Caption, if any.
    pub caption: Option<String>,
    /// The agent, when shown.
    pub agent: Option<AgentInfo>,
}

/// One button or quick reply (WIT `choice`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// Label shown to the user.
    pub label: String,
    /// Value sent back when chosen.
    pub value: String,
}

/// Quick replies, buttons or cards with a plain-text fallback (WIT `agent-choices`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentChoices {
    /// Genesys message id, for `report-delivery`.
    pub message_id: String,
    /// Prompt or card title.
    pub text: String,
    /// The choices, in order.
    pub choices: Vec<Choice>,
    /// The whole message as plain text.
    pub fallback: String,
    /// The agent, when shown.
    pub agent: Option<AgentInfo>,
}

/// Why a handover ended (WIT `end-reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The agent ended the conversation.
    AgentEnded,
    /// Genesys ended the customer side.
    CustomerEnded,
    /// The user left the chat.
    UserLeft,
    /// The bot flow closed the handover.
    BotClosed,
    /// Idle for longer than the inactivity timeout.
    Inactivity,
    /// Genesys reported an error disconnect.
    Error,
}

/// Where the handover stands (WIT `handover-status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandoverStatus {
    /// Sent to Genesys; waiting for an agent.
    Queued,
    /// A handover for this user is already open.
    AlreadyInProgress,
    /// An agent joined.
    AgentJoined(Option<AgentInfo>),
    /// Still open after a transfer or requeue.
    Transferred,
    /// Over.
    Ended(EndReason),
    /// A status or bot message from a Genesys flow.
    Update(String),
}

/// What the host should do for the user (WIT `action`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Show agent text.
    SendText(AgentText),
    /// Show an agent file.
    SendAttachment(AgentAttachment),
    /// Show choices.
    SendChoices(AgentChoices),
    /// Show that the agent is typing.
    AgentTyping,
    /// Tell the bot flow where the handover stands.
    Status(HandoverStatus),
}

/// Something the host should know that is not an error (WIT `warning`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Warning {
    /// No webhook secret is configured; the webhook was not verified.
    UnsignedWebhookAccepted,
    /// A copy of a webhook whose message id was handled before: its actions come again
    /// under the same delivery key (a host that keeps no delivery keys drops them).
    Duplicate,
    /// A webhook of an unhandled type was ignored.
    UnsupportedIgnored,
    /// A bot message was dropped (`handle-bot-messages` is off).
    BotMessageDropped,
    /// A Genesys event not relevant to ending the handover was ignored.
    EventIgnored,
    /// The call found no open handover and did nothing.
    NoOpenHandover,
    /// A user message waits in the outbox; it is re-sent in order later.
    DeliveryPending,
    /// An attachment, image or link whose URL is not `https` to a public host was dropped
    /// (see `url_policy`); the rest of the message went on.
    UnsafeUrlDropped,
}

/// Where a handover lives in Genesys (WIT `genesys-ref`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenesysRef {
    /// Id of the Open Messaging integration the handover runs on.
    pub integration_id: String,
    /// Id of the Genesys conversation.
    pub conversation_id: String,
}

/// The result of a hook (WIT `outcome`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The bot-platform session the actions are for, when known.
    pub session_id: Option<String>,
    /// The bot-platform user the actions are for, when known.
    pub user_id: Option<String>,
    /// The handover's Genesys integration and conversation, when known.
    pub genesys: Option<GenesysRef>,
    /// What to do, in order.
    pub actions: Vec<Action>,
    /// Set when the actions are the effect of one Genesys message: every copy of it gives
    /// the same actions under the same key, and the host delivers a key's actions once.
    pub delivery_key: Option<String>,
    /// Notes for the host's log.
    pub warnings: Vec<Warning>,
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

/// An error Genesys answered with (WIT `api-error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// Genesys error code, e.g. `bad.request`.
    pub code: String,
    /// Genesys error message.
    pub message: String,
}

/// Why a webhook signature was refused (WIT `signature-problem`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureProblem {
    /// No signature header.
    Missing,
    /// Not `sha256=` and base64 of 32 bytes.
    Malformed,
    /// Matches no configured secret.
    Mismatch,
}

/// Why a hook failed (WIT `error`). Messages name settings and fields, never secret values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A provider setting is missing or invalid.
    Config(String),
    /// Genesys refused the credentials.
    Auth(String),
    /// Genesys answered with an error.
    Api(ApiError),
    /// Genesys could not be reached or answered garbage.
    Transport(String),
    /// A hook argument is invalid.
    InvalidInput(String),
    /// A webhook's signature was refused.
    BadSignature(SignatureProblem),
    /// No open handover for the webhook, event or user.
    UnknownConversation(String),
    /// The key-value store failed.
    Storage(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Config(m) => write!(f, "configuration error: {m}"),
            Error::Auth(m) => write!(f, "authentication error: {m}"),
            Error::Api(e) => write!(
                f,
                "Genesys API error {} {}: {}",
                e.status, e.code, e.message
            ),
            Error::Transport(m) => write!(f, "transport error: {m}"),
            Error::InvalidInput(m) => write!(f, "invalid input: {m}"),
            Error::BadSignature(p) => write!(f, "webhook signature refused: {p:?}"),
            Error::UnknownConversation(m) => write!(f, "unknown conversation: {m}"),
            Error::Storage(m) => write!(f, "storage error: {m}"),
        }
    }
}

impl std::error::Error for Error {}

/// A result whose error is the hook [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
