//! Connecting never hangs: a server that accepts and never answers before the first use, the
//! smallest connect timeout against a healthy server, TLS against a plain-text port. Every
//! operation ends within `timeout_ms` + `connect_timeout_ms` (the test bounds each one, so a
//! regression fails instead of hanging CI), and the same object works once the server answers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use openviper_cache_core::{BaseCache, CacheError, CacheExt};
use openviper_cache_redis::{RedisCache, RedisOptions};

/// What a loaded 2-core CI machine may add to a bound, in the test's own measure.
const SLACK: Duration = Duration::from_millis(750);

fn cache(url: String, timeout_ms: u64, connect_timeout_ms: u64) -> RedisCache {
    RedisCache::new(RedisOptions {
        url: Some(url),
        timeout_ms,
        connect_timeout_ms,
        ..RedisOptions::default()
    })
    .unwrap()
}

/// Runs `op`, failing the test if it takes longer than `bound` (+ slack) or hangs.
async fn bounded<T>(bound: Duration, op: impl Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let result = tokio::time::timeout(bound * 4 + Duration::from_secs(5), op)
        .await
        .unwrap_or_else(|_| panic!("an operation hung (bound {bound:?})"));
    let took = started.elapsed();
    assert!(took <= bound + SLACK, "took {took:?}, bound {bound:?}");
    (result, took)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_frozen_before_first_use_never_hangs_a_caller_and_is_used_once_it_thaws() {
    let Some(server) = support::own_redis(&[]) else {
        return;
    };
    let (timeout_ms, connect_ms) = (300, 400);
    let bound = Duration::from_millis(timeout_ms + connect_ms);
    let cache = std::sync::Arc::new(cache(support::url(&server), timeout_ms, connect_ms));
    server.signal("-STOP");
    // The first caller, later callers, and many at once: each answered within its bound.
    for round in 0..3 {
        let (result, _) = bounded(bound, cache.set("k", "v", None)).await;
        match result {
            Err(CacheError::Timeout { .. } | CacheError::Backend { .. }) => {}
            other => panic!("round {round}: {other:?}"),
        }
    }
    let callers: Vec<_> = (0..16)
        .map(|i| {
            let cache = std::sync::Arc::clone(&cache);
            tokio::spawn(async move { bounded(bound, cache.get_bytes(&format!("k{i}"))).await.0 })
        })
        .collect();
    for caller in callers {
        let error = caller.await.unwrap().unwrap_err();
        assert!(error.is_temporary(), "{error}");
        assert!(error.to_string().contains("127.0.0.1"), "{error}");
    }
    server.signal("-CONT");
    // The same object recovers by itself, soon.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (result, _) = bounded(bound, cache.set("k", "after", None)).await;
        if result.is_ok() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no recovery after SIGCONT: {result:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        cache.get::<String>("k").await.unwrap().as_deref(),
        Some("after")
    );
    cache.delete("k").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_smallest_connect_timeout_never_hangs_and_still_connects() {
    let Some(url) = support::service("OPENVIPER_TEST_REDIS_URL") else {
        return;
    };
    let timeout_ms = 500;
    let cache = cache(url, timeout_ms, 1);
    let bound = Duration::from_millis(timeout_ms + 1);
    let key = format!("connect-1ms-{}", std::process::id());
    // An attempt that outlives the 1 ms its caller waits goes on in the background, so a later
    // caller finds the cache connected.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (result, _) = bounded(bound, cache.set(&key, "v", None)).await;
        match result {
            Ok(()) => break,
            Err(CacheError::Timeout { .. }) => {}
            Err(other) => panic!("{other:?}"),
        }
        assert!(
            Instant::now() < deadline,
            "never connected with connect_timeout_ms = 1"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        cache.get::<String>(&key).await.unwrap().as_deref(),
        Some("v")
    );
    assert!(cache.delete(&key).await.unwrap());
}

#[test]
fn a_zero_connect_timeout_is_refused_naming_the_option() {
    let err = RedisCache::new(RedisOptions {
        connect_timeout_ms: 0,
        ..RedisOptions::default()
    })
    .unwrap_err();
    assert!(matches!(err, CacheError::Config { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("connect_timeout_ms"), "{text}");
    // Built directly, the cache is named by its server, not by an alias nobody defined.
    assert!(text.contains("RedisCache(localhost:6379/0)"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_against_a_plain_text_port_errors_within_the_timeouts() {
    let Some(url) = support::service("OPENVIPER_TEST_REDIS_URL") else {
        return;
    };
    let (timeout_ms, connect_ms) = (300, 500);
    let cache = RedisCache::new(RedisOptions {
        url: Some(url.replacen("redis://", "rediss://", 1)),
        timeout_ms,
        connect_timeout_ms: connect_ms,
        ..RedisOptions::default()
    })
    .unwrap();
    let bound = Duration::from_millis(timeout_ms + connect_ms);
    let server = url
        .trim_start_matches("redis://")
        .split('/')
        .next()
        .unwrap();
    for _ in 0..2 {
        let (result, _) = bounded(bound, cache.get_bytes("k")).await;
        let error = result.unwrap_err();
        assert!(error.to_string().contains(server), "{error}");
    }
}
