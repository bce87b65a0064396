//! The bot side's streams on Redis: add (once per delivery key) and read with
//! acknowledgement, each one script, and the feed of adds from any replica.

use super::conn::Retry;
use super::tags::{self, Ns};
use super::{scripts, RedisStore, MAX_MS};
use crate::kv::stream::{millis, Entry, EntryId};
use crate::kv::StoreError;
use std::time::Duration;

impl RedisStore {
    /// See [`crate::kv::Store::stream_add`]: one script, atomic on the server. Repeating it
    /// after a lost reply is harmless only with `once` (the set remembers the member), so
    /// only then is it tried again.
    pub async fn stream_add(
        &self,
        stream: &str,
        once: Option<(&str, &str)>,
        items: &[Vec<u8>],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let stream_key = self.key(Ns::Stream, stream);
        let mut cmd = scripts::STREAM_ADD.cmd();
        match once {
            // The stream and its set share a slot (see `tags`); a cluster refuses a script
            // whose keys do not, so that is checked here with a clear message.
            Some((set, member)) => {
                let set_key = self.key(Ns::Set, set);
                if self.is_cluster()
                    && tags::slot_of_key(&set_key) != tags::slot_of_key(&stream_key)
                {
                    return Err(StoreError::Other(format!(
                        "redis cluster: stream {stream} and its add-once set {set} are in \
                         different hash slots (name them `kind/tenant/session`)"
                    )));
                }
                cmd.arg(2).arg(&stream_key).arg(set_key).arg(member);
            }
            None => {
                cmd.arg(1).arg(&stream_key).arg("");
            }
        }
        cmd.arg(millis(ttl).min(MAX_MS))
            .arg(&self.wake_channel)
            .arg(stream);
        for item in items {
            cmd.arg(item.as_slice());
        }
        let retry = if once.is_some() {
            Retry::Safe
        } else {
            Retry::Never
        };
        Ok(self
            .write::<i64>("stream-add", &cmd, retry, &stream_key)
            .await?
            == 1)
    }

    /// See [`crate::kv::Store::stream_adds`]: the streams the add script announced.
    pub fn stream_adds(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.feed
            .reader(&self.subscribers, self.wake_channel.clone())
    }

    /// See [`crate::kv::Store::stream_read`]: one script over the stream's consumer group
    /// (`XPENDING`, `XACK` + `XDEL`, `XAUTOCLAIM`, `XREADGROUP`). Repeating it after a
    /// lost reply loses nothing: the batch the first run handed out comes again once its
    /// visibility ends.
    pub async fn stream_read(
        &self,
        stream: &str,
        ack: Option<EntryId>,
        max: usize,
        visibility: Duration,
        ttl: Duration,
    ) -> Result<Vec<Entry>, StoreError> {
        let mut cmd = scripts::STREAM_READ.cmd();
        let stream_key = self.key(Ns::Stream, stream);
        cmd.arg(1)
            .arg(&stream_key)
            .arg(ack.map(|a| a.to_string()).unwrap_or_default())
            .arg(max.min(1000))
            .arg(millis(visibility).min(MAX_MS))
            .arg(millis(ttl).min(MAX_MS));
        // A write too: it acknowledges, deletes and hands out entries.
        let raw: Vec<(String, Vec<Vec<u8>>)> = self
            .write("stream-read", &cmd, Retry::Safe, &stream_key)
            .await?;
        raw.into_iter()
            .map(|(id, mut fields)| {
                let id = id.parse().map_err(|_| {
                    StoreError::Corrupt(format!("stream {stream}: entry id {id:?}"))
                })?;
                match (fields.len(), fields.pop()) {
                    (2, Some(item)) => Ok(Entry { id, item }),
                    _ => Err(StoreError::Corrupt(format!(
                        "stream {stream}: entry {id} is not one item"
                    ))),
                }
            })
            .collect()
    }
}
