//! The instrumentation layer's metrics, read back through metrics-util's debugging recorder:
//! hits, misses, operations by op, errors by kind, the latency histogram, each labelled with
//! alias and backend; a dead Redis counts as an error of its kind. One recorder per process,
//! installed before the caches are built, as a service does.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(all(feature = "memory", feature = "redis"))]

use std::collections::HashMap;

use metrics_util::MetricKind;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use openviper_cache::{CacheExt, CacheManager, CacheSettings};

/// (kind, name, sorted labels) -> value.
type Seen = HashMap<(MetricKind, String, Vec<(String, String)>), DebugValue>;

fn seen(snapshotter: &Snapshotter) -> Seen {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let (kind, key) = key.into_parts();
            let mut labels: Vec<(String, String)> = key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            labels.sort();
            ((kind, key.name().to_owned(), labels), value)
        })
        .collect()
}

fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut labels: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    labels.sort();
    labels
}

fn counter(seen: &Seen, name: &str, pairs: &[(&str, &str)]) -> u64 {
    match seen.get(&(MetricKind::Counter, name.to_owned(), labels(pairs))) {
        Some(DebugValue::Counter(n)) => *n,
        other => panic!("{name} {pairs:?}: {other:?}\nall: {:#?}", seen.keys()),
    }
}

#[test]
fn counters_and_histograms_per_alias_backend_op_and_kind() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install().unwrap();
    let manager = CacheManager::new(
        CacheSettings::from_toml_str(
            r#"
            [CACHES.pages]
            BACKEND = "openviper.cache.InMemoryCache"
            [CACHES.dead]
            BACKEND = "openviper.cache.RedisCache"
            OPTIONS = { url = "redis://app:hunter2@127.0.0.1:1/0", timeout_ms = 200, connect_timeout_ms = 200 }
            "#,
        )
        .unwrap(),
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let pages = manager.get("pages").unwrap();
        pages.set("a", "1", None).await.unwrap();
        pages.set("b", "2", None).await.unwrap();
        assert_eq!(
            pages.get::<String>("a").await.unwrap().as_deref(),
            Some("1")
        ); // hit, typed
        assert_eq!(pages.get_bytes("nope").await.unwrap(), None); // miss
        let found = pages.get_many_bytes(&["a", "b", "c"]).await.unwrap(); // 2 hits, 1 miss
        assert_eq!(found.iter().filter(|v| v.is_some()).count(), 2);
        assert!(pages.get_bytes("not valid").await.is_err()); // invalid key
        let dead = manager.get("dead").unwrap();
        assert!(dead.get_bytes("k").await.is_err());
        // The gauges are read at most once a second, on a timed operation (one in 64 on a
        // thread): past the second, 64 operations on this thread publish them again.
        tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
        for _ in 0..64 {
            pages.has_key("a").await.unwrap();
        }
    });

    let seen = seen(&snapshotter);
    let memory = [
        ("alias", "pages"),
        ("backend", "openviper.cache.InMemoryCache"),
    ];
    // Three hits, then the 64 `has_key`s.
    assert_eq!(
        counter(&seen, "openviper_cache_hits_total", &memory),
        3 + 64
    );
    assert_eq!(counter(&seen, "openviper_cache_misses_total", &memory), 2);
    let op = |op: &'static str| {
        let mut pairs = memory.to_vec();
        pairs.push(("op", op));
        pairs
    };
    assert_eq!(
        counter(&seen, "openviper_cache_operations_total", &op("set")),
        2
    );
    assert_eq!(
        counter(&seen, "openviper_cache_operations_total", &op("get")),
        3
    );
    assert_eq!(
        counter(&seen, "openviper_cache_operations_total", &op("get_many")),
        1
    );
    let mut invalid = memory.to_vec();
    invalid.push(("kind", "invalid_key"));
    assert_eq!(counter(&seen, "openviper_cache_errors_total", &invalid), 1);
    let dead_kinds: Vec<&Vec<(String, String)>> = seen
        .keys()
        .filter(|(_, name, labels)| {
            name == "openviper_cache_errors_total"
                && labels.contains(&("alias".to_owned(), "dead".to_owned()))
        })
        .map(|(_, _, labels)| labels)
        .collect();
    assert_eq!(dead_kinds.len(), 1, "{dead_kinds:?}");
    let kind = &dead_kinds[0].iter().find(|(k, _)| k == "kind").unwrap().1;
    assert!(
        kind == "unavailable" || kind == "timeout",
        "a dead Redis is {kind}"
    );
    assert!(dead_kinds[0].contains(&(
        "backend".to_owned(),
        "openviper.cache.RedisCache".to_owned()
    )));

    // Latencies: one operation in 64 per thread is timed, each a duration in seconds.
    let timed: Vec<f64> = seen
        .iter()
        .filter(|((kind, name, labels), _)| {
            *kind == MetricKind::Histogram
                && name == "openviper_cache_operation_seconds"
                && labels.contains(&("alias".to_owned(), "pages".to_owned()))
        })
        .flat_map(|(_, value)| match value {
            DebugValue::Histogram(values) => values.iter().map(|v| v.into_inner()).collect(),
            _ => Vec::new(),
        })
        .collect();
    assert!(!timed.is_empty(), "no latency recorded");
    assert!(timed.iter().all(|s| *s >= 0.0 && *s < 5.0), "{timed:?}");

    match seen.get(&(
        MetricKind::Gauge,
        "openviper_cache_entries".to_owned(),
        labels(&memory),
    )) {
        Some(DebugValue::Gauge(entries)) => assert_eq!(entries.into_inner(), 2.0),
        other => panic!("openviper_cache_entries: {other:?}"),
    }

    // Nothing of a secret in any label.
    assert!(!format!("{:?}", seen.keys()).contains("hunter2"));

    let stats = manager.stats("pages").unwrap();
    assert_eq!(
        (stats.hits, stats.misses, stats.errors, stats.operations),
        (3 + 64, 2, 1, 6 + 64)
    );
    assert_eq!(stats.gauges.entries, Some(2));
    assert_eq!(manager.stats("dead").unwrap().errors, 1);
}
