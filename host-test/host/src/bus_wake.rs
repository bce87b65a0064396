//! Who waits for which session's stream, so an added action wakes only that session's
//! long-polls: the ones on this replica at once, and those on other replicas through the
//! store's feed of added streams (Redis pub/sub). A long-poll that misses a wake (pub/sub
//! is at most once) still finds its actions at its next re-read.

use prometheus_client::metrics::gauge::Gauge;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, Notify};

/// The long-polls waiting on this replica, by stream.
#[derive(Default)]
pub struct Waiters {
    by_stream: Mutex<HashMap<String, Arc<Notify>>>,
    /// How many wait (all streams).
    count: Gauge,
}

/// One long-poll's registration; gone (and the stream's entry with the last one) on drop.
pub struct Waiting {
    waiters: Arc<Waiters>,
    stream: String,
    notify: Arc<Notify>,
}

impl Waiting {
    /// Resolves when the stream is woken after this call began (wakes are not stored:
    /// create the future before reading the stream, as `Notify::notified` documents).
    pub fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.notify.notified()
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.waiters.count.dec();
        let mut map = self
            .waiters
            .by_stream
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // The map's and this registration's references: this was the last waiter.
        if Arc::strong_count(&self.notify) == 2 {
            map.remove(&self.stream);
        }
    }
}

impl Waiters {
    /// No waiters yet; `count` counts them.
    pub fn new(count: Gauge) -> Waiters {
        Waiters {
            by_stream: Mutex::default(),
            count,
        }
    }

    /// Register a long-poll of `stream`.
    pub fn wait(self: &Arc<Self>, stream: &str) -> Waiting {
        self.count.inc();
        let mut map = self.by_stream.lock().unwrap_or_else(|e| e.into_inner());
        let notify = map.entry(stream.to_string()).or_default().clone();
        Waiting {
            waiters: self.clone(),
            stream: stream.to_string(),
            notify,
        }
    }

    /// Wake the long-polls of `stream` on this replica.
    pub fn wake(&self, stream: &str) {
        let map = self.by_stream.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get(stream) {
            n.notify_waiters();
        }
    }

    /// Wake every long-poll on this replica (wakes were lost: each re-reads its stream).
    pub fn wake_all(&self) {
        let map = self.by_stream.lock().unwrap_or_else(|e| e.into_inner());
        for n in map.values() {
            n.notify_waiters();
        }
    }

    /// Streams with a long-poll waiting.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.by_stream.lock().map_or(0, |m| m.len())
    }

    /// Whether no long-poll waits.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Wake the long-polls of every stream `feed` names, until the feed closes.
    pub fn follow(self: Arc<Self>, mut feed: broadcast::Receiver<String>) {
        tokio::spawn(async move {
            loop {
                match feed.recv().await {
                    Ok(stream) => self.wake(&stream),
                    Err(broadcast::error::RecvError::Lagged(_)) => self.wake_all(),
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::Waiters;
    use std::sync::Arc;

    #[tokio::test]
    async fn a_wake_reaches_only_its_stream_s_waiters_and_entries_go_with_the_last() {
        let w = Arc::new(Waiters::default());
        let a1 = w.wait("a");
        let a2 = w.wait("a");
        let b = w.wait("b");
        assert_eq!((w.len(), w.count.get()), (2, 3));
        {
            let (na1, na2, nb) = (a1.notified(), a2.notified(), b.notified());
            w.wake("a");
            na1.await;
            na2.await;
            let mut nb = std::pin::pin!(nb);
            assert!(!nb.as_mut().enable(), "b was not woken");
            w.wake_all();
            nb.await;
        }
        drop(a1);
        assert_eq!(w.len(), 2, "a still has a waiter");
        drop(a2);
        drop(b);
        assert!(w.is_empty());
        assert_eq!(w.count.get(), 0);
    }
}
