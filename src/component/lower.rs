//! The hooks' result, `result<outcome, error>`, written in the canonical ABI by hand, once.
//! wit-bindgen writes this lowering into every export that returns it (six copies, about
//! 20 KB of the component); the shims in `exports.rs` call this one instead. wasm32 only:
//! every pointer and length is a 32-bit word, and every type below is 4-aligned, so each
//! field is one or more words (a discriminant is a byte with three bytes of padding).

use crate::model as m;
use std::cell::UnsafeCell;

/// Words of `result<outcome, error>`: the discriminant, then the larger payload (outcome).
const RESULT_WORDS: usize = 19;
/// Words of one `action` element: the discriminant, then the largest case
/// (`agent-attachment`, 18 words).
const ACTION_WORDS: usize = 19;
/// Words of one `warning` element.
const WARNING_WORDS: usize = 3;
/// Words of one `choice` element.
const CHOICE_WORDS: usize = 4;
/// Words of one `failure-reason` element.
const REASON_WORDS: usize = 5;

/// What the return area points into, kept whole until the host's post-return call: the
/// value itself (its strings) and the arrays of its lists.
struct Lowered {
    area: [u32; RESULT_WORDS],
    _value: Result<m::Outcome, m::Error>,
    _lists: Vec<Vec<u32>>,
}

struct Last(UnsafeCell<Option<Lowered>>);

// SAFETY: a component instance runs on one thread (wasm32-wasip2 has none other), and the
// host makes one export call at a time, so the slot is never reached concurrently.
unsafe impl Sync for Last {}

static LAST: Last = Last(UnsafeCell::new(None));

/// Writes words into one record; lists go to arrays of their own, kept in `lists`.
struct Writer<'a> {
    lists: &'a mut Vec<Vec<u32>>,
}

fn ptr<T>(p: *const T) -> u32 {
    p as usize as u32
}

