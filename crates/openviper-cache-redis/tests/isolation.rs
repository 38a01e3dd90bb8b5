//! Prefixes: other prefixes and other applications' keys survive `clear()`, glob characters in
//! a prefix are literal, `keys()` strips the prefix; on a standalone server and on a cluster.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use fred::prelude::KeysInterface;
use openviper_cache_core::{BaseCache, CacheExt};
use openviper_cache_redis::{RedisCache, RedisOptions};

fn targets() -> Vec<(&'static str, RedisOptions)> {
    let mut targets = Vec::new();
    if let Some(url) = support::service("OPENVIPER_TEST_REDIS_URL") {
        targets.push((
            "standalone",
            RedisOptions {
                url: Some(url),
                ..RedisOptions::default()
            },
        ));
    }
    if let Some(nodes) = support::service("OPENVIPER_TEST_REDIS_CLUSTER") {
        targets.push((
            "cluster",
            RedisOptions {
                cluster_nodes: nodes.split(',').map(str::to_owned).collect(),
                ..RedisOptions::default()
            },
        ));
    }
    targets
}

fn with_prefix(options: &RedisOptions, prefix: &str) -> RedisCache {
    RedisCache::new(RedisOptions {
        key_prefix: Some(prefix.to_owned()),
        ..options.clone()
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clear_spares_other_prefixes_and_foreign_keys() {
    for (layout, options) in targets() {
        let run = format!("{}{}", std::process::id(), layout);
        // Glob characters in our prefix, and a foreign key the unescaped glob would match.
        let ours = with_prefix(&options, &format!("iso{run}:a*[b]?:"));
        let neighbour = with_prefix(&options, &format!("iso{run}:other:"));
        let foreign_key = format!("iso{run}:aXbY:k");

        for i in 0..200 {
            ours.set(&format!("k{i}"), &i, None).await.unwrap();
        }
        neighbour.set("k1", "theirs", None).await.unwrap();
        let raw = ours.fred_pool();
        let _: () = raw
            .set(foreign_key.as_str(), "foreign", None, None, false)
            .await
            .unwrap();

        let mut listed = ours.keys("k1").await.unwrap();
        listed.sort();
        assert_eq!(listed.len(), 111, "{layout}: keys(\"k1\") = {listed:?}"); // k1, k10..k19, k100..k199
        assert!(
            listed.iter().all(|k| k.starts_with("k1")),
            "{layout}: {listed:?}"
        );

        ours.clear().await.unwrap();
        assert!(
            ours.keys("").await.unwrap().is_empty(),
            "{layout}: keys after clear"
        );
        assert!(!ours.has_key("k1").await.unwrap(), "{layout}");
        assert_eq!(
            neighbour.get::<String>("k1").await.unwrap().as_deref(),
            Some("theirs"),
            "{layout}"
        );
        let foreign: Option<String> = raw.get(foreign_key.as_str()).await.unwrap();
        assert_eq!(
            foreign.as_deref(),
            Some("foreign"),
            "{layout}: clear() removed a foreign key"
        );

        neighbour.clear().await.unwrap();
        let _: u64 = raw.del(foreign_key.as_str()).await.unwrap();
        ours.close().await.unwrap();
        neighbour.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_stored_under_the_prefix_and_read_by_other_clients() {
    for (layout, options) in targets() {
        let prefix = format!("iso{}{layout}:raw:", std::process::id());
        let cache = with_prefix(&options, &prefix);
        cache.set("counter", &41i64, None).await.unwrap();
        assert_eq!(cache.incr("counter", 1).await.unwrap(), 42);
        // Another client sees the ASCII decimal integer under the full key.
        let raw: Option<String> = cache
            .fred_pool()
            .get(format!("{prefix}counter"))
            .await
            .unwrap();
        assert_eq!(raw.as_deref(), Some("42"), "{layout}");
        cache.clear().await.unwrap();
    }
}

#[tokio::test]
async fn default_prefix_is_ov_cache() {
    let cache = RedisCache::new(RedisOptions::default()).unwrap();
    assert_eq!(cache.key_prefix(), "ov:cache:");
}
