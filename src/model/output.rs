//! What the hooks hand back (WIT `action`, `handover-status`, `warning`, `outcome` and the
//! records they carry), as plain Rust.

use super::Attachment;

/// The agent as shown to the user (WIT `agent-info`): the name with `send-profile` or
/// Display Agent Details, the avatar only with Display Agent Details.
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
    /// An agent joined (a `user.start` event, or the agent's first message).
    AgentJoined(Option<AgentInfo>),
    /// Still open after a transfer or requeue.
    Transferred,
    /// Over.
    Ended(EndReason),
    /// A status or bot message from a Genesys flow.
    Update(String),
}

/// One reason Genesys gave for refusing a message (WIT `failure-reason`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureReason {
    /// Genesys's reason code, e.g. `MediaTypeNotAllowed`, when given.
    pub code: Option<String>,
    /// Genesys's explanation.
    pub message: String,
}

/// A user message Genesys could not deliver (WIT `user-message-failure`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserMessageFailure {
    /// The message's Genesys id (`channel.messageId`).
    pub message_id: String,
    /// Its text or caption (the first 200 characters), when still known.
    pub text: Option<String>,
    /// Its file, when it was an attachment still known.
    pub attachment: Option<Attachment>,
    /// Why, as Genesys says.
    pub reasons: Vec<FailureReason>,
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
    /// One of the user's messages did not reach the agent.
    UserMessageFailed(UserMessageFailure),
}

/// Something the host should know that is not an error (WIT `warning`).
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// An attribute was left out of the participant data (named by its key); the handover
    /// went on.
    AttributeDropped(String),
    /// The Custom Attributes were JSON but not an object; none was sent.
    CustomAttributesIgnored,
    /// The agent's details could not be looked up (why); the agent is shown as unknown.
    AgentLookupFailed(String),
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

/// A Genesys queue right now (WIT `queue-figures`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueFigures {
    /// Genesys's estimated wait for a new conversation (seconds), when it has one.
    pub estimated_wait_seconds: Option<u32>,
    /// Agents on queue, whatever their routing status.
    pub agents_on_queue: u32,
    /// Agents on queue and idle: free to take a conversation now.
    pub agents_available: u32,
    /// Conversations of the queue being handled now.
    pub interacting: u32,
}
