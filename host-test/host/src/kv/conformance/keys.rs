//! The conformance checks on plain keys: get, set, delete and exists, decimal counters,
//! paged prefix listings (the shape every backend's pages must have), and held-back writes
//! sent with a read.

use super::super::{Answer, Store, StoreError, Then, Write};
use std::collections::BTreeSet;

pub(super) async fn plain_keys(store: &Store) {
    assert_eq!(store.get("plain/a").await.unwrap(), None);
    assert!(!store.exists("plain/a").await.unwrap());
    store.set("plain/a", b"one").await.unwrap();
    assert_eq!(
        store.get("plain/a").await.unwrap().as_deref(),
        Some(&b"one"[..])
    );
    assert!(store.exists("plain/a").await.unwrap());
    store.set("plain/a", b"two").await.unwrap();
    assert_eq!(
        store.get("plain/a").await.unwrap().as_deref(),
        Some(&b"two"[..])
    );
    store.set("plain/empty", b"").await.unwrap();
    assert_eq!(store.get("plain/empty").await.unwrap(), Some(Vec::new()));
    assert!(store.exists("plain/empty").await.unwrap());
    let binary: Vec<u8> = (0..=255).collect();
    store.set("plain/binary", &binary).await.unwrap();
    assert_eq!(store.get("plain/binary").await.unwrap(), Some(binary));
    let long = format!("plain/{}", "é*?[]\\".repeat(200));
    store.set(&long, b"x").await.unwrap();
    assert_eq!(store.get(&long).await.unwrap(), Some(b"x".to_vec()));
    store.delete("plain/a").await.unwrap();
    assert_eq!(store.get("plain/a").await.unwrap(), None);
    assert!(!store.exists("plain/a").await.unwrap());
    store.delete("plain/never").await.unwrap();
}

/// Many keys at once: read in order (missing ones as none), written (a repeated key ends
/// with its last value) and removed together; empty lists do nothing.
pub(super) async fn many_keys(store: &Store) {
    let k = |s: &str| format!("many/{s}");
    assert!(store.get_many(&[]).await.unwrap().is_empty());
    store.set_many(&[]).await.unwrap();
    store.delete_many(&[]).await.unwrap();
    let entries = vec![
        (k("a"), b"1".to_vec()),
        (k("b"), Vec::new()),
        (k("c"), (0..=255).collect()),
        (k("a"), b"2".to_vec()),
    ];
    store.set_many(&entries).await.unwrap();
    let got = store
        .get_many(&[k("c"), k("missing"), k("a"), k("b"), k("a")])
        .await
        .unwrap();
    let want: Vec<Option<Vec<u8>>> = vec![
        Some((0..=255).collect()),
        None,
        Some(b"2".to_vec()),
        Some(Vec::new()),
        Some(b"2".to_vec()),
    ];
    assert_eq!(got, want);
    assert_eq!(store.get(&k("a")).await.unwrap(), Some(b"2".to_vec()));
    store
        .delete_many(&[k("a"), k("missing"), k("c")])
        .await
        .unwrap();
    let got = store.get_many(&[k("a"), k("b"), k("c")]).await.unwrap();
    assert_eq!(got, vec![None, Some(Vec::new()), None]);
    store.delete_many(&[k("b")]).await.unwrap();
    assert!(store
        .keys_with_prefix("many/", None, 10)
        .await
        .unwrap()
        .0
        .is_empty());
}

