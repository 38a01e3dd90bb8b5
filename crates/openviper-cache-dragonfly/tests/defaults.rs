//! DragonflyCache's own defaults, checked against redis-server (Dragonfly cannot be installed
//! here; it speaks the same protocol).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use openviper_cache_core::{CacheExt, build_backend};
use openviper_cache_dragonfly::{BACKEND_NAME, DragonflyCache};
use openviper_cache_redis::RedisOptions;

#[test]
fn defaults_are_dragonflys() {
    let cache = DragonflyCache::new(RedisOptions::default()).unwrap();
    assert_eq!(cache.redis().key_prefix(), "ov:df:");
    let text = format!("{cache:?}");
    assert!(text.contains("DragonflyCache(localhost:6379/0)"), "{text}");
}

#[tokio::test]
async fn keys_live_under_ov_df_beside_redis_caches() {
    let Some(url) = openviper_cache_conformance::servers::service("OPENVIPER_TEST_REDIS_URL")
    else {
        return;
    };
    let key = format!("defaults-{}", std::process::id());
    let dragonfly = build_backend("df", BACKEND_NAME, serde_json::json!({ "url": url })).unwrap();
    let redis = build_backend(
        "r",
        "openviper.cache.RedisCache",
        serde_json::json!({ "url": url }),
    )
    .unwrap();
    dragonfly.set(&key, "dragonfly", None).await.unwrap();
    redis.set(&key, "redis", None).await.unwrap();
    assert_eq!(
        dragonfly.get::<String>(&key).await.unwrap().as_deref(),
        Some("dragonfly")
    );
    assert_eq!(
        redis.get::<String>(&key).await.unwrap().as_deref(),
        Some("redis")
    );
    let raw = build_backend(
        "raw",
        "openviper.cache.RedisCache",
        serde_json::json!({ "url": url, "key_prefix": "ov:df:" }),
    )
    .unwrap();
    assert_eq!(
        raw.get::<String>(&key).await.unwrap().as_deref(),
        Some("dragonfly")
    );
    dragonfly.delete(&key).await.unwrap();
    redis.delete(&key).await.unwrap();
}
