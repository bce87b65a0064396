//! The conformance checks on what processes coordinate through: sets, leases, concurrent
//! increments, and the four namespaces kept apart (streams: `streams.rs`).

use super::super::Store;
use std::time::Duration;

pub(super) async fn sets(store: &Store) {
    assert!(store.set_members("team").await.unwrap().is_empty());
    store.set_add("team", "bob").await.unwrap();
    store.set_add("team", "alice").await.unwrap();
    store.set_add("team", "alice").await.unwrap();
    store.set_add("other", "carol").await.unwrap();
    assert_eq!(store.set_members("team").await.unwrap(), ["alice", "bob"]);
    store.set_remove("team", "alice").await.unwrap();
    store.set_remove("team", "nobody").await.unwrap();
    store.set_remove("nothing", "nobody").await.unwrap();
    assert_eq!(store.set_members("team").await.unwrap(), ["bob"]);
    store.set_remove("team", "bob").await.unwrap();
    assert!(store.set_members("team").await.unwrap().is_empty());
    assert_eq!(store.set_members("other").await.unwrap(), ["carol"]);
}

/// The same name in all four namespaces: none sees the others.
pub(super) async fn namespaces_are_separate(store: &Store) {
    let name = "ns/x";
    store.set(name, b"value").await.unwrap();
    let day = Duration::from_secs(86_400);
    store
        .stream_add(name, None, &[b"item".to_vec()], day)
        .await
        .unwrap();
    store.set_add(name, "member").await.unwrap();
    assert!(store
        .try_lease(name, "owner", Duration::from_secs(60))
        .await
        .unwrap());
    assert_eq!(
        store.keys_with_prefix("ns/", None, 10).await.unwrap().0,
        [name]
    );
    assert_eq!(store.get(name).await.unwrap(), Some(b"value".to_vec()));
    assert_eq!(store.set_members(name).await.unwrap(), ["member"]);
    let read = store.stream_read(name, None, 10, day, day).await.unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].item, b"item");
    store.delete(name).await.unwrap();
    assert_eq!(store.set_members(name).await.unwrap(), ["member"]);
    assert!(!store
        .try_lease(name, "other", Duration::from_secs(60))
        .await
        .unwrap());
    // Names that look like another namespace's internal key stay plain keys.
    for k in ["x:ns/x", "s:ns/x", "l:ns/x", "gom:x:ns/x"] {
        assert_eq!(store.get(k).await.unwrap(), None);
    }
}

/// 16 tasks × 100 increments of one key: 1600, every returned value distinct.
pub(super) async fn concurrent_increments(store: &Store) {
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut seen = Vec::with_capacity(100);
                for _ in 0..100 {
                    seen.push(store.increment("count/shared", 1).await.unwrap());
                }
                seen
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort_unstable();
    assert_eq!(all, (1..=1600).collect::<Vec<u64>>());
    assert_eq!(
        store.get("count/shared").await.unwrap(),
        Some(b"1600".to_vec())
    );
}

/// Leases: per key, renewed by their owner, refused to others until they expire, free
/// after. Waiting for an expiry is the thing under test, so the waits stay; what the checks
/// rely on is measured instead of assumed: a lease granted by a call that started at `t`
/// holds at least until `t + ttl` (so "still held" is only asserted of a call that returned
/// before then), and one granted by a call that returned at `t` has expired by
/// `t + ttl + SLACK` (so that is waited for before "expired" is asserted). A round whose
/// calls were too slow to ask "still held" in time is run again on fresh keys; only a
/// machine too slow for every round fails, and says so.
pub(super) async fn leases(store: &Store) {
    const ROUNDS: usize = 5;
    for round in 0..ROUNDS {
        match lease_round(store, round).await {
            Ok(()) => return,
            Err(late) => eprintln!("lease round {round} not checked: {late}"),
        }
    }
    panic!("no lease round ran its calls in time ({ROUNDS} tried)");
}

/// One round of [`leases`] on keys of its own; `Err` names a check that came too late.
async fn lease_round(store: &Store, round: usize) -> Result<(), String> {
    use tokio::time::{sleep_until, Instant};
    /// Clock slack between the store's expiry and ours (the file store and Redis keep
    /// time by the wall clock, to the millisecond).
    const SLACK: Duration = Duration::from_millis(50);
    let ttl = Duration::from_millis(1000);
    let (a, b, c) = (
        format!("lease/{round}/a"),
        format!("lease/{round}/b"),
        format!("lease/{round}/c"),
    );
    // "Still held" of a lease granted by a call that started at `granted`.
    let held = |key: String, by: &'static str, granted: Instant, why: &'static str| async move {
        let taken = store.try_lease(&key, by, ttl).await.unwrap();
        if Instant::now() >= granted + ttl {
            return Err(format!(
                "{why}: asked {:?} after the grant",
                granted.elapsed()
            ));
        }
        assert!(!taken, "{key}: {why}");
        Ok(())
    };

    let a_asked = Instant::now();
    assert!(store.try_lease(&a, "one", ttl).await.unwrap());
    let a_granted = Instant::now();
    held(a.clone(), "two", a_asked, "held by another").await?;
    assert!(
        store.try_lease(&b, "two", ttl).await.unwrap(),
        "leases are per key"
    );
    let b_granted = Instant::now();

    // Renewed half-way: held past the first grant's expiry.
    sleep_until(a_asked + ttl / 2).await;
    let renew_asked = Instant::now();
    assert!(
        store.try_lease(&a, "one", ttl).await.unwrap(),
        "the owner renews"
    );
    let renewed = Instant::now();
    sleep_until(a_granted.max(b_granted) + ttl + SLACK).await;
    held(a.clone(), "two", renew_asked, "renewal extends").await?;
    assert!(
        store.try_lease(&b, "one", ttl).await.unwrap(),
        "b expired a ttl after its grant"
    );

    // Expired a ttl after the renewal: anyone may take it, and the old owner is then refused.
    sleep_until(renewed + ttl + SLACK).await;
    let taken_asked = Instant::now();
    assert!(store.try_lease(&a, "two", ttl).await.unwrap(), "expired");
    held(a, "one", taken_asked, "the old owner is refused").await?;

    // A zero TTL counts as 1 ms: taken, and free again soon after.
    assert!(store.try_lease(&c, "one", Duration::ZERO).await.unwrap());
    let c_granted = Instant::now();
    sleep_until(c_granted + Duration::from_millis(1) + SLACK).await;
    assert!(store.try_lease(&c, "two", ttl).await.unwrap());

    // Given up: only by its holder, and then free for anyone at once.
    let d = format!("lease/{round}/d");
    let long = Duration::from_secs(600);
    assert!(store.try_lease(&d, "one", long).await.unwrap());
    assert!(
        !store.release_lease(&d, "two").await.unwrap(),
        "not the holder"
    );
    assert!(
        !store.try_lease(&d, "two", long).await.unwrap(),
        "still held"
    );
    assert!(store.release_lease(&d, "one").await.unwrap());
    assert!(
        !store.release_lease(&d, "one").await.unwrap(),
        "already free"
    );
    assert!(
        store.try_lease(&d, "two", long).await.unwrap(),
        "free at once"
    );
    assert!(!store.release_lease("lease/never", "one").await.unwrap());
    Ok(())
}
