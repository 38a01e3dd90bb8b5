//! What only MemcachedCache promises: every valid key works within memcached's 250 bytes, TTLs
//! past 30 days, the value limits, namespaced clear across objects, typed errors for bad
//! settings and unreachable hosts. Against the shared test servers of `cargo xtask test`, with
//! a fresh prefix per test, in `namespace` mode wherever a test clears.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use async_memcached::AsciiProtocol;
use openviper_cache_core::{BaseCache, Bytes, CacheError, CacheExt, ClearScope, build_backend};
use openviper_cache_memcached::{BACKEND_NAME, MemcachedCache, MemcachedOptions};

fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("t{}{nanos:x}{tag}:", std::process::id())
}

fn prefixed(server: &str, prefix: &str, extra: serde_json::Value) -> std::sync::Arc<dyn BaseCache> {
    let mut options = serde_json::json!({ "servers": [server], "key_prefix": prefix });
    if let (Some(options), serde_json::Value::Object(extra)) = (options.as_object_mut(), extra) {
        options.extend(extra);
    }
    build_backend("mc", BACKEND_NAME, options).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_250_character_key_of_4_byte_characters_works() {
    let Some(server) = support::shared_server() else {
        return;
    };
    let cache = prefixed(&server, &unique("wide"), serde_json::json!({}));
    let key = "🙂".repeat(250); // 1000 bytes
    let other = format!("{}😀", "🙂".repeat(249));
    cache.set(&key, "one", None).await.unwrap();
    cache.set(&other, "two", None).await.unwrap();
    assert_eq!(
        cache.get::<String>(&key).await.unwrap().as_deref(),
        Some("one")
    );
    assert_eq!(
        cache.get::<String>(&other).await.unwrap().as_deref(),
        Some("two")
    );
    assert_eq!(
        cache
            .incr(&format!("{}n", "🙂".repeat(249)), 3)
            .await
            .unwrap(),
        3
    );
    assert_eq!(cache.delete_many(&[&key, &other]).await.unwrap(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_at_the_250_byte_boundary_and_past_it_stay_apart() {
    let Some(server) = support::shared_server() else {
        return;
    };
    let prefix = unique("edge");
    let cache = prefixed(&server, &prefix, serde_json::json!({}));
    let at = "a".repeat(250 - prefix.len()); // the store key is exactly 250 bytes
    let past = format!("{at}a"); // 251: hashed
    assert!(openviper_cache_core::validate_cache_key(&past).is_ok());
    cache.set(&at, "at", None).await.unwrap();
    cache.set(&past, "past", None).await.unwrap();
    assert_eq!(
        cache.get::<String>(&at).await.unwrap().as_deref(),
        Some("at")
    );
    assert_eq!(
        cache.get::<String>(&past).await.unwrap().as_deref(),
        Some("past")
    );
    // The 250-byte key is stored as it is; the longer one under its hashed form.
    let mut raw = support::raw(&server).await;
    let stored = raw
        .get(format!("{prefix}{at}"))
        .await
        .unwrap()
        .expect("plain key");
    assert!(stored.data.unwrap().starts_with(&[0xC1, 0x01]));
    assert!(
        raw.get(format!("{prefix}{past}")).await.is_err()
            || raw.get(format!("{prefix}{past}")).await.unwrap().is_none()
    );
    assert_eq!(cache.delete_many(&[&at, &past]).await.unwrap(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_31_day_ttl_is_sent_as_an_absolute_time_and_stays_readable() {
    let Some(server) = support::shared_server() else {
        return;
    };
    let cache = prefixed(&server, &unique("long"), serde_json::json!({}));
    let month = Duration::from_secs(31 * 24 * 3_600);
    cache.set("k", "kept", Some(month)).await.unwrap();
    assert_eq!(
        cache.get::<String>("k").await.unwrap().as_deref(),
        Some("kept")
    );
    assert!(cache.touch("k", Some(month * 2)).await.unwrap());
    assert_eq!(
        cache.get::<String>("k").await.unwrap().as_deref(),
        Some("kept")
    );
    assert!(cache.add("fresh", "added", Some(month)).await.unwrap());
    assert!(cache.has_key("fresh").await.unwrap());
    // A counter created with a 31-day alias TTL, then incremented, keeps it.
    let counting = prefixed(
        &server,
        &unique("longc"),
        serde_json::json!({ "ttl": month.as_secs() }),
    );
    assert_eq!(counting.incr("n", 1).await.unwrap(), 1);
    assert_eq!(counting.incr("n", 1).await.unwrap(), 2);
    assert_eq!(counting.get::<i64>("n").await.unwrap(), Some(2));
    cache.delete_many(&["k", "fresh"]).await.unwrap();
    counting.delete("n").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_at_and_over_the_limits_are_refused_and_remove_the_old_value() {
    let Some(server) = support::shared_server() else {
        return;
    };
    let cache = prefixed(&server, &unique("big"), serde_json::json!({}));
    assert_eq!(cache.capabilities().max_value_bytes, Some(1_048_576));
    // Well under the item limit: stored.
    let fits = Bytes::from(vec![1u8; 1_048_576 - 4_096]);
    cache.set_bytes("v", fits.clone(), None).await.unwrap();
    assert_eq!(cache.get_bytes("v").await.unwrap(), Some(fits));
    // At max_value_bytes: memcached's 1 MiB item also holds the key and a header, so the server
    // refuses it, and that is ValueTooLarge too, with the old value removed.
    for size in [1_048_576, 1_048_577] {
        cache.set("v", "old", None).await.unwrap();
        match cache
            .set_bytes("v", Bytes::from(vec![2u8; size]), None)
            .await
        {
            Err(CacheError::ValueTooLarge {
                key, size: refused, ..
            }) => {
                assert_eq!((key.as_str(), refused), ("v", size));
            }
            other => panic!("{size} bytes: {other:?}"),
        }
        assert_eq!(
            cache.get_bytes("v").await.unwrap(),
            None,
            "old value after {size} bytes"
        );
    }
    // Over the server's item limit with a larger max_value_bytes: the server's refusal.
    let lenient = prefixed(
        &server,
        &unique("bigger"),
        serde_json::json!({ "max_value_bytes": 4_194_304 }),
    );
    lenient.set("w", "old", None).await.unwrap();
    match lenient
        .set_bytes("w", Bytes::from(vec![3u8; 2 << 20]), None)
        .await
    {
        Err(CacheError::ValueTooLarge { .. }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(lenient.get_bytes("w").await.unwrap(), None);
    // The connection that carried the refused value is still usable.
    lenient.set("w", "after", None).await.unwrap();
    assert_eq!(
        lenient.get::<String>("w").await.unwrap().as_deref(),
        Some("after")
    );
    // add never replaces: a refused add leaves the old value.
    lenient.set("w", "kept", None).await.unwrap();
    assert!(
        lenient
            .add_bytes("w", Bytes::from(vec![0u8; 5 << 20]), None)
            .await
            .is_err()
    );
    assert_eq!(
        lenient.get::<String>("w").await.unwrap().as_deref(),
        Some("kept")
    );
    lenient.delete("w").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namespaced_clear_spares_other_data_and_reaches_other_objects() {
    let Some(server) = support::shared_server() else {
        return;
    };
    let prefix = unique("ns");
    let options = serde_json::json!({ "clear_mode": "namespace", "namespace_refresh_ms": 200 });
    let a = prefixed(&server, &prefix, options.clone());
    let b = prefixed(&server, &prefix, options);
    assert_eq!(a.capabilities().clear, ClearScope::Namespace);
    let mut raw = support::raw(&server).await;
    let foreign = format!("{prefix}foreign");
    raw.set(&foreign, "someone else's", Some(0), None)
        .await
        .unwrap();
    a.set("k", "v", None).await.unwrap();
    assert_eq!(b.get::<String>("k").await.unwrap().as_deref(), Some("v"));
    a.clear().await.unwrap();
    assert!(
        !a.has_key("k").await.unwrap(),
        "the clearing object still sees its key"
    );
    // The other object sees the clear once its generation is older than 200 ms.
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(
        !b.has_key("k").await.unwrap(),
        "another object still sees a cleared key"
    );
    let kept = raw
        .get(&foreign)
        .await
        .unwrap()
        .expect("foreign data survived");
    assert_eq!(kept.data.as_deref(), Some(&b"someone else's"[..]));
    raw.delete(&foreign).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_generation_never_brings_old_entries_back() {
    let Some(mut server) = support::own_memcached() else {
        return;
    };
    let prefix = unique("lost");
    let options = serde_json::json!({ "clear_mode": "namespace", "namespace_refresh_ms": 0 });
    let cache = prefixed(&server.address(), &prefix, options);
    cache.set("k", "before", None).await.unwrap();
    let mut raw = support::raw(&server.address()).await;
    let generation_key = format!("{prefix}#generation");
    let first = raw
        .get(&generation_key)
        .await
        .unwrap()
        .unwrap()
        .data
        .unwrap();
    // The generation is lost (an eviction, a restart), the entries are not: a new generation is
    // random, never the old one, so the old entry stays unreachable.
    raw.delete(&generation_key).await.unwrap();
    assert_eq!(cache.get_bytes("k").await.unwrap(), None);
    let second = raw
        .get(&generation_key)
        .await
        .unwrap()
        .unwrap()
        .data
        .unwrap();
    assert_ne!(first, second);
    // A restarted server works again for the same object.
    server.restart();
    let deadline = Instant::now() + Duration::from_secs(10);
    while cache.set("k", "after", None).await.is_err() {
        assert!(Instant::now() < deadline, "no recovery after a restart");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        cache.get::<String>("k").await.unwrap().as_deref(),
        Some("after")
    );
}

#[test]
fn bad_settings_are_config_errors_naming_the_option() {
    for (options, option) in [
        (serde_json::json!({ "servers": ["no-port"] }), "servers"),
        (serde_json::json!({ "servers": ["h:0"] }), "servers"),
        (serde_json::json!({ "servers": ["h:70000"] }), "servers"),
        (serde_json::json!({ "servers": ["a:1", "a:1"] }), "servers"),
        (
            serde_json::json!({ "host": "a", "servers": ["b:1"] }),
            "servers",
        ),
        (serde_json::json!({ "port": 0 }), "port"),
        (serde_json::json!({ "pool_size": 0 }), "pool_size"),
        (serde_json::json!({ "timeout_ms": 0 }), "timeout_ms"),
        (
            serde_json::json!({ "connect_timeout_ms": 0 }),
            "connect_timeout_ms",
        ),
        (
            serde_json::json!({ "max_value_bytes": 0 }),
            "max_value_bytes",
        ),
        (
            serde_json::json!({ "clear_mode": "everything" }),
            "clear_mode",
        ),
        (
            serde_json::json!({ "key_prefix": "p".repeat(200) }),
            "key_prefix",
        ),
        (
            serde_json::json!({ "key_prefix": "has space" }),
            "key_prefix",
        ),
        (serde_json::json!({ "ttl": 0 }), "ttl"),
        (serde_json::json!({ "servers": "h:1" }), "servers"),
    ] {
        match build_backend("sessions", BACKEND_NAME, options.clone()) {
            Err(err @ CacheError::Config { .. }) => {
                let text = err.to_string();
                assert!(
                    text.contains("\"sessions\"") && text.contains(option),
                    "{options}: {text}"
                );
            }
            other => panic!("{options}: {other:?}"),
        }
    }
    // Built directly, errors name the servers.
    let err = MemcachedCache::new(MemcachedOptions {
        pool_size: 0,
        ..MemcachedOptions::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("localhost:11211"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_hosts_are_typed_temporary_errors_in_time() {
    // Port 1 refuses at once; an unknown host name fails its lookup.
    for server in ["127.0.0.1:1", "no-such-host.invalid:11211"] {
        let cache = MemcachedCache::new(MemcachedOptions {
            servers: vec![server.into()],
            timeout_ms: 300,
            connect_timeout_ms: 500,
            ..MemcachedOptions::default()
        })
        .unwrap();
        for _ in 0..2 {
            let started = Instant::now();
            let err = cache.set("k", "v", None).await.unwrap_err();
            assert!(
                started.elapsed() < Duration::from_secs(3),
                "{server}: {:?}",
                started.elapsed()
            );
            assert!(err.is_temporary(), "{server}: {err}");
            assert!(err.to_string().contains(server), "{err}");
        }
    }
}

/// Each pooled connection keeps one timer for its commands; when the connection sits idle past
/// its last deadline that timer fires with no command under way. The next commands must still
/// get their whole `timeout_ms`, on every connection of the pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_idle_past_their_last_deadline_serve_the_next_commands() {
    let Some(server) = support::shared_server() else {
        return;
    };
    let cache = prefixed(
        &server,
        &unique("idle"),
        serde_json::json!({ "timeout_ms": 200, "pool_size": 4 }),
    );
    for round in 0..3 {
        let tasks: Vec<_> = (0..8)
            .map(|n| {
                let cache = std::sync::Arc::clone(&cache);
                tokio::spawn(async move {
                    let key = format!("k{n}");
                    cache
                        .set(&key, &format!("{round}:{n}"), None)
                        .await
                        .unwrap();
                    cache.get::<String>(&key).await.unwrap()
                })
            })
            .collect();
        for (n, task) in tasks.into_iter().enumerate() {
            assert_eq!(
                task.await.unwrap().as_deref(),
                Some(format!("{round}:{n}").as_str())
            );
        }
        // Idle well past every connection's last deadline.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let keys: Vec<String> = (0..8).map(|n| format!("k{n}")).collect();
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    assert_eq!(cache.delete_many(&refs).await.unwrap(), 8);
}