pub(super) async fn counters(store: &Store) {
    assert_eq!(store.increment("count/a", 5).await.unwrap(), 5);
    assert_eq!(store.get("count/a").await.unwrap(), Some(b"5".to_vec()));
    assert_eq!(store.increment("count/a", 0).await.unwrap(), 5);
    assert_eq!(store.increment("count/a", 10).await.unwrap(), 15);
    assert_eq!(store.get("count/a").await.unwrap(), Some(b"15".to_vec()));
    store.set("count/set", b"41").await.unwrap();
    assert_eq!(store.increment("count/set", 1).await.unwrap(), 42);
    store.set("count/zero", b"0").await.unwrap();
    assert_eq!(store.increment("count/zero", 3).await.unwrap(), 3);
    for bad in [
        &b"secret-value"[..],
        b"-3",
        b"1.5",
        b"",
        b" 7",
        b"+7",
        b"007",
        b"7\n",
    ] {
        store.set("count/bad", bad).await.unwrap();
        match store.increment("count/bad", 1).await {
            Err(StoreError::NotANumber(msg)) => {
                assert!(!msg.contains("secret"), "message shows the value: {msg}");
                assert!(msg.contains("count/bad"), "message names the key: {msg}");
            }
            other => panic!("{:?}: expected NotANumber, got {other:?}", bad),
        }
        assert_eq!(store.get("count/bad").await.unwrap().as_deref(), Some(bad));
    }
    store.set("count/big", b"1").await.unwrap();
    assert!(matches!(
        store.increment("count/big", u64::MAX).await,
        Err(StoreError::Other(_))
    ));
    assert_eq!(store.get("count/big").await.unwrap(), Some(b"1".to_vec()));
}

/// Every page of `prefix` with `limit`, from the start.
pub(crate) async fn all_pages(store: &Store, prefix: &str, limit: usize) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut cursor = None;
    for _ in 0..10_000 {
        let (page, next) = store.keys_with_prefix(prefix, cursor, limit).await.unwrap();
        assert!(
            page.len() <= limit,
            "page of {} > limit {limit}",
            page.len()
        );
        assert!(
            page.windows(2).all(|w| w[0] < w[1]),
            "page not sorted: {page:?}"
        );
        assert!(page.iter().all(|k| k.starts_with(prefix)), "{page:?}");
        pages.push(page);
        match next {
            Some(n) => cursor = Some(n),
            None => return pages,
        }
    }
    panic!("keys_with_prefix({prefix:?}) never ended");
}

pub(super) async fn key_pages(store: &Store) {
    let expected: Vec<String> = (0..25).map(|i| format!("page/{i:02}")).collect();
    for k in &expected {
        store.set(k, b"v").await.unwrap();
    }
    for k in ["page", "pagex", "pag", "pagf/1"] {
        store.set(k, b"v").await.unwrap();
    }
    for limit in [1, 7, 25, 100] {
        let pages = all_pages(store, "page/", limit).await;
        let all: Vec<String> = pages.concat();
        let unique: BTreeSet<String> = all.iter().cloned().collect();
        assert_eq!(
            unique.into_iter().collect::<Vec<_>>(),
            expected,
            "limit {limit}"
        );
    }
    assert_eq!(
        all_pages(store, "nothing/", 10).await.concat(),
        Vec::<String>::new()
    );
    let (page, next) = store.keys_with_prefix("page/", None, 0).await.unwrap();
    assert!(page.is_empty());
    assert_eq!(next, Some(0));
    // Glob characters in a prefix match only themselves.
    for k in [
        "glob*[x]?\\1",
        "glob*zz",
        "globxzz",
        "glob?a",
        "glob[x]",
        "globx]",
    ] {
        store.set(k, b"v").await.unwrap();
    }
    let found = |prefix: &'static str| async move {
        let mut keys = all_pages(store, prefix, 3).await.concat();
        keys.sort();
        keys.dedup();
        keys
    };
    assert_eq!(found("glob*").await, ["glob*[x]?\\1", "glob*zz"]);
    assert_eq!(found("glob?").await, ["glob?a"]);
    assert_eq!(found("glob*[x]?\\").await, ["glob*[x]?\\1"]);
    assert_eq!(found("glob[").await, ["glob[x]"]);
}

