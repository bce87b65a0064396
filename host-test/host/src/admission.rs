//! Admission of a tenant's hook calls: at most `max-concurrent-calls` run at once; a call
//! past them waits in a bounded queue (`max-queued-calls`, each at most
//! `max-queue-wait-ms`) for the first slot freed, in the order the calls came, and is
//! refused only when the queue is full (at once) or its wait ran out. A queued call holds
//! no thread and no store connection: the threads calls run on follow the machine's cores
//! and the store's connections the backend (one multiplexed Redis connection), not the
//! number of calls.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How many calls of one tenant may run at once, the permits of those running, and the
/// bounded queue of calls waiting for one.
pub struct CallLimit {
    /// The tenant file's `max-concurrent-calls`.
    pub max: usize,
    /// One permit per running call; a permit freed goes to the call that waited longest.
    pub running: Arc<Semaphore>,
    /// The tenant file's `max-queued-calls`.
    pub max_queued: usize,
    /// The tenant file's `max-queue-wait-ms`.
    pub max_wait: Duration,
    /// Calls waiting for a permit now.
    queued: AtomicUsize,
}

/// Why a call was refused without running (HTTP 503 with `Retry-After`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Every slot was taken and the queue was full (or the tenant has none): at once.
    QueueFull,
    /// The call waited `max-queue-wait-ms` in the queue without a slot coming free.
    WaitRanOut,
    /// The tenant had a slot, but every instance of the replica (`--max-instances`) was
    /// in use for the call's `max-queue-wait-ms`.
    InstancesInUse,
}

impl Refused {
    /// The `reason` label of `handover_calls_refused_busy`.
    pub fn label(self) -> &'static str {
        match self {
            Refused::QueueFull => "queue-full",
            Refused::WaitRanOut => "queue-wait",
            Refused::InstancesInUse => "instances",
        }
    }
}

/// A call's place in the queue; it leaves the queue when the place is dropped (admitted,
/// refused, or abandoned by its request).
pub struct Place<'a> {
    limit: &'a CallLimit,
}

impl Place<'_> {
    /// Wait for the first slot freed after the calls queued before this one, within
    /// `max-queue-wait-ms`.
    pub async fn wait(self) -> Result<OwnedSemaphorePermit, Refused> {
        let limit = self.limit;
        match tokio::time::timeout(limit.max_wait, limit.running.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            // The semaphore is never closed; a wait that ends without a permit ran out.
            Ok(Err(_)) | Err(_) => Err(Refused::WaitRanOut),
        }
    }
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        self.limit.queued.fetch_sub(1, Ordering::SeqCst);
    }
}

impl CallLimit {
    /// At most `max` running (at least 1), `max_queued` waiting, each at most `max_wait`.
    pub fn new(max: usize, max_queued: usize, max_wait: Duration) -> Self {
        let max = max.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            max,
            running: Arc::new(Semaphore::new(max)),
            max_queued,
            max_wait,
            queued: AtomicUsize::new(0),
        }
    }

    pub(crate) fn same_settings(&self, other: &CallLimit) -> bool {
        (self.max, self.max_queued, self.max_wait) == (other.max, other.max_queued, other.max_wait)
    }

    /// Calls waiting for a slot now.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }

    /// A free slot, at once, if there is one (never one a queued call is owed).
    pub fn try_now(&self) -> Option<OwnedSemaphorePermit> {
        self.running.clone().try_acquire_owned().ok()
    }

    /// A place in the queue, if it has room; [`Refused::QueueFull`] otherwise.
    pub fn queue(&self) -> Result<Place<'_>, Refused> {
        self.queued
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |q| {
                (q < self.max_queued).then_some(q + 1)
            })
            .map_err(|_| Refused::QueueFull)?;
        Ok(Place { limit: self })
    }

    /// A slot for one call: at once if one is free, else through the queue. The second
    /// value says whether the call waited.
    pub async fn admit(&self) -> Result<(OwnedSemaphorePermit, bool), Refused> {
        match self.try_now() {
            Some(permit) => Ok((permit, false)),
            None => Ok((self.queue()?.wait().await?, true)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{CallLimit, Refused};
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn past_the_limit_calls_queue_in_order_and_a_full_queue_refuses_at_once() {
        let limit = Arc::new(CallLimit::new(1, 2, Duration::from_secs(30)));
        let (running, waited) = limit.admit().await.unwrap();
        assert!(!waited);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut queued = Vec::new();
        for i in 0..2 {
            let (queue, tx) = (limit.clone(), tx.clone());
            queued.push(tokio::spawn(async move {
                let (permit, waited) = queue.admit().await.unwrap();
                tx.send((i, waited)).unwrap();
                drop(permit);
            }));
            while limit.queued() < i + 1 {
                tokio::task::yield_now().await;
            }
        }
        // Both places taken: the next call is refused without waiting.
        assert_eq!(limit.admit().await.err(), Some(Refused::QueueFull));
        drop(running);
        for q in queued {
            q.await.unwrap();
        }
        assert_eq!(rx.recv().await, Some((0, true)));
        assert_eq!(rx.recv().await, Some((1, true)));
        assert_eq!(limit.queued(), 0);
        assert!(
            !limit.admit().await.unwrap().1,
            "a free slot is taken at once"
        );
    }

    #[tokio::test]
    async fn a_queued_call_is_refused_when_its_wait_runs_out_and_no_queue_refuses_at_once() {
        let limit = CallLimit::new(1, 1, Duration::from_millis(50));
        let _running = limit.admit().await.unwrap();
        assert_eq!(limit.admit().await.err(), Some(Refused::WaitRanOut));
        assert_eq!(limit.queued(), 0, "the refused call left the queue");
        let none = CallLimit::new(1, 0, Duration::from_secs(30));
        let _running = none.admit().await.unwrap();
        assert_eq!(none.admit().await.err(), Some(Refused::QueueFull));
        assert_eq!(Refused::QueueFull.label(), "queue-full");
        assert_eq!(Refused::WaitRanOut.label(), "queue-wait");
    }

    #[tokio::test]
    async fn a_call_abandoned_while_queued_leaves_the_queue() {
        let limit = CallLimit::new(1, 1, Duration::from_secs(30));
        let _running = limit.admit().await.unwrap();
        let waiting = tokio::time::timeout(Duration::from_millis(20), limit.admit()).await;
        assert!(waiting.is_err(), "still queued when abandoned");
        assert_eq!(limit.queued(), 0);
    }
}
