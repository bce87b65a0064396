//! Delivery of the handover's outbox to Genesys: in order, exactly once, with any number of
//! calls delivering at the same time. Each call delivers the pending items before its own;
//! a 409 for an item means Genesys already has its message id, so whoever sent it, it is
//! delivered. The items themselves are stored by `state::outbox`.

use crate::genesys::inbound::{self, Kind};
use crate::genesys::{Client, Failure};
use crate::model::{ApiError, Error, Warning};
use crate::state::outbox::{self, Item, Refusal, Slot};
use crate::state::Handover;
use serde_json::Value;

/// Where one of this call's own items stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Own {
    Pending,
    Done,
    Refused,
}

/// One pass over the outbox, from the head hint to the last item of interest.
struct Scan<'a> {
    client: &'a Client<'a>,
    h: &'a Handover,
    own: Vec<(u64, Own)>,
    head: u64,
    /// The first item from `head` on that this pass did not see settled.
    next_head: u64,
    /// Delivered tombstones from `head` on, which the head may pass and clean.
    passed: Vec<u64>,
    /// Something is still waiting after a retryable failure.
    waiting: bool,
}

/// Queue `items` (in order) as this call's own and return their numbers. If one cannot be
/// stored, those already stored are given up, so an error means none of them is sent.
pub fn queue(
    client: &Client,
    h: &Handover,
    items: Vec<(Kind, inbound::Message)>,
) -> Result<Vec<u64>, Error> {
    let (kv, scope) = (client.env.kv, h.scope());
    let created_ms = client.env.clock.now_ms();
    // Bodies are stored as plain JSON, as earlier releases stored them, so every item
    // reads back the same; all are converted before the first is stored.
    let items = items
        .into_iter()
        .map(|(kind, body)| Ok((kind, serde_json::to_value(body)?)))
        .collect::<Result<Vec<(Kind, Value)>, serde_json::Error>>()
        .map_err(|e| Error::Storage(format!("outbox item is not JSON: {e}")))?;
    let mut numbers = Vec::new();
    for (kind, body) in items {
        let item = Item {
            kind,
            body,
            tried: false,
            created_ms,
        };
        match outbox::push(kv, scope, &item) {
            Ok(n) => numbers.push(n),
            Err(e) => {
                give_up(client, h, &numbers, &e);
                return Err(e);
            }
        }
    }
    Ok(numbers)
}

/// Deliver the outbox up to this call's own items (`own`, as [`queue`] numbered them), or
/// up to the newest item when `own` is empty (`flush`). Ok with `delivery-pending` when
/// something of interest still waits for a retry; the typed error when Genesys refused one
/// of the own items for good (none of the rest is sent then).
pub fn deliver(client: &Client, h: &Handover, own: &[u64]) -> Result<Vec<Warning>, Error> {
    let mut scan = Scan {
        client,
        h,
        own: own.iter().map(|&n| (n, Own::Pending)).collect(),
        head: 1,
        next_head: 1,
        passed: Vec::new(),
        waiting: false,
    };
    let result = scan.run();
    scan.advance_head();
    match result {
        Ok(()) => Ok(scan.warnings()),
        Err(e) => scan.fail(e),
    }
}

/// Best effort: mark `numbers` refused, so no later pass sends what an error answered.
fn give_up(client: &Client, h: &Handover, numbers: &[u64], why: &Error) {
    let r = Refusal {
        status: 0,
        code: "not-sent".into(),
        message: why.describe(),
    };
    for &n in numbers {
        let _ = outbox::put(client.env.kv, h.scope(), n, &Slot::Refused(r.clone()));
    }
}