/// Memory and file: one sorted order across pages, exact counts, None after the last.
pub(crate) async fn pages_in_one_sorted_order(store: &Store) {
    let expected: Vec<String> = (0..30).map(|i| format!("o/{i:03}")).collect();
    for k in expected.iter().rev() {
        store.set(k, b"v").await.unwrap();
    }
    store.set("o0", b"v").await.unwrap();
    for limit in [1, 7, 10, 30, 31] {
        let pages = all_pages(store, "o/", limit).await;
        assert_eq!(pages.concat(), expected, "limit {limit}");
        let full = 30 / limit;
        assert!(
            pages.len() == full || pages.len() == full + 1,
            "limit {limit}"
        );
        assert!(pages[..pages.len() - 1].iter().all(|p| p.len() == limit));
    }
    let (page, next) = store.keys_with_prefix("o/", Some(28), 10).await.unwrap();
    assert_eq!(page, ["o/028", "o/029"]);
    assert_eq!(next, None);
    let (page, next) = store.keys_with_prefix("o/", Some(99), 10).await.unwrap();
    assert!(page.is_empty());
    assert_eq!(next, None);
}

/// Held-back writes go in order, then the read sees them; one request for both.
pub(super) async fn writes_then_reads(store: &Store) {
    let set = |k: &str, v: &[u8]| Write::Set(k.into(), v.to_vec());
    let del = |k: &str| Write::Delete(k.into());
    store.set("wt/gone", b"x").await.unwrap();
    let writes = [
        set("wt/a", b"1"),
        set("wt/a", b"2"),
        del("wt/gone"),
        set("wt/b", b""),
        del("wt/c"),
        set("wt/c", b"back"),
        set("wt/n", b"40"),
    ];
    let a = store.write_then(&writes, Then::Get("wt/a")).await.unwrap();
    assert_eq!(a, Answer::Value(Some(b"2".to_vec())));
    let keys: Vec<String> = ["wt/a", "wt/gone", "wt/b", "wt/c", "wt/none"]
        .map(String::from)
        .into();
    let values =
        |v: &[Option<&[u8]>]| Answer::Values(v.iter().map(|v| v.map(<[u8]>::to_vec)).collect());
    assert_eq!(
        store.write_then(&[], Then::GetMany(&keys)).await.unwrap(),
        values(&[Some(b"2"), None, Some(b""), Some(b"back"), None])
    );
    let incr = store
        .write_then(&[del("wt/a")], Then::Increment("wt/n", 2))
        .await;
    assert_eq!(incr.unwrap(), Answer::Count(42));
    assert_eq!(store.get("wt/n").await.unwrap(), Some(b"42".to_vec()));
    let exists = store
        .write_then(&[set("wt/e", b"y")], Then::Exists("wt/a"))
        .await;
    assert_eq!(exists.unwrap(), Answer::Exists(false));
    let many = store
        .write_then(&[set("wt/a", b"3")], Then::GetMany(&keys[..2]))
        .await;
    assert_eq!(many.unwrap(), values(&[Some(b"3"), None]));
    let nothing = store
        .write_then(&[del("wt/e")], Then::Nothing)
        .await
        .unwrap();
    assert_eq!(nothing, Answer::Nothing);
    assert!(!store.exists("wt/e").await.unwrap());
    // An increment of a value that is no counter fails as `increment` alone does, naming
    // the key and not the value.
    let bad = store
        .write_then(&[set("wt/bad", b"secret")], Then::Increment("wt/bad", 1))
        .await;
    match bad {
        Err(StoreError::NotANumber(msg)) => {
            assert!(msg.contains("wt/bad") && !msg.contains("secret"), "{msg}")
        }
        other => panic!("expected NotANumber, got {other:?}"),
    }
    // Many writes and many reads in one request (a handover's `end`).
    let writes: Vec<Write> = (0..600)
        .map(|i| set(&format!("wt/many/{i}"), b"v"))
        .collect();
    let keys: Vec<String> = (0..600).map(|i| format!("wt/many/{i}")).collect();
    match store
        .write_then(&writes, Then::GetMany(&keys))
        .await
        .unwrap()
    {
        Answer::Values(v) => {
            assert!(v.len() == 600 && v.iter().all(|v| v.as_deref() == Some(b"v")))
        }
        other => panic!("expected values, got {other:?}"),
    }
    // Leave the store as small as it was (later checks page through Redis's keyspace).
    let mut all = keys;
    all.extend(["wt/a", "wt/b", "wt/c", "wt/n", "wt/bad"].map(String::from));
    store.delete_many(&all).await.unwrap();
}

