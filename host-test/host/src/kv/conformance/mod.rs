//! The behaviour every backend must show, as one suite each backend's tests run on a
//! fresh store, plus an ignored per-operation timing run over all backends. Kept apart
//! so the store's API in `kv/mod.rs` stays readable and the suite stays one shared truth.

mod coordination;
mod keys;
mod streams;

pub(crate) use keys::{all_pages, pages_in_one_sorted_order};

use super::Store;
use coordination::{concurrent_increments, leases, namespaces_are_separate, sets};
use keys::{
    batches_of_keys_and_sets, clears_a_set_with_the_keys_it_names, counters,
    deletes_only_what_holds_the_value, key_pages, many_keys, plain_keys, writes_then_reads,
};
use std::time::Duration;

/// Every check, on one fresh store.
pub(crate) async fn run_all(store: &Store) {
    plain_keys(store).await;
    many_keys(store).await;
    counters(store).await;
    writes_then_reads(store).await;
    batches_of_keys_and_sets(store).await;
    deletes_only_what_holds_the_value(store).await;
    clears_a_set_with_the_keys_it_names(store).await;
    key_pages(store).await;
    sets(store).await;
    streams::run_all(store).await;
    namespaces_are_separate(store).await;
    concurrent_increments(store).await;
    leases(store).await;
    store.sync().await.unwrap();
}

/// Mean and 99th-percentile latency of each operation over `n` sequential calls, on
/// every backend. Run by hand:
/// `cargo test -p genesys-om-host --lib kv::conformance::per_op_latency -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check"]
async fn per_op_latency() {
    let n: usize = std::env::var("KV_TIMING_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = handover_testkit::TempDir::new().unwrap();
    let redis = handover_testkit::RedisServer::for_test();
    let stores = vec![
        Store::memory(),
        Store::open_file(dir.path()).unwrap(),
        Store::open_redis(&redis.url()).await.unwrap(),
    ];
    for store in &stores {
        let value = vec![7u8; 256];
        macro_rules! time {
            ($name:expr, |$i:ident| $op:expr) => {{
                let mut took = Vec::with_capacity(n);
                let all = std::time::Instant::now();
                for $i in 0..n {
                    let t = std::time::Instant::now();
                    $op;
                    took.push(t.elapsed());
                }
                let total = all.elapsed();
                took.sort_unstable();
                eprintln!(
                    "{:<6} {:<22} mean {:>8.1} µs   p99 {:>8.1} µs",
                    store.kind(),
                    $name,
                    total.as_secs_f64() * 1e6 / n as f64,
                    took[n * 99 / 100].as_secs_f64() * 1e6,
                );
            }};
        }
        time!("set (256 B)", |i| store
            .set(&format!("t/{i}"), &value)
            .await
            .unwrap());
        time!("get", |i| store.get(&format!("t/{i}")).await.unwrap());
        time!("exists", |i| store.exists(&format!("t/{i}")).await.unwrap());
        time!("increment", |_i| store.increment("t/n", 1).await.unwrap());
        let day = Duration::from_secs(86_400);
        time!("stream add (1 item)", |_i| store
            .stream_add("t/q", None, std::slice::from_ref(&value), day)
            .await
            .unwrap());
        let mut last = None;
        time!("stream read + ack (1)", |_i| {
            let read = store.stream_read("t/q", last, 1, day, day).await.unwrap();
            last = read.last().map(|e| e.id).or(last);
        });
        time!("set_add", |i| store
            .set_add("t/s", &format!("m{}", i % 100))
            .await
            .unwrap());
        time!("try_lease", |i| store
            .try_lease(&format!("t/l{}", i % 100), "me", Duration::from_secs(5))
            .await
            .unwrap());
        time!("keys_with_prefix (50)", |_i| store
            .keys_with_prefix("t/1", None, 50)
            .await
            .unwrap());
        time!("set + sync", |i| {
            store.set(&format!("t/{i}"), &value).await.unwrap();
            store.sync().await.unwrap()
        });
        time!("sync (nothing new)", |_i| store.sync().await.unwrap());
    }
}
