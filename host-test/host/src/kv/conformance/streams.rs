//! The conformance checks on streams: order and ids, one batch in flight, acknowledgement,
//! redelivery after the visibility under the same ids, add-once under racers, many readers
//! each handed distinct batches, and expiry.

use super::super::{Entry, EntryId, Store};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const DAY: Duration = Duration::from_secs(86_400);

fn item(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn items(entries: &[Entry]) -> Vec<Vec<u8>> {
    entries.iter().map(|e| e.item.clone()).collect()
}

fn ids(entries: &[Entry]) -> Vec<EntryId> {
    entries.iter().map(|e| e.id).collect()
}

pub(super) async fn run_all(store: &Store) {
    in_order_one_batch_at_a_time(store).await;
    unacknowledged_entries_come_again_under_their_ids(store).await;
    only_delivered_entries_are_acknowledged(store).await;
    add_once(store).await;
    each_batch_to_one_reader(store).await;
    streams_expire(store).await;
}

/// Entries come in order under increasing ids; while a batch is out nothing else is
/// handed out; acknowledging it lets the rest come; streams are separate.
async fn in_order_one_batch_at_a_time(store: &Store) {
    let read = |ack, max| store.stream_read("jobs", ack, max, DAY, DAY);
    assert!(store
        .stream_add("jobs", None, &[item("a"), item("b"), item("c")], DAY)
        .await
        .unwrap());
    store
        .stream_add("jobs", None, &[vec![0, 255, 10]], DAY)
        .await
        .unwrap();
    store.stream_add("jobs", None, &[], DAY).await.unwrap();
    assert!(
        read(None, 0).await.unwrap().is_empty(),
        "max 0 reads nothing"
    );
    let first = read(None, 2).await.unwrap();
    assert_eq!(items(&first), [item("a"), item("b")]);
    assert!(first[0].id < first[1].id);
    assert!(read(None, 10).await.unwrap().is_empty(), "a batch is out");
    let second = read(Some(first[1].id), 10).await.unwrap();
    assert_eq!(items(&second), [item("c"), vec![0, 255, 10]]);
    assert!(first[1].id < second[0].id && second[0].id < second[1].id);
    assert!(read(Some(second[1].id), 10).await.unwrap().is_empty());
    assert!(store
        .stream_read("never-added", None, 3, DAY, DAY)
        .await
        .unwrap()
        .is_empty());
    // Emptied and added to again: order kept, ids still increasing.
    store
        .stream_add("jobs", None, &[item("d")], DAY)
        .await
        .unwrap();
    let third = read(None, 5).await.unwrap();
    assert_eq!(items(&third), [item("d")]);
    assert!(third[0].id > second[1].id, "ids are never reused");
    read(Some(third[0].id), 0).await.unwrap();
    // Streams are separate from each other.
    store
        .stream_add("jobs/1", None, &[item("x")], DAY)
        .await
        .unwrap();
    store
        .stream_add("jobs/2", None, &[item("y")], DAY)
        .await
        .unwrap();
    let two = store
        .stream_read("jobs/2", None, 5, DAY, DAY)
        .await
        .unwrap();
    assert_eq!(items(&two), [item("y")]);
    let one = store
        .stream_read("jobs/1", None, 5, DAY, DAY)
        .await
        .unwrap();
    assert_eq!(items(&one), [item("x")]);
}

/// A batch not acknowledged within its visibility comes again, first, under the same ids,
/// with what was added since; a partial acknowledgement keeps only the rest.
async fn unacknowledged_entries_come_again_under_their_ids(store: &Store) {
    let short = Duration::from_millis(60);
    let read = |ack, max| store.stream_read("retry", ack, max, short, DAY);
    store
        .stream_add("retry", None, &[item("x"), item("y")], DAY)
        .await
        .unwrap();
    let handed_out = Instant::now();
    let out = read(None, 10).await.unwrap();
    assert_eq!(items(&out), [item("x"), item("y")]);
    store
        .stream_add("retry", None, &[item("z")], DAY)
        .await
        .unwrap();
    let again = loop {
        let got = read(None, 10).await.unwrap();
        if !got.is_empty() {
            break got;
        }
        assert!(
            handed_out.elapsed() < Duration::from_secs(10),
            "never came again"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    // Stores count whole milliseconds: allow one.
    let at_least = short - Duration::from_millis(1);
    assert!(
        handed_out.elapsed() >= at_least,
        "came again before its visibility ended"
    );
    assert_eq!(items(&again), [item("x"), item("y"), item("z")]);
    assert_eq!(ids(&again)[..2], ids(&out)[..], "the same ids");
    // Acknowledge x only: y and z come again, after the visibility.
    assert!(read(Some(again[0].id), 0).await.unwrap().is_empty());
    let rest = loop {
        let got = read(None, 10).await.unwrap();
        if !got.is_empty() {
            break got;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    assert_eq!(ids(&rest), ids(&again)[1..]);
    read(Some(rest[1].id), 0).await.unwrap();
}

/// An acknowledgement past what was handed out removes nothing that was not.
async fn only_delivered_entries_are_acknowledged(store: &Store) {
    let far = EntryId {
        ms: u64::MAX >> 2,
        seq: 0,
    };
    store
        .stream_add("early", None, &[item("p")], DAY)
        .await
        .unwrap();
    assert!(store
        .stream_read("early", Some(far), 0, DAY, DAY)
        .await
        .unwrap()
        .is_empty());
    let got = store
        .stream_read("early", Some(far), 5, DAY, DAY)
        .await
        .unwrap();
    assert_eq!(
        items(&got),
        [item("p")],
        "not acknowledged before it was handed out"
    );
    store
        .stream_read("early", Some(got[0].id), 0, DAY, DAY)
        .await
        .unwrap();
}

/// One member's entries are added once, however many callers race, and only one caller is
/// told it added; other members and a cleared set start afresh.
async fn add_once(store: &Store) {
    let racers: Vec<_> = (0..16)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let entries = [item("one"), item(&i.to_string())];
                let once = Some(("inbox-done", "m1"));
                store
                    .stream_add("inbox", once, &entries, DAY)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut winners = 0;
    for r in racers {
        winners += r.await.unwrap() as usize;
    }
    assert_eq!(winners, 1, "exactly one caller adds");
    let read = |ack| store.stream_read("inbox", ack, 100, DAY, DAY);
    let got = read(None).await.unwrap();
    assert_eq!(got.len(), 2, "added once: {got:?}");
    assert_eq!(got[0].item, item("one"));
    let once = |m| Some(("inbox-done", m));
    assert!(store
        .stream_add("inbox", once("m2"), &[item("two")], DAY)
        .await
        .unwrap());
    assert!(!store
        .stream_add("inbox", once("m1"), &[item("again")], DAY)
        .await
        .unwrap());
    let got = read(Some(got[1].id)).await.unwrap();
    assert_eq!(items(&got), [item("two")]);
    assert_eq!(store.set_members("inbox-done").await.unwrap(), ["m1", "m2"]);
    store.set_clear("inbox-done").await.unwrap();
    store.set_clear("never-made").await.unwrap();
    assert!(store.set_members("inbox-done").await.unwrap().is_empty());
    assert!(store
        .stream_add("inbox", once("m1"), &[item("anew")], DAY)
        .await
        .unwrap());
    let got = read(Some(got[0].id)).await.unwrap();
    assert_eq!(items(&got), [item("anew")]);
    read(Some(got[0].id)).await.unwrap();
    store.set_clear("inbox-done").await.unwrap();
}

/// 1000 entries added in batches while 8 readers read and acknowledge: each entry is
/// handed out exactly once (nothing times out), batches never overlap and come in order.
async fn each_batch_to_one_reader(store: &Store) {
    const ITEMS: usize = 1000;
    let done = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicUsize::new(0));
    let adder = {
        let (store, done) = (store.clone(), done.clone());
        tokio::spawn(async move {
            for batch in (0..ITEMS).collect::<Vec<_>>().chunks(50) {
                let entries: Vec<Vec<u8>> =
                    batch.iter().map(|i| i.to_string().into_bytes()).collect();
                store.stream_add("work", None, &entries, DAY).await.unwrap();
                tokio::task::yield_now().await;
            }
            done.store(true, Ordering::SeqCst);
        })
    };
    let readers: Vec<_> = (0..8)
        .map(|_| {
            let (store, done, acked) = (store.clone(), done.clone(), acked.clone());
            tokio::spawn(async move {
                let mut got = Vec::new();
                while !(done.load(Ordering::SeqCst) && acked.load(Ordering::SeqCst) == ITEMS) {
                    let batch = store.stream_read("work", None, 7, DAY, DAY).await.unwrap();
                    let Some(last) = batch.last().map(|e| e.id) else {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        continue;
                    };
                    for e in &batch {
                        let n: usize = String::from_utf8_lossy(&e.item).parse().unwrap();
                        got.push((e.id, n));
                    }
                    store
                        .stream_read("work", Some(last), 0, DAY, DAY)
                        .await
                        .unwrap();
                    acked.fetch_add(batch.len(), Ordering::SeqCst);
                }
                got
            })
        })
        .collect();
    adder.await.unwrap();
    let mut all = Vec::new();
    for reader in readers {
        let got = reader.await.unwrap();
        assert!(got.windows(2).all(|w| w[0] < w[1]), "out of order: {got:?}");
        all.extend(got);
    }
    assert_eq!(all.len(), ITEMS, "entries handed out twice or lost");
    all.sort_unstable();
    let values: Vec<usize> = all.iter().map(|(_, n)| *n).collect();
    assert_eq!(
        values,
        (0..ITEMS).collect::<Vec<_>>(),
        "in id order = added order"
    );
}

/// A stream neither added to nor read for its TTL is gone, entries and all; one read in
/// time is kept.
async fn streams_expire(store: &Store) {
    let ttl = Duration::from_millis(80);
    let added = Instant::now();
    store
        .stream_add("short", Some(("short-done", "k")), &[item("gone")], ttl)
        .await
        .unwrap();
    store
        .stream_add("kept", None, &[item("kept")], ttl)
        .await
        .unwrap();
    // Read (without taking: max 0) before it expires, with a long TTL: kept.
    store.stream_read("kept", None, 0, DAY, DAY).await.unwrap();
    tokio::time::sleep((added + ttl * 2).saturating_duration_since(Instant::now())).await;
    store.purge_expired().await.unwrap();
    let gone = store
        .stream_read("short", None, 10, DAY, DAY)
        .await
        .unwrap();
    assert!(gone.is_empty(), "an expired stream's entries: {gone:?}");
    let kept = store.stream_read("kept", None, 10, DAY, DAY).await.unwrap();
    assert_eq!(items(&kept), [item("kept")]);
    store
        .stream_read("kept", Some(kept[0].id), 0, DAY, DAY)
        .await
        .unwrap();
    store.set_clear("short-done").await.unwrap();
}
