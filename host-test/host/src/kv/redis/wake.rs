//! The feed of added streams over Redis pub/sub, so a long-poll on one replica wakes when
//! another replica adds to its stream instead of reading Redis over and over: the add
//! script publishes the stream's name on [`channel`], and one subscription per process
//! passes the names on. A broken subscription is made again; what was published meanwhile
//! is lost (the bus reads again now and then anyway).

use ::redis::Client;
use futures_util::StreamExt;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::sync::broadcast;

/// Stream names the subscription has seen, for any number of readers.
pub(super) struct Feed {
    tx: broadcast::Sender<String>,
    started: OnceLock<()>,
}

/// The channel of a database's adds (pub/sub spans every database of a server).
pub(super) fn channel(db: i64) -> String {
    format!("{}wake:{db}", super::PREFIX)
}

impl Feed {
    pub(super) fn new() -> Feed {
        Feed {
            tx: broadcast::channel(4096).0,
            started: OnceLock::new(),
        }
    }

    /// A reader of the feed; the first one starts the subscription (in the current Tokio
    /// runtime, for the life of the process).
    pub(super) fn reader(&self, nodes: &[Client], channel: String) -> broadcast::Receiver<String> {
        let rx = self.tx.subscribe();
        self.started.get_or_init(|| {
            tokio::spawn(follow(nodes.to_vec(), channel, self.tx.clone()));
        });
        rx
    }
}

/// Subscribe to `channel` on one of `nodes` and pass every stream name published there on;
/// made again a second after it breaks, on the next node.
async fn follow(nodes: Vec<Client>, channel: String, tx: broadcast::Sender<String>) {
    if nodes.is_empty() {
        return;
    }
    for client in nodes.iter().cycle() {
        let connect = tokio::time::timeout(Duration::from_secs(2), client.get_async_pubsub());
        if let Ok(Ok(mut pubsub)) = connect.await {
            if pubsub.subscribe(&channel).await.is_ok() {
                let mut messages = pubsub.on_message();
                while let Some(m) = messages.next().await {
                    if let Ok(stream) = m.get_payload::<String>() {
                        let _ = tx.send(stream);
                    }
                }
            }
            tracing::warn!("the Redis subscription for stream adds broke; making it again");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use crate::kv::Store;
    use handover_testkit::RedisServer;
    use std::time::Duration;

    /// Adds through `a` until `b`'s feed carries a name (the subscription is made in the
    /// background); that name. `also` is added to first each round, and must not come.
    async fn first_announced(a: &Store, b: &Store, also: Option<&Store>) -> String {
        let mut feed = b.stream_adds().expect("Redis has a feed");
        let ttl = Duration::from_secs(60);
        let item = [b"x".to_vec()];
        tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                if let Some(other) = also {
                    other
                        .stream_add("bus/t/elsewhere", None, &item, ttl)
                        .await
                        .unwrap();
                }
                a.stream_add("bus/t/s1", None, &item, ttl).await.unwrap();
                let next = tokio::time::timeout(Duration::from_millis(100), feed.recv());
                if let Ok(Ok(name)) = next.await {
                    return name;
                }
            }
        })
        .await
        .expect("an add was announced within 20 s")
    }

    /// Two stores on one Redis, as two replicas have: an add through one is announced to
    /// the other's feed, by stream name; an add in another database is not.
    #[tokio::test]
    async fn an_add_through_one_store_reaches_the_other_s_feed() {
        let redis = RedisServer::for_test();
        let (a, b) = (
            Store::open_redis(&redis.url()).await.unwrap(),
            Store::open_redis(&redis.url()).await.unwrap(),
        );
        let other_db = Store::open_redis(&format!("{}/1", redis.url()))
            .await
            .unwrap();
        assert_eq!(first_announced(&a, &b, Some(&other_db)).await, "bus/t/s1");
        assert!(Store::memory().stream_adds().is_none());
    }

    /// The same on a Redis Cluster: the add runs on the stream's master, and the feed,
    /// subscribed on a seed node, hears it (pub/sub spans the cluster).
    #[tokio::test]
    async fn on_a_cluster_an_add_reaches_the_other_s_feed() {
        let c = super::super::cluster_tests::cluster(0);
        let a = Store::open(&c.spec()).await.unwrap();
        let b = Store::open(&c.spec()).await.unwrap();
        assert_eq!(first_announced(&a, &b, None).await, "bus/t/s1");
    }
}
