//! `keys_with_prefix` on Redis: pages made from SCAN batches, and the rest of a batch
//! that did not fit kept in this process under a token in the cursor, so no key is
//! skipped and few come twice.

use super::conn::Retry;
use super::tags::{self, Ns};
use super::{RedisStore, StoreError};
use std::collections::HashMap;
use std::sync::MutexGuard;
use std::time::{Duration, Instant};

/// Bounds the SCAN round trips of one `keys_with_prefix` call (a sparse prefix on a big
/// keyspace then returns a short page and a cursor to go on from).
const MAX_SCANS_PER_PAGE: usize = 16;
/// `keys_with_prefix` cursors: the low bits hold Redis's SCAN cursor, the high 16 bits a
/// token for the rest of a SCAN batch that did not fit in the page (see [`Leftovers`]).
const SCAN_CURSOR_BITS: u32 = 48;
const SCAN_CURSOR_MASK: u64 = (1 << SCAN_CURSOR_BITS) - 1;
/// How long, and how many, leftover SCAN batches are kept for the next page.
const LEFTOVER_TTL: Duration = Duration::from_secs(60);
const LEFTOVER_MAX: usize = 1024;

impl RedisStore {
    /// Up to `limit` keys (unsorted) from SCAN batches, starting at the packed `cursor`.
    pub(super) async fn scan_page(
        &self,
        prefix: &str,
        cursor: u64,
        limit: usize,
    ) -> Result<(Vec<String>, Option<u64>), StoreError> {
        let namespace = tags::key(false, Ns::Kv, "");
        let pattern = format!("{}{}*", glob_escape(&namespace), glob_escape(prefix));
        let count = limit.clamp(16, 1000);
        let mut scan = cursor & SCAN_CURSOR_MASK;
        let token = (cursor >> SCAN_CURSOR_BITS) as u16;
        if token != 0 {
            // The rest of the batch that started at `scan`, if this process still has it;
            // if not, that batch is read again (a few keys may come twice, none is lost).
            let left = self.leftovers().take(token, prefix, scan);
            if let Some((keys, next)) = left {
                return Ok(self.page_of(prefix, scan, keys, next, limit));
            }
        }
        let mut page = Vec::new();
        for _ in 0..MAX_SCANS_PER_PAGE {
            let mut cmd = ::redis::cmd("SCAN");
            cmd.arg(scan)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(count);
            let (next, raw): (u64, Vec<Vec<u8>>) = self.run("SCAN", &cmd, Retry::Safe).await?;
            if next > SCAN_CURSOR_MASK {
                return Err(StoreError::Other(format!(
                    "Redis SCAN cursor {next} exceeds {SCAN_CURSOR_BITS} bits"
                )));
            }
            let mut batch: Vec<String> = raw
                .iter()
                .filter_map(|k| k.strip_prefix(namespace.as_bytes()))
                .map(|k| String::from_utf8_lossy(k).into_owned())
                .collect();
            batch.sort();
            batch.dedup();
            let room = limit - page.len();
            if batch.len() > room {
                let (mut rest, more) = self.page_of(prefix, scan, batch, next, room);
                page.append(&mut rest);
                return Ok((page, more));
            }
            page.append(&mut batch);
            if next == 0 {
                return Ok((page, None));
            }
            scan = next;
            if page.len() == limit {
                break;
            }
        }
        Ok((page, Some(scan)))
    }

    /// The first `limit` of `keys` (the batch that started at SCAN cursor `scan` and went
    /// on at `next`); what does not fit is kept under a token for the next page.
    fn page_of(
        &self,
        prefix: &str,
        scan: u64,
        mut keys: Vec<String>,
        next: u64,
        limit: usize,
    ) -> (Vec<String>, Option<u64>) {
        if keys.len() <= limit {
            return (keys, (next != 0).then_some(next));
        }
        let rest = keys.split_off(limit);
        let token = self.leftovers().put(prefix, scan, rest, next);
        (keys, Some(u64::from(token) << SCAN_CURSOR_BITS | scan))
    }

    pub(super) fn leftovers(&self) -> MutexGuard<'_, Leftovers> {
        self.leftovers.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The keys of SCAN batches that did not fit in their page, by token, for the next page
/// in this process (kept for [`LEFTOVER_TTL`], at most [`LEFTOVER_MAX`]).
#[derive(Default)]
pub(super) struct Leftovers {
    next_token: u16,
    batches: HashMap<u16, Leftover>,
}

struct Leftover {
    prefix: String,
    scan: u64,
    keys: Vec<String>,
    next: u64,
    at: Instant,
}

impl Leftovers {
    fn put(&mut self, prefix: &str, scan: u64, keys: Vec<String>, next: u64) -> u16 {
        self.next_token = self.next_token.checked_add(1).unwrap_or(1);
        let token = self.next_token;
        self.put_at(token, prefix, scan, keys, next);
        token
    }

    /// Keeps `keys` under `token` (replacing what was there).
    pub(super) fn put_at(
        &mut self,
        token: u16,
        prefix: &str,
        scan: u64,
        keys: Vec<String>,
        next: u64,
    ) {
        self.batches.retain(|_, b| b.at.elapsed() < LEFTOVER_TTL);
        if self.batches.len() >= LEFTOVER_MAX {
            let oldest = self
                .batches
                .iter()
                .min_by_key(|(_, b)| b.at)
                .map(|(t, _)| *t);
            if let Some(t) = oldest {
                self.batches.remove(&t);
            }
        }
        let leftover = Leftover {
            prefix: prefix.to_string(),
            scan,
            keys,
            next,
            at: Instant::now(),
        };
        self.batches.insert(token, leftover);
    }

    /// The keys and next SCAN cursor kept under `token`, if they belong to this listing.
    pub(super) fn take(
        &mut self,
        token: u16,
        prefix: &str,
        scan: u64,
    ) -> Option<(Vec<String>, u64)> {
        let b = self.batches.remove(&token)?;
        (b.prefix == prefix && b.scan == scan && b.at.elapsed() < LEFTOVER_TTL)
            .then_some((b.keys, b.next))
    }
}

/// Escapes Redis glob characters (`* ? [ ] \`), so the text matches only itself.
pub(super) fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '^' | '-') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
