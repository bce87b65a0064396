//! The file store's streams: entries in the `queues` table, bookkeeping in `streams`, each
//! operation one write transaction (a read transaction first tells the long-poll's idle
//! rounds apart, so those write nothing).

use super::error::DbError;
use super::{unix_ms, FileStore, ENTRIES, SETS, STREAMS};
use crate::kv::stream::{millis, Entry, EntryId, Meta};
use crate::kv::StoreError;
use redb::{ReadableTable, Table};
use std::time::Duration;

type Metas<'t> = Table<'t, &'static str, (u64, u64, u64, u64, u64)>;
type Entries<'t> = Table<'t, (&'static str, u64), &'static [u8]>;

fn to_row(m: Meta) -> (u64, u64, u64, u64, u64) {
    (m.gen, m.last, m.delivered, m.lease_until, m.expires)
}

fn from_row((gen, last, delivered, lease_until, expires): (u64, u64, u64, u64, u64)) -> Meta {
    Meta {
        gen,
        last,
        delivered,
        lease_until,
        expires,
    }
}

/// The first and last sequence numbers of `stream`'s entries.
fn bounds(
    entries: &impl ReadableTable<(&'static str, u64), &'static [u8]>,
    stream: &str,
) -> Result<(Option<u64>, Option<u64>), DbError> {
    let mut range = entries.range((stream, 0u64)..=(stream, u64::MAX))?;
    let first = range.next().transpose()?.map(|(k, _)| k.value().1);
    let last = range.next_back().transpose()?.map(|(k, _)| k.value().1);
    Ok((first, last.or(first)))
}

/// Removes `stream`'s entries with sequence numbers up to `upto`.
fn remove_upto(entries: &mut Entries<'_>, stream: &str, upto: u64) -> Result<(), DbError> {
    entries.retain_in((stream, 0u64)..=(stream, upto), |_, _| false)?;
    Ok(())
}

/// The stream's bookkeeping at `now`: an expired stream's entries are removed and it
/// starts again under a later generation; entries without bookkeeping (an earlier
/// release's queue) get some. None: nothing there.
fn load(
    metas: &Metas<'_>,
    entries: &mut Entries<'_>,
    stream: &str,
    now: u64,
) -> Result<Option<Meta>, DbError> {
    let found = metas.get(stream)?.map(|v| from_row(v.value()));
    match found {
        Some(m) if m.expires > now => Ok(Some(m)),
        Some(m) => {
            remove_upto(entries, stream, u64::MAX)?;
            Ok(Some(Meta::new(now, Some(m.gen))))
        }
        None => Ok(bounds(entries, stream)?.1.map(|last| Meta {
            last,
            ..Meta::new(now, None)
        })),
    }
}

impl FileStore {
    /// See [`crate::kv::Store::stream_add`]: the check and every write in one transaction.
    pub async fn stream_add(
        &self,
        stream: &str,
        once: Option<(&str, &str)>,
        items: &[Vec<u8>],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.write(|tx| {
            if let Some((set, member)) = once {
                if tx.open_multimap_table(SETS)?.insert(set, member)? {
                    return Ok(Ok(false));
                }
            }
            let now = unix_ms();
            let mut metas = tx.open_table(STREAMS)?;
            let mut entries = tx.open_table(ENTRIES)?;
            let mut meta =
                load(&metas, &mut entries, stream, now)?.unwrap_or_else(|| Meta::new(now, None));
            for item in items {
                meta.last += 1;
                entries.insert((stream, meta.last), item.as_slice())?;
            }
            meta.expires = now.saturating_add(millis(ttl));
            metas.insert(stream, to_row(meta))?;
            Ok(Ok(true))
        })
        .await
    }

    /// See [`crate::kv::Store::stream_read`].
    pub async fn stream_read(
        &self,
        stream: &str,
        ack: Option<EntryId>,
        max: usize,
        visibility: Duration,
        ttl: Duration,
    ) -> Result<Vec<Entry>, StoreError> {
        // Nothing to acknowledge, nothing to hand out, and the TTL not half gone (an empty
        // stream's needs no keeping): no write.
        let idle = self.read(|tx| {
            let now = unix_ms();
            let meta = tx
                .open_table(STREAMS)?
                .get(stream)?
                .map(|v| from_row(v.value()));
            let (first, _) = bounds(&tx.open_table(ENTRIES)?, stream)?;
            let fresh = |m: &Meta| m.expires >= now.saturating_add(millis(ttl) / 2);
            Ok(match meta {
                _ if ack.is_some() => false,
                None => first.is_none(),
                Some(m) if m.expires <= now => false,
                Some(_) if first.is_none() => true,
                Some(m) => (max == 0 || m.in_flight(first, now)) && fresh(&m),
            })
        })?;
        if idle {
            return Ok(Vec::new());
        }
        self.write(|tx| {
            let now = unix_ms();
            let mut metas = tx.open_table(STREAMS)?;
            let mut entries = tx.open_table(ENTRIES)?;
            let expired = metas
                .get(stream)?
                .is_some_and(|v| from_row(v.value()).expires <= now);
            let Some(mut meta) = load(&metas, &mut entries, stream, now)? else {
                return Ok(Ok(Vec::new()));
            };
            if expired {
                metas.remove(stream)?;
                return Ok(Ok(Vec::new()));
            }
            meta.expires = now.saturating_add(millis(ttl));
            if let Some(ack) = ack {
                remove_upto(&mut entries, stream, meta.ack_bound(ack))?;
                meta.acked(bounds(&entries, stream)?.0);
            }
            let (first, _) = bounds(&entries, stream)?;
            let mut batch = Vec::new();
            if max > 0 && first.is_some() && !meta.in_flight(first, now) {
                for entry in entries
                    .range((stream, 0u64)..=(stream, u64::MAX))?
                    .take(max)
                {
                    let (k, v) = entry?;
                    batch.push(Entry {
                        id: meta.id(k.value().1),
                        item: v.value().to_vec(),
                    });
                }
                if let Some(last) = batch.last() {
                    meta.handed_out(last.id.seq, now, millis(visibility));
                }
            }
            metas.insert(stream, to_row(meta))?;
            Ok(Ok(batch))
        })
        .await
    }

    /// See [`crate::kv::Store::purge_expired`]: one transaction.
    pub async fn purge_expired(&self) -> Result<usize, StoreError> {
        let now = unix_ms();
        let any = self.read(|tx| {
            for row in tx.open_table(STREAMS)?.iter()? {
                if from_row(row?.1.value()).expires <= now {
                    return Ok(true);
                }
            }
            Ok(false)
        })?;
        if !any {
            return Ok(0);
        }
        self.write(|tx| {
            let mut metas = tx.open_table(STREAMS)?;
            let mut entries = tx.open_table(ENTRIES)?;
            let mut gone = Vec::new();
            for row in metas.iter()? {
                let (k, v) = row?;
                if from_row(v.value()).expires <= now {
                    gone.push(k.value().to_string());
                }
            }
            for stream in &gone {
                remove_upto(&mut entries, stream, u64::MAX)?;
                metas.remove(stream.as_str())?;
            }
            Ok(Ok(gone.len()))
        })
        .await
    }
}
