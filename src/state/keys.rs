//! Every key the component stores, and the bucket they live in: the one place that knows
//! the layout, so a reader sees at a glance what a tenant's bucket holds and what `end`
//! must remove.

// Tenant-level caches (kept across handovers): `token`, `integration/<deployment-name>`,
// `agent/<genesys-user-id>`, `queue-status/<queue-id>` (a queue's figures, a few seconds
// fresh). Per user: `handover/<user-id>` (the record, written once),
// `claim/<user-id>` (start lease, `generation:expires-ms`) and `claim-gen/<n>/<user-id>`
// (one counter per start generation). Per Genesys conversation: `conversation/<id>`
// (→ user id). Per handover, under a fresh random handover id (`hid`, a UUID):
// `h/<hid>/activity`, `/agent`, `/transfer`, `/out/seq`, `/out/head`, `/out/<n>`,
// `/sent/<n>` (what outbox item n said, for a `Failed` receipt), `/seen/<message-id>`,
// `/seen-count`, `/seen-index/<n>`, `/agent-epoch` (transfers so far), `/joined/<epoch>`
// (counter: who announces that epoch's agent), `/joined-by/<epoch>`, `/ending`, `/ending-at`,
// `/warned/<activity-ms>` (counter: who gives the inactivity warning of the idle period that
// began then), `/warned-count`, `/warned-index/<n>`.
// Variable parts that may contain `/` (user ids, names, message ids) always come last,
// so no two key formats can produce the same key.

/// Name of the bucket the component opens (or the host's default store, when a host has
/// no named ones); the host scopes it to the tenant.
pub const BUCKET: &str = "genesys-om";

/// The cached access token.
pub const TOKEN: &str = "token";

/// The cached integration id of a deployment name.
pub fn integration(deployment_name: &str) -> String {
    format!("integration/{deployment_name}")
}

/// The cached display details of a Genesys user (an agent).
pub fn agent_cache(genesys_user_id: &str) -> String {
    format!("agent/{genesys_user_id}")
}

/// The cached figures of a Genesys queue (estimated wait, agents), with when they were
/// fetched.
pub fn queue_status(queue_id: &str) -> String {
    format!("queue-status/{queue_id}")
}

/// The handover record of a user.
pub fn handover(user_id: &str) -> String {
    format!("handover/{user_id}")
}

/// Which user a Genesys conversation belongs to.
pub fn conversation(conversation_id: &str) -> String {
    format!("conversation/{conversation_id}")
}

/// The start lease of a user: `generation:expires-ms`.
pub fn claim_owner(user_id: &str) -> String {
    format!("claim/{user_id}")
}

/// The counter of start generation `n` of a user; whoever increments it to 1 owns `n`.
pub fn claim_generation(user_id: &str, n: u64) -> String {
    format!("claim-gen/{n}/{user_id}")
}

/// The keys of one handover, all under `h/<hid>/`.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a>(pub &'a str);

impl Scope<'_> {
    fn key(&self, rest: &str) -> String {
        format!("h/{}/{rest}", self.0)
    }

    /// Last traffic (ms).
    pub fn activity(&self) -> String {
        self.key("activity")
    }

    /// The agent shown to the user.
    pub fn agent(&self) -> String {
        self.key("agent")
    }

    /// Last transfer or requeue (ms).
    pub fn transfer(&self) -> String {
        self.key("transfer")
    }

    /// Counter: sequence number of the newest outbox item.
    pub fn out_seq(&self) -> String {
        self.key("out/seq")
    }

    /// Hint: every outbox item below it is settled and cleaned.
    pub fn out_head(&self) -> String {
        self.key("out/head")
    }

    /// Outbox item `n`.
    pub fn out_item(&self, n: u64) -> String {
        self.key(&format!("out/{n}"))
    }

    /// What user message `n` of the outbox said, for a `Failed` receipt about it.
    pub fn sent(&self, n: u64) -> String {
        self.key(&format!("sent/{n}"))
    }

    /// Counter: transfers and requeues so far; each starts a new agent epoch.
    pub fn agent_epoch(&self) -> String {
        self.key("agent-epoch")
    }

    /// Counter: calls that tried to announce the agent of `epoch`; the first one does.
    pub fn joined(&self, epoch: u64) -> String {
        self.key(&format!("joined/{epoch}"))
    }

    /// Who announced the agent of `epoch` (a message id, or the `user.start` event).
    pub fn joined_by(&self, epoch: u64) -> String {
        self.key(&format!("joined-by/{epoch}"))
    }

    /// Counter: copies of a webhook message id seen.
    pub fn seen(&self, message_id: &str) -> String {
        self.key(&format!("seen/{message_id}"))
    }

    /// Counter: entries of the seen index.
    pub fn seen_count(&self) -> String {
        self.key("seen-count")
    }

    /// Seen index entry `n` (a message id), so `end` finds every `seen/` key.
    pub fn seen_index(&self, n: u64) -> String {
        self.key(&format!("seen-index/{n}"))
    }

    /// Counter: calls that tried to end the handover; the first one does.
    pub fn ending(&self) -> String {
        self.key("ending")
    }

    /// When the ending call started (ms), so a crashed one is taken over.
    pub fn ending_at(&self) -> String {
        self.key("ending-at")
    }

    /// Counter: calls that tried to warn of inactivity in the idle period that began at
    /// `activity_ms` (the last traffic); the first one does.
    pub fn warned(&self, activity_ms: u64) -> String {
        self.key(&format!("warned/{activity_ms}"))
    }

    /// Counter: entries of the warned index.
    pub fn warned_count(&self) -> String {
        self.key("warned-count")
    }

    /// Warned index entry `n` (an idle period's start), so `end` finds every `warned/` key.
    pub fn warned_index(&self, n: u64) -> String {
        self.key(&format!("warned-index/{n}"))
    }
}
