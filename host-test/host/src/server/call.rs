//! One hook call as the server runs it: the hook and its arguments, and the refusal a
//! call gets when its tenant has its maximum of calls running and queued. Routes, the sweeper and the notification
//! feeds build these; [`super::Server::run`] runs them.

use crate::bindings::types::{
    EndSignal, Error as HookError, HandoverSettings, Outcome, TranscriptEntry, UserEvent,
    UserProfile, Webhook,
};
use crate::runtime::Plugin;
use crate::tenant::Tenant;
use anyhow::Result;

/// One hook call, with its arguments.
pub enum Call {
    /// `start`.
    Start(UserProfile, Vec<TranscriptEntry>, HandoverSettings),
    /// `user-message`.
    /// The user, the event, and the bot platform's id of the turn (its `Idempotency-Key`).
    UserMessage(String, UserEvent, Option<String>),
    /// `agent-message`.
    AgentMessage(Webhook),
    /// `end`.
    End(EndSignal),
    /// `flush`.
    Flush(String),
    /// `report-delivery`: user, agent message id, delivered, reason.
    ReportDelivery(String, String, bool, Option<String>),
    /// `queue-status` (`None`: the tenant's `queue-id`); the figures go to the slot.
    QueueStatus(Option<String>, crate::runtime::FiguresSlot),
}

impl Call {
    /// The hook's name in the contract.
    pub fn hook(&self) -> &'static str {
        match self {
            Call::Start(..) => "start",
            Call::UserMessage(..) => "user-message",
            Call::AgentMessage(_) => "agent-message",
            Call::End(_) => "end",
            Call::Flush(_) => "flush",
            Call::ReportDelivery(..) => "report-delivery",
            Call::QueueStatus(..) => "queue-status",
        }
    }

    pub(super) async fn on(&self, p: &Plugin, t: &Tenant) -> Result<Result<Outcome, HookError>> {
        match self {
            Call::Start(u, lines, s) => p.start(t, u, lines, s).await,
            Call::UserMessage(u, e, turn) => p.user_message(t, u, e, turn.as_deref()).await,
            Call::AgentMessage(w) => p.agent_message(t, w).await,
            Call::End(s) => p.end(t, s).await,
            Call::Flush(u) => p.flush(t, u).await,
            Call::ReportDelivery(u, m, delivered, reason) => {
                p.report_delivery(t, u, m, *delivered, reason.as_deref())
                    .await
            }
            Call::QueueStatus(q, slot) => p.queue_status_into(t, q.as_deref(), slot).await,
        }
    }
}

/// A call refused because its tenant had `max-concurrent-calls` running and its queue was
/// full, or the call's wait in it ran out (HTTP 503 with `Retry-After`).
#[derive(Debug)]
pub struct Busy(pub crate::tenants::Refused);

impl std::fmt::Display for Busy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            crate::tenants::Refused::QueueFull => {
                f.write_str("the tenant has its maximum of calls running and queued")
            }
            crate::tenants::Refused::WaitRanOut => {
                f.write_str("no call of the tenant finished within the queue's wait")
            }
            crate::tenants::Refused::InstancesInUse => {
                f.write_str("every instance of this replica stayed in use within the queue's wait")
            }
        }
    }
}

impl std::error::Error for Busy {}
