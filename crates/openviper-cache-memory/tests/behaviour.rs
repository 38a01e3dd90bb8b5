//! What only InMemoryCache promises: its bounds, atomicity under 64 tasks, clamped TTLs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::num::NonZeroU64;
use std::sync::Arc;
use std::time::Duration;

use openviper_cache_core::{BaseCache, Bytes, CacheError, CacheExt, FOREVER};
use openviper_cache_memory::{InMemoryCache, InMemoryOptions};

fn options(max_entries: u64, max_bytes: Option<u64>) -> InMemoryOptions {
    InMemoryOptions {
        max_entries: NonZeroU64::new(max_entries).unwrap(),
        max_bytes: max_bytes.and_then(NonZeroU64::new),
        ..InMemoryOptions::default()
    }
}

#[tokio::test]
async fn never_holds_more_than_max_entries() {
    let cache = InMemoryCache::new(options(1_000, None));
    for i in 0..20_000 {
        cache.set(&format!("k{i}"), &i, None).await.unwrap();
        assert!(
            cache.len() <= 1_000,
            "{} entries after {i} writes",
            cache.len()
        );
    }
    assert!(
        cache.len() > 500,
        "evicted far below the bound: {}",
        cache.len()
    );
    // The newest write is always readable right after it.
    assert_eq!(cache.get::<i32>("k19999").await.unwrap(), Some(19_999));
}

#[tokio::test]
async fn never_holds_more_than_max_bytes_or_max_entries() {
    let cache = InMemoryCache::new(options(1_000, Some(64 * 1024)));
    let value = Bytes::from(vec![b'x'; 200]);
    for i in 0..5_000 {
        cache
            .set_bytes(&format!("k{i}"), value.clone(), None)
            .await
            .unwrap();
        assert!(
            cache.weight() <= 64 * 1024,
            "weight {} after {i} writes",
            cache.weight()
        );
        assert!(cache.len() <= 1_000);
    }
    // Tiny values: the count bound holds even though bytes would allow more.
    for i in 0..5_000 {
        cache
            .set_bytes(&format!("t{i}"), Bytes::from_static(b"1"), None)
            .await
            .unwrap();
        assert!(cache.len() <= 1_000, "{} entries", cache.len());
    }
}

