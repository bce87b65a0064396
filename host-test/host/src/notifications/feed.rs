//! One tenant's notification channels: which topics each holds, its socket reader, and the
//! rules that keep them right — add what opened, drop what ended, fill a channel up to
//! Genesys's 1 000 topics before opening another, replace a channel whose socket ended or
//! whose 24 hours are nearly up (a new channel, every topic, then the old reader stops).

use super::socket::{self, Ended};
use crate::egress::Egress;
use crate::genesys_api::{Channel, GenesysApi};
use crate::tenants::Loaded;
use anyhow::Result;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Topics one channel may hold (Genesys's limit).
pub const TOPICS_PER_CHANNEL: usize = 1000;
/// A channel this close to its expiry is replaced.
pub const RENEW_BEFORE: Duration = Duration::from_secs(3600);

/// The topics of `conversations` for the tenant's topic kinds.
pub fn topics(conversations: &[String], kinds: &[String]) -> BTreeSet<String> {
    conversations
        .iter()
        .flat_map(|c| {
            kinds
                .iter()
                .map(move |k| format!("v2.detail.events.conversation.{c}.{k}"))
        })
        .collect()
}

struct Open {
    channel: Channel,
    topics: BTreeSet<String>,
    reader: JoinHandle<()>,
    /// Set by the reader when its socket ended.
    ended: Arc<Mutex<Option<Ended>>>,
}

impl Drop for Open {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// A tenant's channels and sockets.
pub struct Feed {
    api: GenesysApi,
    egress: Egress,
    channels: Vec<Open>,
    events: Option<mpsc::Sender<Vec<u8>>>,
    /// Channels replaced so far (socket ended or expiry near).
    pub replaced: u64,
}

impl Feed {
    /// A feed for a tenant, with the tenant's credentials.
    pub fn new(loaded: &Loaded, egress: Egress) -> Result<Self> {
        Ok(Self {
            api: GenesysApi::new(&loaded.tenant.config, egress.clone())?,
            egress,
            channels: Vec::new(),
            events: None,
            replaced: 0,
        })
    }

    /// Where the sockets' event frames go.
    pub fn with_events(mut self, events: mpsc::Sender<Vec<u8>>) -> Self {
        self.events = Some(events);
        self
    }

    /// Topics subscribed now, over every channel.
    pub fn subscribed(&self) -> BTreeSet<String> {
        self.channels
            .iter()
            .flat_map(|c| c.topics.iter().cloned())
            .collect()
    }

    /// A new channel subscribed to `topics`, its socket being read.
    async fn open(&self, topics: BTreeSet<String>) -> Result<Open> {
        let channel = self.api.create_channel().await?;
        if !topics.is_empty() {
            let list: Vec<String> = topics.iter().cloned().collect();
            self.api.subscribe(&channel.id, &list, true).await?;
        }
        let ended = Arc::new(Mutex::new(None));
        let (egress, uri, flag) = (
            self.egress.clone(),
            channel.connect_uri.clone(),
            ended.clone(),
        );
        let events = self.events.clone().expect("a feed has an event channel");
        let id = channel.id.clone();
        let reader = tokio::spawn(async move {
            let why = socket::read(&egress, &uri, events).await;
            tracing::info!(channel = %id, why = ?why, "notification socket ended");
            *flag.lock().unwrap() = Some(why);
        });
        Ok(Open {
            channel,
            topics,
            reader,
            ended,
        })
    }

    /// Bring the channels in line with `wanted`.
    pub async fn sync(&mut self, wanted: &BTreeSet<String>) -> Result<()> {
        // Replace channels whose socket ended or whose day is nearly over.
        for i in 0..self.channels.len() {
            let ended = self.channels[i].ended.lock().unwrap().clone();
            let expiring = self.channels[i].channel.expires <= Instant::now() + RENEW_BEFORE;
            if ended.is_some() || expiring {
                let keep: BTreeSet<String> = self.channels[i]
                    .topics
                    .intersection(wanted)
                    .cloned()
                    .collect();
                let fresh = self.open(keep).await?;
                let old = std::mem::replace(&mut self.channels[i], fresh);
                // The old channel lives on at Genesys until it expires: leave it empty.
                if let Err(e) = self.api.unsubscribe_all(&old.channel.id).await {
                    tracing::debug!(channel = %old.channel.id, error = %format!("{e:#}"), "old channel not emptied");
                }
                self.replaced += 1;
            }
        }
        // Drop topics of handovers that ended (one replace per channel that changed).
        for c in &mut self.channels {
            let keep: BTreeSet<String> = c.topics.intersection(wanted).cloned().collect();
            if keep.len() != c.topics.len() {
                let list: Vec<String> = keep.iter().cloned().collect();
                self.api.subscribe(&c.channel.id, &list, true).await?;
                c.topics = keep;
            }
        }
        // A channel left without topics is closed (its reader stops with it).
        self.channels.retain(|c| !c.topics.is_empty());
        // (Its subscriptions were replaced by none above, so Genesys sends it nothing.)
        // Add the new ones: fill channels with room first, then open more.
        let have = self.subscribed();
        let mut missing: Vec<String> = wanted.difference(&have).cloned().collect();
        for c in &mut self.channels {
            if missing.is_empty() {
                break;
            }
            let room = TOPICS_PER_CHANNEL.saturating_sub(c.topics.len());
            if room == 0 {
                continue;
            }
            let batch: Vec<String> = missing.drain(..room.min(missing.len())).collect();
            self.api.subscribe(&c.channel.id, &batch, false).await?;
            c.topics.extend(batch);
        }
        while !missing.is_empty() {
            let batch: BTreeSet<String> = missing
                .drain(..TOPICS_PER_CHANNEL.min(missing.len()))
                .collect();
            let open = self.open(batch).await?;
            self.channels.push(open);
        }
        Ok(())
    }

    /// Channels open now, with their topic counts.
    pub fn channels(&self) -> Vec<(String, usize)> {
        self.channels
            .iter()
            .map(|c| (c.channel.id.clone(), c.topics.len()))
            .collect()
    }
}
