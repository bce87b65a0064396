//! Redis key names, and on a cluster the hash tag that puts every key one command or
//! script touches together in one slot: chosen here from the host's key names
//! (`kind/tenant/…`), so neither the component nor the callers know about slots.

use super::PREFIX;
use std::borrow::Cow;

/// The tag of every name too short to carry a tenant (tests' names, global leases such as
/// `sweep/<tenant>`): they share one slot.
pub(super) const SHARED_TAG: &str = "gom";

/// The store's four namespaces, one letter each in the Redis key.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(super) enum Ns {
    Kv,
    Stream,
    Set,
    Lease,
}

impl Ns {
    fn letter(self) -> char {
        match self {
            Ns::Kv => 'k',
            Ns::Stream => 'x',
            Ns::Set => 's',
            Ns::Lease => 'l',
        }
    }
}

/// `gom:<letter>:` (single node) or `gom:<letter>:{<tag>}` (cluster), then `name`.
pub(super) fn key(clustered: bool, ns: Ns, name: &str) -> String {
    let letter = ns.letter();
    if clustered {
        format!("{PREFIX}{letter}:{{{}}}{name}", tag(ns, name))
    } else {
        format!("{PREFIX}{letter}:{name}")
    }
}

/// The hash tag of `name` in `ns`.
///
/// Keys and leases (`kind/tenant/…`): the tenant, so one guest batch (`c/<tenant>/…`)
/// or one idempotency clean-up (`idem/<tenant>/…`) stays in one slot. Streams and sets
/// (`kind/tenant/session…`): tenant and session, so a session's stream
/// (`bus/<t>/<s>`) and its add-once set (`bus-delivered/<t>/<s>`), which one script
/// touches together, share a slot while a tenant's sessions spread over the cluster.
/// Shorter names: [`SHARED_TAG`]. A tag never holds `}` (it would end the tag early).
pub(super) fn tag(ns: Ns, name: &str) -> Cow<'_, str> {
    let mut parts = name.splitn(4, '/');
    let (_kind, second, third) = (parts.next(), parts.next(), parts.next());
    let tag = match (ns, second, third) {
        (_, Some(_), None) | (_, None, _) => return Cow::Borrowed(SHARED_TAG),
        (Ns::Kv | Ns::Lease, Some(tenant), Some(_)) => Cow::Borrowed(tenant),
        (Ns::Stream | Ns::Set, Some(tenant), Some(session)) => {
            Cow::Owned(format!("{tenant}/{session}"))
        }
    };
    if tag.is_empty() {
        Cow::Borrowed(SHARED_TAG)
    } else if tag.contains('}') {
        Cow::Owned(tag.replace('}', ")"))
    } else {
        tag
    }
}

/// The tag every key starting with `prefix` has, if the prefix decides it: a kv prefix
/// that already holds its tenant (`kind/tenant/`). Otherwise `None` (any slot).
pub(super) fn kv_prefix_tag(prefix: &str) -> Option<Cow<'_, str>> {
    (prefix.matches('/').count() >= 2).then(|| tag(Ns::Kv, prefix))
}

/// The name in a kv key as Redis lists it (`gom:k:[{tag}]name`), if it is one.
pub(super) fn kv_name(clustered: bool, raw: &[u8]) -> Option<String> {
    let rest = raw.strip_prefix(format!("{PREFIX}k:").as_bytes())?;
    let name = if clustered {
        let rest = rest.strip_prefix(b"{")?;
        let close = rest.iter().position(|b| *b == b'}')?;
        &rest[close + 1..]
    } else {
        rest
    };
    Some(String::from_utf8_lossy(name).into_owned())
}

/// The cluster slot of a tag (what Redis computes for a key holding `{tag}`), with the
/// CRC16 crate the redis client uses for the same purpose.
pub(super) fn slot(tag: &str) -> u16 {
    crc16::State::<crc16::XMODEM>::calculate(tag.as_bytes()) % 16384
}

/// The slot of a Redis key as built by [`key`] on a cluster.
pub(super) fn slot_of_key(key: &str) -> u16 {
    let open = key.find('{').map(|i| i + 1).unwrap_or(0);
    let tag = key[open..].split('}').next().unwrap_or_default();
    slot(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_get_tenant_and_session_tags() {
        assert_eq!(tag(Ns::Kv, "c/acme/bucket/handover/u1"), "acme");
        assert_eq!(tag(Ns::Kv, "idem/acme/2/u1/k"), "acme");
        assert_eq!(tag(Ns::Kv, "host/acme/conversation-of/u"), "acme");
        assert_eq!(tag(Ns::Stream, "bus/acme/s1"), "acme/s1");
        assert_eq!(tag(Ns::Set, "bus-delivered/acme/s1"), "acme/s1");
        assert_eq!(tag(Ns::Lease, "sweep/acme"), SHARED_TAG);
        assert_eq!(tag(Ns::Kv, "many/a"), SHARED_TAG);
        assert_eq!(tag(Ns::Kv, "a"), SHARED_TAG);
        assert_eq!(tag(Ns::Kv, "c//x"), SHARED_TAG);
        assert_eq!(tag(Ns::Kv, "c/a}b/x"), "a)b");
        assert_eq!(
            key(true, Ns::Kv, "c/acme/b/k"),
            "gom:k:{acme}c/acme/b/k".to_string()
        );
        assert_eq!(key(false, Ns::Kv, "c/acme/b/k"), "gom:k:c/acme/b/k");
    }

    #[test]
    fn names_round_trip_and_prefixes_decide_tags() {
        for name in ["c/acme/b/k}{x", "many/a", "", "a{b}c"] {
            let raw = key(true, Ns::Kv, name);
            assert_eq!(kv_name(true, raw.as_bytes()).as_deref(), Some(name));
            assert_eq!(slot_of_key(&raw), slot(&tag(Ns::Kv, name)));
        }
        assert_eq!(kv_prefix_tag("c/acme/").as_deref(), Some("acme"));
        assert_eq!(kv_prefix_tag("c/acme"), None);
        assert_eq!(kv_name(true, b"gom:s:{x}y"), None);
        // The slot Redis documents for a known key.
        assert_eq!(slot("foo"), 12182);
    }
}