#[tokio::test]
async fn value_over_a_shard_share_is_refused_and_old_value_removed() {
    let cache = InMemoryCache::new(options(100, Some(64 * 1024)));
    let limit = cache.capabilities().max_value_bytes.unwrap();
    assert!(limit <= 64 * 1024);
    cache.set("k", "old", None).await.unwrap();
    let err = cache
        .set_bytes("k", Bytes::from(vec![0; limit + 1]), None)
        .await
        .unwrap_err();
    assert!(matches!(err, CacheError::ValueTooLarge { .. }), "{err:?}");
    assert_eq!(cache.get_bytes("k").await.unwrap(), None);
    cache
        .set_bytes("k", Bytes::from(vec![0; limit - 1]), None)
        .await
        .unwrap();
    assert!(cache.has_key("k").await.unwrap());
    // An oversized add is refused too, but an add never replaces: the value stays.
    let err = cache
        .add_bytes("k", Bytes::from(vec![0; limit + 1]), None)
        .await
        .unwrap_err();
    assert!(matches!(err, CacheError::ValueTooLarge { .. }), "{err:?}");
    assert_eq!(
        cache.get_bytes("k").await.unwrap().map(|v| v.len()),
        Some(limit - 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incr_is_atomic_across_64_tasks() {
    let cache = Arc::new(InMemoryCache::new(InMemoryOptions::default()));
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let cache = Arc::clone(&cache);
            tokio::spawn(async move {
                for _ in 0..1_000 {
                    cache.incr("hits", 1).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(cache.get::<i64>("hits").await.unwrap(), Some(64_000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_has_one_winner_across_64_tasks() {
    let cache = Arc::new(InMemoryCache::new(InMemoryOptions::default()));
    for round in 0..50 {
        let key = format!("lock:{round}");
        let tasks: Vec<_> = (0..64)
            .map(|i| {
                let (cache, key) = (Arc::clone(&cache), key.clone());
                tokio::spawn(async move { cache.add(&key, &i, None).await.unwrap() })
            })
            .collect();
        let mut winners = 0;
        for task in tasks {
            winners += usize::from(task.await.unwrap());
        }
        assert_eq!(winners, 1, "round {round}");
    }
}

#[tokio::test]
async fn huge_ttls_are_clamped_not_panics() {
    let cache = InMemoryCache::new(InMemoryOptions::default());
    for ttl in [
        FOREVER,
        Duration::from_secs(u64::MAX),
        Duration::from_secs(3_600 * 24 * 365 * 2_000),
    ] {
        cache.set("k", "v", Some(ttl)).await.unwrap();
        assert!(cache.has_key("k").await.unwrap());
        assert!(cache.touch("k", Some(ttl)).await.unwrap());
        assert!(cache.add("other", "v", Some(ttl)).await.unwrap());
        cache.delete("other").await.unwrap();
    }
}

#[tokio::test]
async fn default_ttl_is_300_seconds_and_expired_entries_leave_the_map() {
    let cache = InMemoryCache::new(InMemoryOptions {
        ttl: Some(Duration::from_millis(50)),
        ..InMemoryOptions::default()
    });
    for i in 0..100 {
        cache.set(&format!("k{i}"), &i, None).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(cache.keys("").await.unwrap(), Vec::<String>::new());
    // keys() swept the expired entries out of the map in the same pass.
    assert_eq!(cache.len(), 0);
    assert_eq!(
        openviper_cache_memory::DEFAULT_TTL,
        Duration::from_secs(300)
    );
}

#[tokio::test]
async fn instances_do_not_share_entries() {
    let a = InMemoryCache::new(InMemoryOptions::default());
    let b = InMemoryCache::new(InMemoryOptions::default());
    a.set("k", "a", None).await.unwrap();
    assert_eq!(b.get_bytes("k").await.unwrap(), None);
    b.clear().await.unwrap();
    assert!(a.has_key("k").await.unwrap());
}

/// Keys up to 23 bytes are held inline and longer ones on the heap: both kinds, and multi-byte
/// characters across the boundary, are found, listed, counted and removed alike.
#[tokio::test]
async fn short_and_long_keys_behave_alike() {
    // As many entries as bytes: every entry weighs at least 1, i.e. exactly its bytes.
    let cache = InMemoryCache::new(options(1 << 20, Some(1 << 20)));
    let keys = [
        "k".repeat(22),
        "k".repeat(23),
        "k".repeat(24),
        format!("{}é", "k".repeat(21)), // 23 bytes
        format!("{}é", "k".repeat(22)), // 24 bytes
        "é".repeat(250),
    ];
    for (i, key) in keys.iter().enumerate() {
        cache.set(key, &i, None).await.unwrap();
    }
    for (i, key) in keys.iter().enumerate() {
        assert_eq!(cache.get::<usize>(key).await.unwrap(), Some(i), "{key}");
        assert_eq!(cache.incr(key, 1).await.unwrap(), i as i64 + 1, "{key}");
    }
    let mut expected: Vec<String> = keys.to_vec();
    expected.sort();
    assert_eq!(cache.keys("").await.unwrap(), expected);
    let key_bytes: usize = keys.iter().map(String::len).sum();
    // Weight counts each key's bytes, whether held inline or not (values are 1 digit each).
    assert_eq!(cache.weight(), (key_bytes + keys.len()) as u64);
    for key in &keys {
        assert!(cache.delete(key).await.unwrap(), "{key}");
    }
    assert!(cache.is_empty());
}

/// Values up to 8 KiB are decoded under the shard's read lock, larger ones after it is
/// released: both sides of the limit read back whole, typed and as bytes.
#[tokio::test]
async fn values_on_both_sides_of_the_lending_limit_read_back_whole() {
    let cache = InMemoryCache::new(InMemoryOptions::default());
    for len in [0, 1, 100, 8 * 1024 - 8, 8 * 1024, 8 * 1024 + 1, 1 << 20] {
        let text: String = "aé€".chars().cycle().take(len).collect();
        cache.set("text", &text, None).await.unwrap();
        assert_eq!(
            cache.get::<String>("text").await.unwrap(),
            Some(text.clone())
        );
        let raw = Bytes::from(vec![7u8; len]);
        cache.set_bytes("raw", raw.clone(), None).await.unwrap();
        assert_eq!(cache.get_bytes("raw").await.unwrap(), Some(raw));
    }
}

/// Values up to 110 bytes are held inside the entry, larger ones shared: every size around
/// the limit reads back whole, typed and as bytes, as one key's value moves from one kind to the
/// other and back, and counters (always inline) still count.
#[tokio::test]
async fn values_on_both_sides_of_the_inline_limit_read_back_whole() {
    let cache = InMemoryCache::new(InMemoryOptions::default());
    let sizes = (95..=125).chain((95..=125).rev());
    for len in sizes {
        let text = "x".repeat(len);
        cache.set("text", &text, None).await.unwrap();
        assert_eq!(
            cache.get::<String>("text").await.unwrap(),
            Some(text),
            "{len}"
        );
        let raw = Bytes::from((0..len).map(|i| i as u8).collect::<Vec<u8>>());
        cache.set_bytes("raw", raw.clone(), None).await.unwrap();
        assert_eq!(cache.get_bytes("raw").await.unwrap(), Some(raw), "{len}");
    }
    cache
        .set_bytes("n", Bytes::from(vec![b'7'; 200]), None)
        .await
        .unwrap();
    assert!(matches!(
        cache.incr("n", 1).await,
        Err(CacheError::NotAnInteger { .. })
    ));
    cache.set("n", &i64::MAX, None).await.unwrap();
    assert_eq!(cache.incr("n", -1).await.unwrap(), i64::MAX - 1);
    assert_eq!(
        cache.get_bytes("n").await.unwrap().as_deref(),
        Some((i64::MAX - 1).to_string().as_bytes())
    );
}

/// A value type whose decoding panics.
#[derive(Debug)]
struct Explodes;

impl<'de> serde::Deserialize<'de> for Explodes {
    fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        panic!("decoding exploded")
    }
}

/// Decoding runs under the shard's read lock: a decoder that panics must not leave the lock
/// held, or every later write to that shard would hang.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_decoder_leaves_the_shard_usable() {
    let cache = Arc::new(InMemoryCache::new(InMemoryOptions::default()));
    cache.set("k", "small value", None).await.unwrap();
    let reader = Arc::clone(&cache);
    let panicked = tokio::spawn(async move { reader.get::<Explodes>("k").await }).await;
    assert!(panicked.unwrap_err().is_panic());
    let writes = tokio::spawn(async move {
        cache.set("k", "after", None).await.unwrap();
        assert_eq!(cache.incr("n", 2).await.unwrap(), 2);
        cache.get::<String>("k").await.unwrap()
    });
    let value = tokio::time::timeout(Duration::from_secs(10), writes)
        .await
        .expect("a write after the panic hung: the read lock was left held")
        .unwrap();
    assert_eq!(value.as_deref(), Some("after"));
}

/// Typed reads borrow the stored bytes while writers replace them: every read sees one whole
/// value that was written, never a mix or a freed buffer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_reads_racing_writes_see_whole_values() {
    let cache = Arc::new(InMemoryCache::new(InMemoryOptions::default()));
    let values: Arc<Vec<String>> = Arc::new(
        [3, 100, 200, 9_000, 20_000]
            .iter()
            .enumerate()
            .map(|(i, &len)| char::from(b'a' + i as u8).to_string().repeat(len))
            .collect(),
    );
    cache.set("k", &values[0], None).await.unwrap();
    let writer = {
        let (cache, values) = (Arc::clone(&cache), Arc::clone(&values));
        tokio::spawn(async move {
            for round in 0..4_000 {
                cache
                    .set("k", &values[round % values.len()], None)
                    .await
                    .unwrap();
                tokio::task::yield_now().await;
            }
        })
    };
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (cache, values) = (Arc::clone(&cache), Arc::clone(&values));
            tokio::spawn(async move {
                for _ in 0..4_000 {
                    let seen = cache.get::<String>("k").await.unwrap().unwrap();
                    assert!(
                        values.contains(&seen),
                        "a read saw {} bytes of a mix",
                        seen.len()
                    );
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    writer.await.unwrap();
    for reader in readers {
        reader.await.unwrap();
    }
}

/// Every bound that accepts a write holds it: a write that returns `Ok` is readable, and one
/// that cannot be held is `ValueTooLarge`, never silently dropped.
#[tokio::test]
async fn every_bound_that_accepts_a_value_holds_one() {
    for (max_entries, max_bytes) in [
        (1, None),
        (1, Some(1_000)),
        (1, Some(100_000)),
        (2, Some(300)),
        (3, Some(64)),
        (1, Some(40)),
    ] {
        let what = format!("max_entries = {max_entries}, max_bytes = {max_bytes:?}");
        let cache = InMemoryCache::new(options(max_entries, max_bytes));
        match cache.set("k", "v", None).await {
            Ok(()) => assert_eq!(
                cache.get::<String>("k").await.unwrap().as_deref(),
                Some("v"),
                "{what}: set was Ok, get must read it"
            ),
            Err(CacheError::ValueTooLarge { .. }) => {}
            Err(other) => panic!("{what}: {other:?}"),
        }
        cache.delete("k").await.unwrap();
        match cache.add("a", "v", None).await {
            Ok(added) => {
                assert!(added, "{what}: first add");
                assert!(
                    !cache.add("a", "v", None).await.unwrap(),
                    "{what}: second add"
                );
            }
            Err(CacheError::ValueTooLarge { .. }) => {}
            Err(other) => panic!("{what}: {other:?}"),
        }
        cache.clear().await.unwrap();
        match cache.incr("n", 1).await {
            Ok(first) => {
                assert_eq!(first, 1, "{what}");
                assert_eq!(cache.incr("n", 1).await.unwrap(), 2, "{what}: second incr");
            }
            Err(CacheError::ValueTooLarge { .. }) => {}
            Err(other) => panic!("{what}: {other:?}"),
        }
        assert!(
            cache.len() as u64 <= max_entries,
            "{what}: {} entries",
            cache.len()
        );
    }
}

/// A value nested deeper than the decoder reads is refused at `set`, naming the key, so that
/// what `set` accepts `get` reads back.
#[test]
fn a_value_too_deep_to_read_back_is_refused_at_set() {
    #[derive(serde::Serialize)]
    struct Nest(Vec<Nest>);
    // Serializing two thousand levels recurses as deep: more than a test thread's stack.
    let body = || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let deep = (0..2_000).fold(Nest(Vec::new()), |inner, _| Nest(vec![inner]));
            let cache = InMemoryCache::new(InMemoryOptions::default());
            cache.set("deep", "old", None).await.unwrap();
            match cache.set("deep", &deep, None).await {
                Err(CacheError::Serialize { key, .. }) => assert_eq!(key, "deep"),
                other => panic!("{other:?}"),
            }
            assert_eq!(
                cache.get::<String>("deep").await.unwrap().as_deref(),
                Some("old")
            );
        });
    };
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(body)
        .unwrap()
        .join()
        .unwrap();
}

/// `get_or_set_with` whose loader asks for its own key gets an error naming the key at once,
/// never a deadlock; other keys' loaders nest fine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loader_that_loads_its_own_key_is_an_error_not_a_deadlock() {
    let cache = Arc::new(InMemoryCache::new(InMemoryOptions::default()));
    let inner = Arc::clone(&cache);
    let result = tokio::time::timeout(
        Duration::from_secs(10),
        cache.get_or_set_with("report", None, || async move {
            inner
                .get_or_set_with("report", None, || async { Ok::<_, std::io::Error>(1u32) })
                .await
        }),
    )
    .await
    .expect("a re-entrant get_or_set_with deadlocked");
    match result {
        Err(CacheError::Loader { key, source }) => {
            assert_eq!(key, "report");
            assert!(source.to_string().contains("own loader"), "{source}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!cache.has_key("report").await.unwrap());
    // Nested loads of other keys work, and each is cached.
    let outer = Arc::clone(&cache);
    let total: u32 = cache
        .get_or_set_with("total", None, || async move {
            let part: u32 = outer
                .get_or_set_with("part", None, || async { Ok::<_, std::io::Error>(20u32) })
                .await
                .map_err(std::io::Error::other)?;
            Ok::<_, std::io::Error>(part + 1)
        })
        .await
        .unwrap();
    assert_eq!(total, 21);
    assert_eq!(cache.get::<u32>("part").await.unwrap(), Some(20));
}

#[tokio::test]
async fn gauges_report_entries_and_with_max_bytes_the_bytes_held() {
    let by_count = InMemoryCache::new(options(1_000, None));
    by_count
        .set_bytes("a", Bytes::from_static(b"12345"), None)
        .await
        .unwrap();
    by_count
        .set_bytes("bb", Bytes::from_static(b"1"), None)
        .await
        .unwrap();
    let gauges = by_count.gauges();
    assert_eq!((gauges.entries, gauges.bytes), (Some(2), None));
    assert_eq!(
        (gauges.connections, gauges.connections_in_use),
        (None, None)
    );

    // max_entries 1000 over 1 MiB: an entry weighs at least 1049 bytes.
    let by_bytes = InMemoryCache::new(options(1_000, Some(1 << 20)));
    let value = Bytes::from(vec![7u8; 4_000]);
    by_bytes.set_bytes("a", value.clone(), None).await.unwrap();
    by_bytes.set_bytes("b", value, None).await.unwrap();
    by_bytes.delete("a").await.unwrap();
    let gauges = by_bytes.gauges();
    assert_eq!((gauges.entries, gauges.bytes), (Some(1), Some(4_001)));
}
