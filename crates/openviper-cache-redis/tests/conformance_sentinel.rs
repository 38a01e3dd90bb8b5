//! The shared conformance suite on RedisCache through Redis Sentinel
//! (`OPENVIPER_TEST_REDIS_SENTINEL`, watching the standalone server of `cargo xtask test`).

use openviper_cache_conformance::{Subject, conformance_main};
use openviper_cache_redis::BACKEND_NAME;

conformance_main!(BACKEND_NAME, || {
    let var = |name: &str| {
        std::env::var(name).map_err(|_| format!("{name} is not set (run `cargo xtask test`)"))
    };
    let sentinel = var("OPENVIPER_TEST_REDIS_SENTINEL")?;
    let service = var("OPENVIPER_TEST_REDIS_SENTINEL_SERVICE")?;
    Ok(Subject::new(
        BACKEND_NAME,
        serde_json::json!({ "sentinel_nodes": [sentinel], "service_name": service }),
    )
    .with_prefix_option("key_prefix"))
});
