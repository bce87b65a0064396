//! `keys_with_prefix` on a Redis Cluster: SCAN master by master (or only the master of
//! the prefix's slot when the prefix holds its tenant), with a cursor that names the
//! master and how far into a split batch the pages got, so any process can go on.

use super::cluster::Cluster;
use super::conn::{map_err, Failure};
use super::scan::glob_escape;
use super::tags::{self, Ns};
use super::{RedisStore, StoreError};
use ::redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use ::redis::{FromRedisValue, Value};

/// The cursor: `offset:10 | slot:14 | node:8 | scan:32`. `slot` picks the master (the
/// lowest slot it serves, or the prefix's slot), `node` is a fingerprint of its node id
/// (another id there: its SCAN starts over), `scan` is its SCAN cursor, and `offset` how
/// many keys of that SCAN batch (sorted) earlier pages returned. The rest of a split batch
/// is kept in this process for the next page; elsewhere (or later) the batch is read again
/// and its first `offset` keys skipped.
const OFFSET_SHIFT: u32 = 54;
const MAX_OFFSET: usize = (1 << 10) - 1;
const SLOT_SHIFT: u32 = 40;
const NODE_SHIFT: u32 = 32;
const SCAN_MASK: u64 = (1 << 32) - 1;
const POSITION_MASK: u64 = (1 << OFFSET_SHIFT) - 1;
/// Bounds the SCAN round trips of one page, as on one node.
const MAX_SCANS_PER_PAGE: usize = 16;
/// SCAN's COUNT at most: a batch stays far below [`MAX_OFFSET`] keys.
const MAX_COUNT: usize = 100;

/// A master and the slots it serves.
#[derive(Debug, Clone)]
struct Master {
    host: String,
    port: u16,
    id: String,
    first_slot: u16,
    ranges: Vec<(u16, u16)>,
}

impl Master {
    fn fingerprint(&self) -> u64 {
        u64::from(tags::slot(&self.id) & 0xff)
    }

    fn serves(&self, slot: u16) -> bool {
        self.ranges.iter().any(|(a, b)| (*a..=*b).contains(&slot))
    }
}

fn position(slot: u16, node: u64, scan: u64) -> u64 {
    u64::from(slot) << SLOT_SHIFT | node << NODE_SHIFT | scan
}

impl RedisStore {
    /// Up to `limit` keys (unsorted) starting at the packed `cursor` (0: the start).
    pub(super) async fn cluster_scan_page(
        &self,
        cluster: &Cluster,
        prefix: &str,
        cursor: u64,
        limit: usize,
    ) -> Result<(Vec<String>, Option<u64>), StoreError> {
        let tag = tags::kv_prefix_tag(prefix);
        let pattern = match &tag {
            // `gom:k:{tenant}kind/tenant/…*`: one slot.
            Some(_) => format!("{}*", glob_escape(&tags::key(true, Ns::Kv, prefix))),
            None => format!("{}*}}{}*", glob_escape("gom:k:{"), glob_escape(prefix)),
        };
        let offset = (cursor >> OFFSET_SHIFT) as usize;
        let cursor = cursor & POSITION_MASK;
        if offset != 0 {
            // The guard must be gone before `cluster_page_of` takes the lock again.
            let left = self.leftovers().take(offset as u16, prefix, cursor);
            if let Some((keys, next)) = left {
                return self.cluster_page_of(prefix, cursor, offset, keys, next, limit);
            }
        }
        // Keys of the first batch that earlier pages returned.
        let mut skip = offset;
        let masters = masters(cluster).await?;
        let slot = match (&tag, cursor) {
            (Some(t), _) => tags::slot(t),
            (None, 0) => masters.first().map(|m| m.first_slot).unwrap_or(0),
            (None, c) => (c >> SLOT_SHIFT) as u16,
        };
        let mut node = serving(&masters, slot)?;
        let mut scan = cursor & SCAN_MASK;
        if cursor != 0 && (cursor >> NODE_SHIFT & 0xff) != node.fingerprint() {
            // Another node serves that slot now (a failover): its SCAN starts over.
            scan = 0;
        }
        let at = |node: &Master| if tag.is_some() { slot } else { node.first_slot };
        let count = limit.clamp(16, MAX_COUNT);
        let mut page = Vec::new();
        let mut con = cluster
            .safe()
            .await
            .map_err(|f| f.into_store_error("SCAN"))?;
        for _ in 0..MAX_SCANS_PER_PAGE {
            let here = position(at(&node), node.fingerprint(), scan);
            let mut cmd = ::redis::cmd("SCAN");
            cmd.arg(scan)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(count);
            let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress {
                host: node.host.clone(),
                port: node.port,
            });
            let reply = con
                .route_command(&cmd, routing)
                .await
                .map_err(|e| map_err("SCAN", e))?;
            let (next_scan, raw): (u64, Vec<Vec<u8>>) =
                FromRedisValue::from_redis_value(&reply).map_err(|e| map_err("SCAN", e))?;
            if next_scan > SCAN_MASK {
                return Err(StoreError::Other(format!(
                    "Redis SCAN cursor {next_scan} exceeds 32 bits"
                )));
            }
            let mut batch: Vec<String> = raw
                .iter()
                .filter_map(|k| tags::kv_name(true, k))
                .filter(|k| k.starts_with(prefix))
                .collect();
            batch.sort();
            batch.dedup();
            batch.drain(..skip.min(batch.len()));
            let base = std::mem::take(&mut skip);
            // Where the listing goes on: this master's next batch, or the next master.
            let next = if next_scan != 0 {
                Some(position(at(&node), node.fingerprint(), next_scan))
            } else if tag.is_some() {
                None
            } else {
                masters
                    .iter()
                    .find(|m| m.first_slot > node.first_slot)
                    .map(|m| position(m.first_slot, m.fingerprint(), 0))
            };
            let room = limit - page.len();
            if batch.len() > room {
                let (mut rest, more) =
                    self.cluster_page_of(prefix, here, base, batch, next.unwrap_or(0), room)?;
                page.append(&mut rest);
                return Ok((page, more));
            }
            page.append(&mut batch);
            let Some(next) = next else {
                return Ok((page, None));
            };
            if page.len() == limit {
                return Ok((page, Some(next)));
            }
            if next_scan == 0 {
                node = serving(&masters, (next >> SLOT_SHIFT) as u16)?;
            }
            scan = next & SCAN_MASK;
        }
        Ok((page, Some(position(at(&node), node.fingerprint(), scan))))
    }

    /// The first `limit` of `keys` (the batch read at position `here` after its first
    /// `base` keys, going on at `next`, 0 for the end); the rest is kept for the next page.
    fn cluster_page_of(
        &self,
        prefix: &str,
        here: u64,
        base: usize,
        mut keys: Vec<String>,
        next: u64,
        limit: usize,
    ) -> Result<(Vec<String>, Option<u64>), StoreError> {
        if keys.len() <= limit {
            return Ok((keys, (next != 0).then_some(next)));
        }
        let rest = keys.split_off(limit);
        let offset = base + limit;
        if offset > MAX_OFFSET {
            return Err(StoreError::Other(format!(
                "a Redis SCAN batch holds more than {MAX_OFFSET} keys"
            )));
        }
        self.leftovers()
            .put_at(offset as u16, prefix, here, rest, next);
        Ok((keys, Some((offset as u64) << OFFSET_SHIFT | here)))
    }
}

