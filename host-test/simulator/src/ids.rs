//! Ids as Genesys shapes them (UUIDs, and the same without dashes for message ids), drawn
//! from one counter per simulator: deterministic for a port, distinct between simulators,
//! and safe to draw from any task without the state lock.

use std::sync::atomic::{AtomicU64, Ordering};

/// The id source of one simulator.
pub(crate) struct Ids {
    counter: AtomicU64,
    salt: u64,
}

impl Ids {
    /// A source whose ids depend on `salt` (the simulator's port).
    pub(crate) fn new(salt: u64) -> Self {
        Ids {
            counter: AtomicU64::new(1),
            salt,
        }
    }

    /// The next UUID-shaped id.
    pub(crate) fn next(&self) -> String {
        uuid(self.counter.fetch_add(1, Ordering::Relaxed), self.salt)
    }

    /// The next id as 32 hex digits, the shape of Genesys message ids.
    pub(crate) fn hex(&self) -> String {
        self.next().replace('-', "")
    }
}

fn uuid(n: u64, salt: u64) -> String {
    let a = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt;
    let b = salt.rotate_left(17) ^ n;
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (a >> 32) as u32,
        (a >> 16) as u16,
        (a & 0xfff) as u16,
        (b >> 52) as u16 & 0xfff,
        b & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuids_and_distinct() {
        let ids = Ids::new(7919);
        let (a, b) = (ids.next(), ids.next());
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert_eq!(ids.hex().len(), 32);
    }
}
