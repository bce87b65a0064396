//! The file store's own tests: the shared suite, durability across reopening and across
//! `kill -9` (a re-executed child writer), the single-opener lock, group commit and the
//! lease sweep.

use super::super::{conformance, Backend, Store, StoreError};
use super::FileStore;
use handover_testkit::{Child, TempDir};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn file_store(store: &Store) -> &FileStore {
    match store.backend() {
        Backend::File(f) => f,
        _ => unreachable!(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_store_passes_the_conformance_suite() {
    let dir = TempDir::new().unwrap();
    conformance::run_all(&Store::open_file(dir.path()).unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_store_pages_keys_in_one_sorted_order() {
    let dir = TempDir::new().unwrap();
    conformance::pages_in_one_sorted_order(&Store::open_file(dir.path()).unwrap()).await;
}

#[tokio::test]
async fn synced_writes_survive_reopening() {
    let dir = TempDir::new().unwrap();
    let store = Store::open_file(&dir.join("nested/dir")).unwrap();
    store.set("k", b"v").await.unwrap();
    assert_eq!(store.increment("n", 2).await.unwrap(), 2);
    let day = Duration::from_secs(86_400);
    store
        .stream_add("q", None, &[b"1".to_vec(), b"2".to_vec()], day)
        .await
        .unwrap();
    store.set_add("s", "m").await.unwrap();
    assert!(store
        .try_lease("l", "me", Duration::from_secs(60))
        .await
        .unwrap());
    store.sync().await.unwrap();
    drop(store);

    let store = Store::open_file(&dir.join("nested/dir")).unwrap();
    assert_eq!(store.get("k").await.unwrap(), Some(b"v".to_vec()));
    assert_eq!(store.increment("n", 1).await.unwrap(), 3);
    let read = store.stream_read("q", None, 10, day, day).await.unwrap();
    let items: Vec<&[u8]> = read.iter().map(|e| e.item.as_slice()).collect();
    assert_eq!(items, [b"1", b"2"]);
    assert_eq!(store.set_members("s").await.unwrap(), ["m"]);
    assert!(!store
        .try_lease("l", "you", Duration::from_secs(60))
        .await
        .unwrap());
    assert!(store
        .try_lease("l", "me", Duration::from_secs(60))
        .await
        .unwrap());
}

#[tokio::test]
async fn unsynced_writes_may_be_lost_but_the_store_reopens() {
    let dir = TempDir::new().unwrap();
    let store = Store::open_file(dir.path()).unwrap();
    store.set("synced", b"1").await.unwrap();
    store.sync().await.unwrap();
    store.set("unsynced", b"2").await.unwrap();
    drop(store);
    let store = Store::open_file(dir.path()).unwrap();
    assert_eq!(store.get("synced").await.unwrap(), Some(b"1".to_vec()));
    // Allowed either way; it must only read cleanly.
    let _ = store.get("unsynced").await.unwrap();
}

#[tokio::test]
async fn a_second_opener_is_refused_clearly() {
    let dir = TempDir::new().unwrap();
    let first = Store::open_file(dir.path()).unwrap();
    match Store::open_file(dir.path()) {
        Err(StoreError::Other(msg)) => {
            assert!(msg.contains("already open"), "{msg}");
            assert!(msg.contains("store.redb"), "{msg}");
        }
        other => panic!("expected Other, got {other:?}"),
    }
    drop(first);
    Store::open_file(dir.path()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_syncs_share_fsyncs() {
    let dir = TempDir::new().unwrap();
    let store = Store::open_file(dir.path()).unwrap();
    let before = file_store(&store).durable_commits();
    store.sync().await.unwrap();
    assert_eq!(
        file_store(&store).durable_commits(),
        before,
        "nothing new to flush"
    );
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store.set(&format!("k{i}"), b"v").await.unwrap();
                store.sync().await.unwrap();
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let fsyncs = file_store(&store).durable_commits() - before;
    assert!((1..32).contains(&fsyncs), "{fsyncs} fsyncs for 64 syncs");
}

#[tokio::test]
async fn many_unsynced_writes_commit_durably_by_themselves() {
    let dir = TempDir::new().unwrap();
    let store = Store::open_file(dir.path()).unwrap();
    for i in 0..super::commit::AUTO_SYNC_EVERY + 10 {
        store.set(&format!("k{}", i % 16), b"v").await.unwrap();
    }
    assert!(file_store(&store).durable_commits() >= 1);
}

#[tokio::test]
async fn expired_leases_are_swept() {
    use redb::ReadableTableMetadata;
    let dir = TempDir::new().unwrap();
    let store = Store::open_file(dir.path()).unwrap();
    let count = || {
        let tx = file_store(&store).shared.db.begin_read().unwrap();
        tx.open_table(super::LEASES).unwrap().len().unwrap()
    };
    store
        .try_lease("keep", "o", Duration::from_secs(60))
        .await
        .unwrap();
    for i in 0..1500 {
        let ttl = Duration::from_millis(1);
        store.try_lease(&format!("l{i}"), "o", ttl).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(5)).await;
    for _ in 0..=super::LEASE_SWEEP_EVERY {
        store
            .try_lease("last", "o", Duration::from_secs(60))
            .await
            .unwrap();
    }
    assert_eq!(count(), 2, "only the unexpired leases are left");
}

/// Set in the environment of the child writer: the store's directory.
const KILL9_DIR: &str = "GOM_KV_KILL9_DIR";

/// The child writer of `every_acknowledged_write_survives_kill_9` (that test re-executed
/// alone, with [`KILL9_DIR`] set): four tasks write, sync and print `ack TASK I` until
/// killed (or for 60 s at most). Not a test of its own, so it never counts as one.
async fn kill9_child_writer(dir: &Path) {
    let store = Store::open_file(dir).unwrap();
    let started = Instant::now();
    let tasks: Vec<_> = (0..4)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut i = 0u64;
                while started.elapsed() < Duration::from_secs(60) {
                    i += 1;
                    let item = format!("{t}/{i}");
                    store
                        .set(&format!("acked/{item}"), item.as_bytes())
                        .await
                        .unwrap();
                    store.increment("acked/count", 1).await.unwrap();
                    let day = Duration::from_secs(86_400);
                    let entry = [item.clone().into_bytes()];
                    store.stream_add("acked", None, &entry, day).await.unwrap();
                    store.set_add("acked", &item).await.unwrap();
                    store.sync().await.unwrap();
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ack {item}").unwrap();
                    out.flush().unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

/// This test's name as the test binary knows it, to run it alone in a child process.
fn kill9_test_name() -> String {
    let module = module_path!();
    let module = module.split_once("::").map_or(module, |(_, m)| m);
    format!("{module}::every_acknowledged_write_survives_kill_9")
}

/// Runs the child writer (this test binary again, running only this test, with
/// [`KILL9_DIR`] set), kills it with SIGKILL mid-flight, and checks every write it
/// acknowledged (printed after `sync`) is in the reopened store. Twice on one database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_write_survives_kill_9() {
    if let Some(dir) = std::env::var_os(KILL9_DIR) {
        return kill9_child_writer(Path::new(&dir)).await;
    }
    let dir = TempDir::new().unwrap();
    let mut acked: Vec<String> = Vec::new();
    for round in 0..2 {
        let mut child = Child::new(
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    &kill9_test_name(),
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(KILL9_DIR, dir.path())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut this_round = 0;
        while this_round < 400 && Instant::now() < deadline {
            match lines.next() {
                Some(line) => {
                    if let Some(item) = line.unwrap().strip_prefix("ack ") {
                        acked.push(item.to_string());
                        this_round += 1;
                    }
                }
                None => panic!("the child writer ended by itself in round {round}"),
            }
        }
        assert!(this_round > 0, "no acknowledgement within 20 s");
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Whatever it printed before dying was acknowledged too.
        for line in lines {
            if let Some(item) = line.unwrap().strip_prefix("ack ") {
                acked.push(item.to_string());
            }
        }

        let store = Store::open_file(dir.path()).unwrap();
        for item in &acked {
            let got = store.get(&format!("acked/{item}")).await.unwrap();
            assert_eq!(
                got.as_deref(),
                Some(item.as_bytes()),
                "lost acked write {item}"
            );
        }
        let count = store.get("acked/count").await.unwrap().unwrap();
        let count: usize = String::from_utf8(count).unwrap().parse().unwrap();
        assert!(
            count >= acked.len(),
            "counter {count} < {} acks",
            acked.len()
        );
        let members = store.set_members("acked").await.unwrap();
        for item in &acked {
            assert!(members.binary_search(item).is_ok(), "set lost {item}");
        }
        // Read the stream without acknowledging it (a visibility of 1 ms: it stays).
        let (short, day) = (Duration::from_millis(1), Duration::from_secs(86_400));
        let queued = store
            .stream_read("acked", None, usize::MAX, short, day)
            .await
            .unwrap();
        let queued: std::collections::BTreeSet<String> = queued
            .iter()
            .map(|e| String::from_utf8(e.item.clone()).unwrap())
            .collect();
        for item in &acked {
            assert!(queued.contains(item), "stream lost {item}");
        }
        store.sync().await.unwrap();
        eprintln!(
            "round {round}: {} acknowledged writes all present",
            acked.len()
        );
    }
}