/// The master serving `slot`.
fn serving(masters: &[Master], slot: u16) -> Result<Master, StoreError> {
    masters
        .iter()
        .find(|m| m.serves(slot))
        .cloned()
        .ok_or_else(|| {
            StoreError::Unavailable(format!("redis cluster: no master serves slot {slot}"))
        })
}

/// The masters, by the lowest slot each serves, from `CLUSTER SLOTS`.
async fn masters(cluster: &Cluster) -> Result<Vec<Master>, StoreError> {
    let mut con = cluster
        .safe()
        .await
        .map_err(|f| f.into_store_error("CLUSTER SLOTS"))?;
    let reply = con
        .route_command(
            ::redis::cmd("CLUSTER").arg("SLOTS"),
            RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random),
        )
        .await
        .map_err(|e| Failure::Redis(e).into_store_error("CLUSTER SLOTS"))?;
    let corrupt = || StoreError::Corrupt("redis gave an unexpected reply to CLUSTER SLOTS".into());
    let Value::Array(ranges) = reply else {
        return Err(corrupt());
    };
    let mut masters: Vec<Master> = Vec::new();
    for range in ranges {
        let Value::Array(parts) = range else {
            return Err(corrupt());
        };
        let (Some(start), Some(end), Some(Value::Array(node))) =
            (parts.first(), parts.get(1), parts.get(2))
        else {
            return Err(corrupt());
        };
        let start = u16::from_redis_value(start).map_err(|_| corrupt())?;
        let end = u16::from_redis_value(end).map_err(|_| corrupt())?;
        let (Some(host), Some(port), Some(id)) = (node.first(), node.get(1), node.get(2)) else {
            return Err(corrupt());
        };
        let host = String::from_redis_value(host).map_err(|_| corrupt())?;
        let port = u16::from_redis_value(port).map_err(|_| corrupt())?;
        let id = String::from_redis_value(id).map_err(|_| corrupt())?;
        match masters.iter_mut().find(|m| m.id == id) {
            Some(m) => {
                m.first_slot = m.first_slot.min(start);
                m.ranges.push((start, end));
            }
            None => masters.push(Master {
                host,
                port,
                id,
                first_slot: start,
                ranges: vec![(start, end)],
            }),
        }
    }
    masters.sort_by_key(|m| m.first_slot);
    Ok(masters)
}
