//! The Redis store on a private three-master Redis Cluster: the shared suite, the hash-tag
//! layout (tenants spread, one batch or script in one slot) and listings across masters.

use super::super::{conformance, Store, StoreError};
use handover_testkit::RedisCluster;
use std::collections::BTreeMap;
use std::time::Duration;

const TTL: Duration = Duration::from_secs(60);

pub(super) fn cluster(replicas: usize) -> RedisCluster {
    RedisCluster::for_test(3, replicas, Duration::from_millis(1000))
}

/// Every key of every running master, by port.
pub(super) fn keys_by_master(c: &mut RedisCluster) -> BTreeMap<u16, Vec<String>> {
    let mut out = BTreeMap::new();
    for port in c.masters().unwrap() {
        let raw = c.cli(port, &["KEYS", "*"]).unwrap();
        let mut keys: Vec<String> = raw
            .lines()
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        keys.sort();
        out.insert(port, keys);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_store_passes_the_conformance_suite() {
    let mut c = cluster(0);
    let store = Store::open(&c.spec()).await.unwrap();
    assert_eq!(store.kind(), "redis");
    conformance::run_all(&store).await;
    let all: Vec<String> = keys_by_master(&mut c).into_values().flatten().collect();
    assert!(
        all.iter().all(|k| k.starts_with("gom:") && k.contains('{')),
        "{all:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_spread_and_each_batch_and_script_stays_in_one_slot() {
    let mut c = cluster(0);
    let store = Store::open(&c.spec()).await.unwrap();
    for t in 0..30 {
        // A guest batch over one handover's keys and its indexes: one MSET, MGET, DEL.
        let keys: Vec<String> = ["handover/u1", "conversation/c1", "claim/c1"]
            .iter()
            .map(|k| format!("c/tenant{t}/bucket/{k}"))
            .collect();
        let entries: Vec<(String, Vec<u8>)> = keys
            .iter()
            .map(|k| (k.clone(), k.as_bytes().to_vec()))
            .collect();
        store.set_many(&entries).await.unwrap();
        let got = store.get_many(&keys).await.unwrap();
        assert!(got
            .iter()
            .zip(&keys)
            .all(|(v, k)| v.as_deref() == Some(k.as_bytes())));
        // A session's stream and its add-once set: one script.
        let (stream, set) = (
            format!("bus/tenant{t}/s1"),
            format!("bus-delivered/tenant{t}/s1"),
        );
        let x = [b"x".to_vec()];
        assert!(store
            .stream_add(&stream, Some((&set, "m")), &x, TTL)
            .await
            .unwrap());
        assert!(!store
            .stream_add(&stream, Some((&set, "m")), &x, TTL)
            .await
            .unwrap());
        store.delete_many(&keys[..2]).await.unwrap();
    }
    let by_master = keys_by_master(&mut c);
    let holding = by_master.values().filter(|k| !k.is_empty()).count();
    assert_eq!(
        holding, 3,
        "tenants spread over every master: {by_master:?}"
    );
    let one = by_master
        .values()
        .flatten()
        .find(|k| k.contains("{tenant7}c/"))
        .unwrap();
    assert_eq!(one, "gom:k:{tenant7}c/tenant7/bucket/claim/c1");
    // Names that do not share a tag are refused before Redis would.
    let x = [b"x".to_vec()];
    let refused = store.stream_add("bus/a/s", Some(("bus-delivered/b/s", "m")), &x, TTL);
    assert!(matches!(refused.await, Err(StoreError::Other(m)) if m.contains("hash slots")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_cover_every_master_and_go_on_in_another_process() {
    let c = cluster(0);
    let a = Store::open(&c.spec()).await.unwrap();
    let b = Store::open(&c.spec()).await.unwrap();
    let mut expected = Vec::new();
    for t in 0..40 {
        for k in 0..15 {
            let key = format!("c/t{t:02}/b/{k:02}");
            a.set(&key, b"v").await.unwrap();
            expected.push(key);
        }
        a.set(&format!("idem/t{t:02}/x"), b"v").await.unwrap();
    }
    expected.sort();
    for limit in [1, 7, 100, 5000] {
        let mut all = conformance::all_pages(&a, "c/", limit).await.concat();
        all.sort();
        all.dedup();
        assert_eq!(all, expected, "limit {limit}");
    }
    let one: Vec<String> = expected
        .iter()
        .filter(|k| k.starts_with("c/t07/"))
        .cloned()
        .collect();
    let mut got = conformance::all_pages(&a, "c/t07/", 4).await.concat();
    got.sort();
    assert_eq!(got, one);
    // Cursors alternate between two handles (tokens the other never issued).
    let mut seen = Vec::new();
    let mut cursor = None;
    for turn in 0..10_000 {
        let store = if turn % 2 == 0 { &a } else { &b };
        let (page, next) = store.keys_with_prefix("c/", cursor, 3).await.unwrap();
        seen.extend(page);
        match next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen, expected);
}
