//! Sentinel: the cache asks the sentinel where the primary is and works through it
//! (`OPENVIPER_TEST_REDIS_SENTINEL`, set by `cargo xtask test`, watches the standalone server).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use openviper_cache_core::{CacheExt, build_backend};
use openviper_cache_redis::BACKEND_NAME;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reaches_the_primary_through_the_sentinel() {
    let Some(sentinel) = support::service("OPENVIPER_TEST_REDIS_SENTINEL") else {
        return;
    };
    let Some(service) = support::service("OPENVIPER_TEST_REDIS_SENTINEL_SERVICE") else {
        return;
    };
    let Some(url) = support::service("OPENVIPER_TEST_REDIS_URL") else {
        return;
    };
    let prefix = format!("sentinel{}:", std::process::id());
    let via_sentinel = build_backend(
        "ha",
        BACKEND_NAME,
        serde_json::json!({ "sentinel_nodes": [sentinel], "service_name": service, "key_prefix": prefix }),
    )
    .unwrap();
    let direct = build_backend(
        "direct",
        BACKEND_NAME,
        serde_json::json!({ "url": url, "key_prefix": prefix }),
    )
    .unwrap();

    via_sentinel
        .set("k", "through the sentinel", None)
        .await
        .unwrap();
    assert_eq!(
        direct.get::<String>("k").await.unwrap().as_deref(),
        Some("through the sentinel")
    );
    assert_eq!(via_sentinel.incr("n", 2).await.unwrap(), 2);
    assert_eq!(
        via_sentinel.keys("").await.unwrap(),
        vec!["k".to_owned(), "n".to_owned()]
    );
    via_sentinel.clear().await.unwrap();
    assert!(!direct.has_key("k").await.unwrap());
    assert!(format!("{via_sentinel:?}").contains("sentinel"));

    let unknown = build_backend(
        "ha",
        BACKEND_NAME,
        serde_json::json!({ "sentinel_nodes": [sentinel], "service_name": "no-such-service", "timeout_ms": 500 }),
    )
    .unwrap();
    let err = unknown.get_bytes("k").await.unwrap_err();
    assert!(err.to_string().contains("no-such-service"), "{err}");
}