impl Scan<'_> {
    fn run(&mut self) -> Result<(), Error> {
        let (kv, scope) = (self.client.env.kv, self.h.scope());
        // A flush delivers up to the newest item: read with the head.
        let (head, last) = match self.own.last() {
            Some(&(n, _)) => (outbox::head(kv, scope)?, n),
            None => outbox::head_and_seq(kv, scope)?,
        };
        self.head = head;
        self.next_head = head;
        // Own items below the head were settled by others; they are still checked.
        let first = self
            .own
            .first()
            .map_or(self.head, |&(n, _)| n.min(self.head));
        for n in first..=last {
            let settled = self.visit(n)?;
            if n >= self.head && self.next_head == n {
                if let Some(done) = settled {
                    self.next_head = n + 1;
                    if done {
                        self.passed.push(n);
                    }
                }
            }
            if self.waiting {
                break;
            }
        }
        Ok(())
    }

    /// Look at item `n` and deliver it if pending. `Some(true)`: delivered; `Some(false)`:
    /// refused; `None`: not settled (absent, or still waiting).
    fn visit(&mut self, n: u64) -> Result<Option<bool>, Error> {
        let (kv, scope) = (self.client.env.kv, self.h.scope());
        match outbox::slot(kv, scope, n)? {
            // Settled and cleaned by another call, or not stored yet by the call that
            // numbered it (which then delivers it itself).
            None => {
                self.mark(n, Own::Done);
                Ok(None)
            }
            Some(Slot::Done) => {
                self.mark(n, Own::Done);
                Ok(Some(true))
            }
            Some(Slot::Refused(r)) if self.is_own(n) => {
                self.mark(n, Own::Refused);
                Err(Error::Api(ApiError::from(&r)))
            }
            Some(Slot::Refused(_)) => Ok(Some(false)),
            Some(Slot::Pending(item)) => self.send(n, item),
        }
    }

    fn send(&mut self, n: u64, item: Item) -> Result<Option<bool>, Error> {
        let (kv, scope) = (self.client.env.kv, self.h.scope());
        let sent = self
            .client
            .send_inbound(&self.h.integration_id, item.kind, &item.body, true);
        let Err(e) = sent else {
            self.mark(n, Own::Done);
            outbox::put(kv, scope, n, &Slot::Done)?;
            return Ok(Some(true));
        };
        match (Failure::of(&e), &e) {
            (Failure::Retryable, _) => {
                if !item.tried {
                    let tried = Item {
                        tried: true,
                        ..item
                    };
                    let _ = outbox::put(kv, scope, n, &Slot::Pending(tried));
                }
                self.waiting = true;
                Ok(None)
            }
            (Failure::Permanent, Error::Api(api)) => {
                outbox::put(kv, scope, n, &Slot::Refused(Refusal::from(api)))?;
                if self.is_own(n) {
                    self.mark(n, Own::Refused);
                    return Err(e);
                }
                Ok(Some(false))
            }
            _ => Err(e),
        }
    }

    fn is_own(&self, n: u64) -> bool {
        self.own.iter().any(|&(m, _)| m == n)
    }

    fn mark(&mut self, n: u64, state: Own) {
        if let Some(o) = self.own.iter_mut().find(|(m, _)| *m == n) {
            o.1 = state;
        }
    }

    fn warnings(&self) -> Vec<Warning> {
        let own_waiting = self.own.iter().any(|&(_, s)| s == Own::Pending);
        if own_waiting || (self.own.is_empty() && self.waiting) {
            vec![Warning::DeliveryPending]
        } else {
            Vec::new()
        }
    }

    /// The pass ended with an error: when every own item got through it is only
    /// bookkeeping (the next pass re-sends, Genesys answers 409); otherwise the own items
    /// not yet delivered are given up and the error is the answer.
    fn fail(&self, e: Error) -> Result<Vec<Warning>, Error> {
        if !self.own.is_empty() && self.own.iter().all(|&(_, s)| s == Own::Done) {
            return Ok(Vec::new());
        }
        let left: Vec<u64> = self
            .own
            .iter()
            .filter(|&&(_, s)| s == Own::Pending)
            .map(|&(n, _)| n)
            .collect();
        give_up(self.client, self.h, &left, &e);
        Err(e)
    }

    /// Best effort: move the head hint over what this pass saw settled and clean the
    /// delivered tombstones it passed. Refused tombstones stay (their owner may still have
    /// to read them) until `end`; the head never passes an absent or pending item.
    fn advance_head(&self) {
        let (kv, scope) = (self.client.env.kv, self.h.scope());
        if self.next_head <= self.head {
            return;
        }
        let current = outbox::head(kv, scope).unwrap_or(self.head);
        if self.next_head > current && outbox::set_head(kv, scope, self.next_head).is_err() {
            return;
        }
        for &n in &self.passed {
            let _ = outbox::clean(kv, scope, n);
        }
    }
}
