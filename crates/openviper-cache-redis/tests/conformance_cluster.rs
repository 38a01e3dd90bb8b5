//! The shared conformance suite on RedisCache against a 3-primary Redis Cluster
//! (`OPENVIPER_TEST_REDIS_CLUSTER`, set by `cargo xtask test`).

use openviper_cache_conformance::{Subject, conformance_main};
use openviper_cache_redis::BACKEND_NAME;

conformance_main!(BACKEND_NAME, || {
    let nodes = std::env::var("OPENVIPER_TEST_REDIS_CLUSTER").map_err(|_| {
        "OPENVIPER_TEST_REDIS_CLUSTER is not set (run `cargo xtask test`)".to_owned()
    })?;
    let nodes: Vec<&str> = nodes.split(',').collect();
    Ok(
        Subject::new(BACKEND_NAME, serde_json::json!({ "cluster_nodes": nodes }))
            .with_prefix_option("key_prefix"),
    )
});