impl Writer<'_> {
    fn string(&mut self, at: &mut [u32], s: &str) {
        at[0] = ptr(s.as_ptr());
        at[1] = s.len() as u32;
    }

    fn opt_string(&mut self, at: &mut [u32], s: Option<&String>) {
        if let Some(s) = s {
            at[0] = 1;
            self.string(&mut at[1..], s);
        }
    }

    /// A list of `n` elements of `words` words each, filled by `each(writer, element, i)`.
    fn list(
        &mut self,
        at: &mut [u32],
        n: usize,
        words: usize,
        mut each: impl FnMut(&mut Self, &mut [u32], usize),
    ) {
        let mut array = vec![0u32; n * words];
        for (i, element) in array.chunks_mut(words.max(1)).enumerate().take(n) {
            each(self, element, i);
        }
        at[0] = ptr(array.as_ptr());
        at[1] = n as u32;
        // The array's heap buffer does not move when the Vec does.
        self.lists.push(array);
    }

    fn agent(&mut self, at: &mut [u32], a: Option<&m::AgentInfo>) {
        if let Some(a) = a {
            at[0] = 1;
            self.string(&mut at[1..], &a.name);
            self.opt_string(&mut at[3..], a.avatar_url.as_ref());
        }
    }

    fn attachment(&mut self, at: &mut [u32], a: &m::Attachment) {
        self.string(at, &a.url);
        self.string(&mut at[2..], &a.mime_type);
        self.opt_string(&mut at[4..], a.file_name.as_ref());
    }

    fn status(&mut self, at: &mut [u32], s: &m::HandoverStatus) {
        use m::HandoverStatus as S;
        let (case, payload) = at.split_at_mut(1);
        case[0] = match s {
            S::Queued => 0,
            S::AlreadyInProgress => 1,
            S::AgentJoined(a) => {
                self.agent(payload, a.as_ref());
                2
            }
            S::Transferred => 3,
            S::Ended(r) => {
                payload[0] = match r {
                    m::EndReason::AgentEnded => 0,
                    m::EndReason::CustomerEnded => 1,
                    m::EndReason::UserLeft => 2,
                    m::EndReason::BotClosed => 3,
                    m::EndReason::Inactivity => 4,
                    m::EndReason::Error => 5,
                };
                4
            }
            S::Update(text) => {
                self.string(payload, text);
                5
            }
        };
    }

    fn action(&mut self, at: &mut [u32], a: &m::Action) {
        use m::Action as A;
        let (case, p) = at.split_at_mut(1);
        case[0] = match a {
            A::SendText(x) => {
                self.string(p, &x.message_id);
                self.string(&mut p[2..], &x.text);
                self.agent(&mut p[4..], x.agent.as_ref());
                0
            }
            A::SendAttachment(x) => {
                self.string(p, &x.message_id);
                self.attachment(&mut p[2..], &x.attachment);
                self.opt_string(&mut p[9..], x.caption.as_ref());
                self.agent(&mut p[12..], x.agent.as_ref());
                1
            }
            A::SendChoices(x) => {
                self.string(p, &x.message_id);
                self.string(&mut p[2..], &x.text);
                self.list(&mut p[4..], x.choices.len(), CHOICE_WORDS, |w, e, i| {
                    w.string(e, &x.choices[i].label);
                    w.string(&mut e[2..], &x.choices[i].value);
                });
                self.string(&mut p[6..], &x.fallback);
                self.agent(&mut p[8..], x.agent.as_ref());
                2
            }
            A::AgentTyping => 3,
            A::Status(s) => {
                self.status(p, s);
                4
            }
            A::UserMessageFailed(f) => {
                self.string(p, &f.message_id);
                self.opt_string(&mut p[2..], f.text.as_ref());
                if let Some(a) = &f.attachment {
                    p[5] = 1;
                    self.attachment(&mut p[6..], a);
                }
                self.list(&mut p[13..], f.reasons.len(), REASON_WORDS, |w, e, i| {
                    let r = &f.reasons[i];
                    w.opt_string(e, r.code.as_ref());
                    w.string(&mut e[3..], &r.message);
                });
                5
            }
        };
    }

    fn warning(&mut self, at: &mut [u32], w: &m::Warning) {
        use m::Warning as W;
        at[0] = match w {
            W::UnsignedWebhookAccepted => 0,
            W::Duplicate => 1,
            W::UnsupportedIgnored => 2,
            W::BotMessageDropped => 3,
            W::EventIgnored => 4,
            W::NoOpenHandover => 5,
            W::DeliveryPending => 6,
            W::UnsafeUrlDropped => 7,
            W::AttributeDropped(k) => {
                self.string(&mut at[1..], k);
                8
            }
            W::CustomAttributesIgnored => 9,
            W::AgentLookupFailed(r) => {
                self.string(&mut at[1..], r);
                10
            }
        };
    }

    fn outcome(&mut self, at: &mut [u32], o: &m::Outcome) {
        self.opt_string(at, o.session_id.as_ref());
        self.opt_string(&mut at[3..], o.user_id.as_ref());
        if let Some(g) = &o.genesys {
            at[6] = 1;
            self.string(&mut at[7..], &g.integration_id);
            self.string(&mut at[9..], &g.conversation_id);
        }
        self.list(&mut at[11..], o.actions.len(), ACTION_WORDS, |w, e, i| {
            w.action(e, &o.actions[i]);
        });
        self.opt_string(&mut at[13..], o.delivery_key.as_ref());
        self.list(&mut at[16..], o.warnings.len(), WARNING_WORDS, |w, e, i| {
            w.warning(e, &o.warnings[i]);
        });
    }

    fn error(&mut self, at: &mut [u32], e: &m::Error) {
        use m::Error as E;
        let (case, p) = at.split_at_mut(1);
        case[0] = match e {
            E::Config(s) => {
                self.string(p, s);
                0
            }
            E::Auth(s) => {
                self.string(p, s);
                1
            }
            E::Api(a) => {
                p[0] = u32::from(a.status);
                self.string(&mut p[1..], &a.code);
                self.string(&mut p[3..], &a.message);
                2
            }
            E::Transport(s) => {
                self.string(p, s);
                3
            }
            E::InvalidInput(s) => {
                self.string(p, s);
                4
            }
            E::BadSignature(sp) => {
                p[0] = match sp {
                    m::SignatureProblem::Missing => 0,
                    m::SignatureProblem::Malformed => 1,
                    m::SignatureProblem::Mismatch => 2,
                };
                5
            }
            E::UnknownConversation(s) => {
                self.string(p, s);
                6
            }
            E::Storage(s) => {
                self.string(p, s);
                7
            }
        };
    }
}

/// Lower `result` into the return area and return its address; the value stays alive
/// until [`release`] (the export's post-return) or the next call.
pub(super) fn result(result: Result<m::Outcome, m::Error>) -> *mut u8 {
    let mut lists = Vec::new();
    let mut area = [0u32; RESULT_WORDS];
    let mut w = Writer { lists: &mut lists };
    match &result {
        Ok(o) => w.outcome(&mut area[1..], o),
        Err(e) => {
            area[0] = 1;
            w.error(&mut area[1..], e);
        }
    }
    // SAFETY: see `Last`; nothing else borrows the slot while an export runs.
    let slot = unsafe { &mut *LAST.0.get() };
    let lowered = slot.insert(Lowered {
        area,
        _value: result,
        _lists: lists,
    });
    lowered.area.as_mut_ptr().cast()
}

/// Free what the last [`result`] kept (the host has read it).
pub(super) fn release() {
    // SAFETY: see `Last`.
    unsafe { *LAST.0.get() = None };
}