/// One batch writes keys and sets alike, in order, whatever slots they live in on a
/// cluster (a tenant's keys, a tenant's sets, another tenant's), and a read after them
/// sees them.
pub(super) async fn batches_of_keys_and_sets(store: &Store) {
    let add = |s: &str, m: &str| Write::SetAdd(s.into(), m.into());
    let remove = |s: &str, m: &str| Write::SetRemove(s.into(), m.into());
    store.set_add("host/t1/open", "gone").await.unwrap();
    store.set_add("host/t1/clear", "x").await.unwrap();
    store.set("host/t1/old", b"x").await.unwrap();
    let writes = [
        Write::Set("host/t1/conversation-of/u".into(), b"c1".to_vec()),
        add("host/t1/open", "u"),
        add("host/t1/open", "v"),
        remove("host/t1/open", "gone"),
        remove("host/t1/open", "v"),
        Write::SetClear("host/t1/clear".into()),
        add("host/t2/open", "w"),
        Write::Delete("host/t1/old".into()),
        add("host/t1/clear", "back"),
    ];
    let read = store
        .write_then(&writes, Then::Get("host/t1/conversation-of/u"))
        .await
        .unwrap();
    assert_eq!(read, Answer::Value(Some(b"c1".to_vec())));
    assert_eq!(store.set_members("host/t1/open").await.unwrap(), ["u"]);
    assert_eq!(store.set_members("host/t1/clear").await.unwrap(), ["back"]);
    assert_eq!(store.set_members("host/t2/open").await.unwrap(), ["w"]);
    assert!(!store.exists("host/t1/old").await.unwrap());
    // Sets and keys of the same name stay apart.
    assert!(!store.exists("host/t1/open").await.unwrap());
    let clear = [
        Write::SetClear("host/t1/open".into()),
        Write::SetClear("host/t1/clear".into()),
        Write::SetClear("host/t2/open".into()),
        Write::Delete("host/t1/conversation-of/u".into()),
    ];
    store.write_then(&clear, Then::Nothing).await.unwrap();
    for set in ["host/t1/open", "host/t1/clear", "host/t2/open"] {
        assert!(store.set_members(set).await.unwrap().is_empty(), "{set}");
    }
    assert!(!store.exists("host/t1/conversation-of/u").await.unwrap());
}

