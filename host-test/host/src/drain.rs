//! The drain of a replica that is going away (Kubernetes sent `SIGTERM`): it first drains
//! (`/readyz` says 503, long-polls are handed back, new work is refused with 503 +
//! `Retry-After`, requests in flight finish), then closes (no more connections). The
//! accept loop, the routes and the timers look at it; its own module so every part can
//! hold it without importing the others.

use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{watch, Notify};

/// Where a replica is in going away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// Taking traffic.
    Serving,
    /// Finishing what it has; refusing new work.
    Draining,
    /// Closing its connections.
    Closed,
}

/// The replica's stage, and the requests it is still answering.
#[derive(Debug)]
pub struct Drain {
    tx: watch::Sender<Stage>,
    in_flight: AtomicUsize,
    idle: Notify,
}

impl Default for Drain {
    fn default() -> Self {
        Drain {
            tx: watch::Sender::new(Stage::Serving),
            in_flight: AtomicUsize::new(0),
            idle: Notify::new(),
        }
    }
}

/// A request being answered; counted until dropped.
pub struct InFlight<'a>(&'a Drain);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl Drain {
    /// Start draining (nothing happens if it has).
    pub fn start(&self) {
        self.tx.send_if_modified(|s| {
            let was = *s;
            *s = was.max(Stage::Draining);
            *s != was
        });
    }

    /// Close: every connection finishes the request in hand and closes.
    pub fn close(&self) {
        self.tx.send_replace(Stage::Closed);
    }

    /// Whether draining (or closing) has started.
    pub fn is_draining(&self) -> bool {
        *self.tx.borrow() >= Stage::Draining
    }

    /// Resolves once the stage is at least `stage` (at once if it is).
    pub async fn reached(&self, stage: Stage) {
        let mut rx = self.tx.subscribe();
        let _ = rx.wait_for(|s| *s >= stage).await;
    }

    /// Resolves once draining has started.
    pub async fn started(&self) {
        self.reached(Stage::Draining).await
    }

    /// Count a request being answered until the guard drops.
    pub fn enter(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(self)
    }

    /// Requests being answered now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Resolves once no request is being answered.
    pub async fn idle(&self) {
        loop {
            let notified = self.idle.notified();
            if self.in_flight() == 0 {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Drain, Stage};
    use std::sync::Arc;

    #[tokio::test]
    async fn stages_only_go_forward_and_waiters_wake() {
        let drain = Arc::new(Drain::default());
        assert!(!drain.is_draining());
        let waiter = tokio::spawn({
            let d = drain.clone();
            async move { d.started().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drain.start();
        waiter.await.unwrap();
        assert!(drain.is_draining());
        drain.close();
        drain.start();
        drain.reached(Stage::Closed).await;
        assert!(drain.is_draining());
    }

    #[tokio::test]
    async fn idle_waits_for_every_request_in_flight() {
        let drain = Arc::new(Drain::default());
        drain.idle().await;
        let a = drain.enter();
        let b = drain.enter();
        assert_eq!(drain.in_flight(), 2);
        let waiter = tokio::spawn({
            let d = drain.clone();
            async move { d.idle().await }
        });
        drop(a);
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(b);
        waiter.await.unwrap();
        assert_eq!(drain.in_flight(), 0);
    }
}
