//! Streams: the bot side's acknowledged queues. What every backend shares: an entry's id,
//! and the bookkeeping memory and redb keep per stream so that they behave as a Redis
//! stream read through one consumer group does (see [`super::Store::stream_read`]).

use std::fmt;
use std::str::FromStr;

/// An entry's id: increasing within its stream, never reused. Written `MS-SEQ` as Redis
/// writes stream ids (memory and redb: the stream's generation, then the sequence).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryId {
    /// Redis: the milliseconds part; memory and redb: the stream's generation.
    pub ms: u64,
    /// The sequence within `ms`.
    pub seq: u64,
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// A string that is not `MS-SEQ` with two decimal `u64`s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an action id (expected two decimal numbers joined by `-`, e.g. `1733333333333-0`)")]
pub struct BadEntryId;

impl FromStr for EntryId {
    type Err = BadEntryId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (ms, seq) = s.split_once('-').ok_or(BadEntryId)?;
        let number = |p: &str| -> Result<u64, BadEntryId> {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(BadEntryId);
            }
            p.parse().map_err(|_| BadEntryId)
        };
        Ok(EntryId {
            ms: number(ms)?,
            seq: number(seq)?,
        })
    }
}

/// One entry as read: its id and the bytes added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The entry's id; a redelivery carries the same one.
    pub id: EntryId,
    /// What was added.
    pub item: Vec<u8>,
}

/// What memory and redb keep per stream besides its entries (sequence numbers `1..`, as
/// `EntryId { ms: gen, seq }`). Times are milliseconds on the backend's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Meta {
    /// When the stream was made (a stream that expired and is made again gets a later
    /// one, so its ids are greater than any of before and an old cursor acknowledges
    /// nothing of it).
    pub gen: u64,
    /// The last sequence number given (0: none yet).
    pub last: u64,
    /// Every entry up to this sequence number has been delivered at least once; those of
    /// them still present are unacknowledged (Redis: the consumer group's pending list).
    pub delivered: u64,
    /// The batch in flight is invisible to readers until then (0: none in flight).
    pub lease_until: u64,
    /// The stream and its entries are dropped then, unless added to or read before.
    pub expires: u64,
}

impl Meta {
    /// The highest sequence number an acknowledgement up to `ack` removes: only entries
    /// delivered already can be acknowledged.
    pub fn ack_bound(&self, ack: EntryId) -> u64 {
        let upto = match ack.ms.cmp(&self.gen) {
            std::cmp::Ordering::Less => 0,
            std::cmp::Ordering::Equal => ack.seq,
            std::cmp::Ordering::Greater => u64::MAX,
        };
        upto.min(self.delivered)
    }

    /// A new stream made at `now`, after one of generation `before` (if any).
    pub fn new(now: u64, before: Option<u64>) -> Meta {
        Meta {
            gen: before.map_or(now, |b| now.max(b.saturating_add(1))),
            ..Meta::default()
        }
    }

    /// The id of sequence number `seq`.
    pub fn id(&self, seq: u64) -> EntryId {
        EntryId { ms: self.gen, seq }
    }

    /// After an acknowledgement, given the first sequence number left (if any): the lease
    /// ends once no delivered entry is left.
    pub fn acked(&mut self, first_left: Option<u64>) {
        if first_left.is_none_or(|f| f > self.delivered) {
            self.lease_until = 0;
        }
    }

    /// Whether a batch is in flight at `now`, given the first sequence number present.
    pub fn in_flight(&self, first: Option<u64>, now: u64) -> bool {
        first.is_some_and(|f| f <= self.delivered) && self.lease_until > now
    }

    /// A batch ending at `last` was handed out at `now`, invisible for `visibility_ms`.
    pub fn handed_out(&mut self, last: u64, now: u64, visibility_ms: u64) {
        self.delivered = self.delivered.max(last);
        self.lease_until = now.saturating_add(visibility_ms.max(1));
    }
}

/// Milliseconds of a duration, saturating.
pub(crate) fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_written_and_read_as_redis_writes_them() {
        let id: EntryId = "1733333333333-7".parse().unwrap();
        assert_eq!(
            id,
            EntryId {
                ms: 1_733_333_333_333,
                seq: 7
            }
        );
        assert_eq!(id.to_string(), "1733333333333-7");
        for bad in [
            "",
            "-",
            "1",
            "1-",
            "-1",
            "a-1",
            "1-b",
            "+1-2",
            "1-2-3",
            "1 -2",
            "99999999999999999999-0",
        ] {
            assert_eq!(bad.parse::<EntryId>(), Err(BadEntryId), "{bad:?}");
        }
        assert!("0-2".parse::<EntryId>().unwrap() < "1-0".parse::<EntryId>().unwrap());
    }

    #[test]
    fn a_batch_is_in_flight_until_acknowledged_or_its_lease_ends() {
        let mut m = Meta::new(7, None);
        assert_eq!(m.gen, 7);
        assert_eq!(Meta::new(7, Some(9)).gen, 10, "a later generation");
        assert!(!m.in_flight(Some(1), 0));
        m.handed_out(3, 100, 50);
        assert!(m.in_flight(Some(1), 149));
        assert!(!m.in_flight(Some(1), 150), "the lease ended");
        assert!(!m.in_flight(Some(4), 120), "only new entries are left");
        assert_eq!(m.ack_bound(m.id(2)), 2);
        assert_eq!(m.ack_bound(m.id(9)), 3, "never past what was delivered");
        assert_eq!(m.ack_bound(EntryId { ms: 8, seq: 0 }), 3);
        assert_eq!(
            m.ack_bound(EntryId { ms: 6, seq: 9 }),
            0,
            "an earlier generation's"
        );
        m.acked(Some(3));
        assert!(
            m.in_flight(Some(3), 120),
            "a partial ack keeps the rest in flight"
        );
        m.acked(Some(4));
        assert!(!m.in_flight(Some(4), 120));
        assert_eq!(m.lease_until, 0);
    }
}
