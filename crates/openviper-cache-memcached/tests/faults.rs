//! Faults on servers the tests own: one of two servers killed (its keys error within the
//! timeouts, the other's keep working, and the same object uses it again once it is back), and a
//! frozen server (every caller errors within the timeouts; after `SIGCONT` every key reads back
//! its own value: no late reply reaches another caller).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use openviper_cache_core::{CacheError, CacheExt};
use openviper_cache_memcached::{MemcachedCache, MemcachedOptions};
use support::OwnServer;

const TIMEOUT_MS: u64 = 300;
const CONNECT_TIMEOUT_MS: u64 = 300;
/// What a loaded 2-core CI machine may add, in the test's own measure.
const SLACK: Duration = Duration::from_millis(750);

/// Every operation, waiting for a pooled connection and connecting included, ends within
/// `timeout_ms`.
fn bound() -> Duration {
    Duration::from_millis(TIMEOUT_MS) + SLACK
}

fn cache(servers: &[&OwnServer]) -> Arc<MemcachedCache> {
    Arc::new(
        MemcachedCache::new(MemcachedOptions {
            servers: servers.iter().map(|s| s.address()).collect(),
            timeout_ms: TIMEOUT_MS,
            connect_timeout_ms: CONNECT_TIMEOUT_MS,
            pool_size: 4,
            ..MemcachedOptions::default()
        })
        .unwrap(),
    )
}

/// Runs `op`, failing the test if it takes longer than the bound or hangs.
async fn timed<T>(op: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let result = tokio::time::timeout(Duration::from_secs(20), op)
        .await
        .expect("an operation hung");
    let took = started.elapsed();
    assert!(took <= bound(), "took {took:?}, bound {:?}", bound());
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_server_fails_only_its_keys_and_is_used_again_when_it_returns() {
    let (Some(mut a), Some(b)) = (support::own_memcached(), support::own_memcached()) else {
        return;
    };
    let cache = cache(&[&a, &b]);
    let keys: Vec<String> = (0..200).map(|i| format!("spread:{i}")).collect();
    for key in &keys {
        cache.set(key, key, None).await.unwrap();
    }
    a.kill();
    let (mut failed, mut served) = (Vec::new(), 0);
    for key in &keys {
        match timed(cache.get::<String>(key)).await {
            Ok(Some(value)) => {
                assert_eq!(&value, key, "a key read another key's value");
                served += 1;
            }
            Ok(None) => panic!("{key} moved to the other server: a silent miss"),
            Err(err) => {
                assert!(err.is_temporary(), "{err}");
                assert!(err.to_string().contains(&a.address()), "{err}");
                failed.push(key.clone());
            }
        }
    }
    assert!(
        !failed.is_empty() && served > 0,
        "{} failed, {served} served",
        failed.len()
    );
    // Writes of a dead server's keys fail too, and are never sent elsewhere.
    assert!(
        timed(cache.set(&failed[0], "elsewhere?", None))
            .await
            .is_err()
    );

    a.restart();
    let deadline = Instant::now() + Duration::from_secs(10);
    while timed(cache.set(&failed[0], "back", None)).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "the returned server is not used again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Its data died with it: misses, not values of the surviving server.
    assert_eq!(
        cache.get::<String>(&failed[0]).await.unwrap().as_deref(),
        Some("back")
    );
    assert_eq!(cache.get::<String>(&failed[1]).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_server_fails_every_caller_in_time_and_no_late_reply_reaches_another() {
    let Some(server) = support::own_memcached() else {
        return;
    };
    let cache = cache(&[&server]);
    for t in 0..16 {
        for i in 0..10 {
            let key = format!("own:{t}:{i}");
            cache.set(&key, &key, None).await.unwrap();
        }
    }
    server.signal("-STOP");
    let callers: Vec<_> = (0..16)
        .map(|t| {
            let cache = Arc::clone(&cache);
            tokio::spawn(async move {
                for i in 0..3 {
                    let key = format!("own:{t}:{i}");
                    match timed(cache.get::<String>(&key)).await {
                        Err(CacheError::Timeout { .. } | CacheError::Backend { .. }) => {}
                        other => panic!("{key} while frozen: {other:?}"),
                    }
                }
            })
        })
        .collect();
    for caller in callers {
        caller.await.unwrap();
    }
    server.signal("-CONT");
    // The replies to the timed-out reads now arrive on connections nobody may use again: every
    // key reads back its own value.
    let readers: Vec<_> = (0..16)
        .map(|t| {
            let cache = Arc::clone(&cache);
            tokio::spawn(async move {
                let deadline = Instant::now() + Duration::from_secs(10);
                for i in 0..10 {
                    let key = format!("own:{t}:{i}");
                    loop {
                        match cache.get::<String>(&key).await {
                            Ok(value) => {
                                assert_eq!(value.as_deref(), Some(key.as_str()), "late reply");
                                break;
                            }
                            Err(err) => {
                                assert!(Instant::now() < deadline, "no recovery: {err}");
                                tokio::time::sleep(Duration::from_millis(50)).await;
                            }
                        }
                    }
                }
            })
        })
        .collect();
    for reader in readers {
        reader.await.unwrap();
    }
}