/// A conditional delete in a batch removes its key only while the key holds that value,
/// in order with the batch's other writes (a `Set` before it counts), on every slot.
pub(super) async fn deletes_only_what_holds_the_value(store: &Store) {
    let if_equal = |k: &str, v: &[u8]| Write::DeleteIfEqual(k.into(), v.to_vec());
    store.set("host/t1/conversation-of/a", b"c1").await.unwrap();
    store.set("host/t1/conversation-of/b", b"c2").await.unwrap();
    store.set("host/t2/conversation-of/c", b"c3").await.unwrap();
    let writes = [
        if_equal("host/t1/conversation-of/a", b"c1"),
        // Another handover's value: kept.
        if_equal("host/t1/conversation-of/b", b"c1"),
        // A prefix of the value is not the value.
        if_equal("host/t2/conversation-of/c", b"c"),
        if_equal("host/t1/conversation-of/missing", b"c1"),
        Write::Set("host/t2/conversation-of/d".into(), b"c4".to_vec()),
        if_equal("host/t2/conversation-of/d", b"c4"),
        Write::SetAdd("host/t1/conversations".into(), "c1".into()),
    ];
    let read = store
        .write_then(&writes, Then::Get("host/t1/conversation-of/b"))
        .await
        .unwrap();
    assert_eq!(read, Answer::Value(Some(b"c2".to_vec())));
    assert!(!store.exists("host/t1/conversation-of/a").await.unwrap());
    assert_eq!(
        store
            .get("host/t2/conversation-of/c")
            .await
            .unwrap()
            .as_deref(),
        Some(&b"c3"[..])
    );
    assert!(!store
        .exists("host/t1/conversation-of/missing")
        .await
        .unwrap());
    assert!(!store.exists("host/t2/conversation-of/d").await.unwrap());
    // A set of the same name is not a key holding the value.
    let kept = [if_equal("host/t1/conversations", b"c1")];
    store.write_then(&kept, Then::Nothing).await.unwrap();
    assert_eq!(
        store.set_members("host/t1/conversations").await.unwrap(),
        ["c1"]
    );
    let clear = [
        Write::Delete("host/t1/conversation-of/b".into()),
        Write::Delete("host/t2/conversation-of/c".into()),
        Write::SetClear("host/t1/conversations".into()),
    ];
    store.write_then(&clear, Then::Nothing).await.unwrap();
}

/// A set cleared with its keys removes the keys its members name (and no other key of
/// that prefix), in order with the batch's other writes, then the set.
pub(super) async fn clears_a_set_with_the_keys_it_names(store: &Store) {
    let (set, prefix) = ("idem-keys/t1/u", "idem/t1/1/u/");
    for m in ["a", "b"] {
        store.set_add(set, m).await.unwrap();
        store.set(&format!("{prefix}{m}"), b"r").await.unwrap();
    }
    // Named by the set, never written.
    store.set_add(set, "gone").await.unwrap();
    // Not named by the set: kept.
    store.set(&format!("{prefix}other"), b"r").await.unwrap();
    store.set_add("idem-keys/t1/v", "a").await.unwrap();
    store.set("idem/t1/1/v/a", b"r").await.unwrap();
    let writes = [
        Write::Set(format!("{prefix}late"), b"r".to_vec()),
        Write::SetAdd(set.into(), "late".into()),
        Write::SetClearWithKeys(set.into(), prefix.into()),
        // After the clear: a new entry stays.
        Write::SetAdd(set.into(), "next".into()),
        Write::Set(format!("{prefix}next"), b"r".to_vec()),
    ];
    let read = store
        .write_then(&writes, Then::Get(&format!("{prefix}late")))
        .await
        .unwrap();
    assert_eq!(read, Answer::Value(None));
    for m in ["a", "b", "gone"] {
        assert!(!store.exists(&format!("{prefix}{m}")).await.unwrap(), "{m}");
    }
    assert!(store.exists(&format!("{prefix}other")).await.unwrap());
    assert!(store.exists(&format!("{prefix}next")).await.unwrap());
    assert_eq!(store.set_members(set).await.unwrap(), ["next"]);
    assert!(store.exists("idem/t1/1/v/a").await.unwrap());
    assert_eq!(store.set_members("idem-keys/t1/v").await.unwrap(), ["a"]);
    // An empty set clears nothing else.
    let empty = [Write::SetClearWithKeys(
        "idem-keys/t1/w".into(),
        "idem/t1/1/w/".into(),
    )];
    store.write_then(&empty, Then::Nothing).await.unwrap();
    let clear = [
        Write::SetClearWithKeys(set.into(), prefix.into()),
        Write::SetClearWithKeys("idem-keys/t1/v".into(), "idem/t1/1/v/".into()),
        Write::Delete(format!("{prefix}other")),
    ];
    store.write_then(&clear, Then::Nothing).await.unwrap();
    assert!(!store.exists(&format!("{prefix}next")).await.unwrap());
    assert!(!store.exists("idem/t1/1/v/a").await.unwrap());
    assert!(store.set_members(set).await.unwrap().is_empty());
}
