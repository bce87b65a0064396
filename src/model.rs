//! Plain Rust mirrors of the WIT types (`wit/handover.wit`); the component converts
//! between these and the generated bindings, so the domain code never sees bindings.

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserProfile {
    pub user_id: String,
    pub session_id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub nickname: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaker {
    User,
    Bot,
    Agent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptEntry {
    pub speaker: Speaker,
    pub text: String,
    pub data: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoverSettings {
    pub language: Option<String>,
    pub skills: Option<String>,
    pub priority: Option<String>,
    pub enable_user_connects_message: bool,
    pub enable_user_disconnects_message: bool,
    pub display_agent_details: bool,
    pub custom_attributes: Option<String>,
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub url: String,
    pub mime_type: String,
    pub file_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserEvent {
    Text(String),
    Attachment(Attachment),
    Typing,
    Reconnected,
    Disconnected,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentInfo {
    pub name: String,
    pub avatar_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentText {
    pub message_id: String,
    pub text: String,
    pub agent: Option<AgentInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentAttachment {
    pub message_id: String,
    pub attachment: Attachment,
    pub caption: Option<String>,
    pub agent: Option<AgentInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub label: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentChoices {
    pub message_id: String,
    pub text: String,
    pub choices: Vec<Choice>,
    pub fallback: String,
    pub agent: Option<AgentInfo>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    AgentEnded,
    CustomerEnded,
    UserLeft,
    BotClosed,
    Inactivity,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandoverStatus {
    Queued,
    AlreadyInProgress,
    AgentJoined(Option<AgentInfo>),
    Transferred,
    Ended(EndReason),
    Update(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    SendText(AgentText),
    SendAttachment(AgentAttachment),
    SendChoices(AgentChoices),
    AgentTyping,
    Status(HandoverStatus),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Warning {
    UnsignedWebhookAccepted,
    DuplicateIgnored,
    UnsupportedIgnored,
    BotMessageDropped,
    EventIgnored,
    NoOpenHandover,
    DeliveryPending,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub session_id: Option<String>,
    pub user_id: Option<String>,
    pub actions: Vec<Action>,
    pub warnings: Vec<Warning>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndSignal {
    GenesysEvent(Vec<u8>),
    UserLeft(String),
    BotClosed(String),
    InactivityCheck(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureProblem {
    Missing,
    Malformed,
    Mismatch,
}

/// Why a hook failed. Messages name settings and fields, never secret values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    Config(String),
    Auth(String),
    Api(ApiError),
    Transport(String),
    InvalidInput(String),
    BadSignature(SignatureProblem),
    UnknownConversation(String),
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

pub type Result<T, E = Error> = std::result::Result<T, E>;
