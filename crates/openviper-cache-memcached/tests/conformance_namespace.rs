//! The shared conformance suite on MemcachedCache over two servers with
//! `clear_mode = "namespace"`: `clear()` is namespaced, so prefix isolation is checked too.

use openviper_cache_conformance::{Subject, conformance_main};
use openviper_cache_memcached::BACKEND_NAME;

conformance_main!(BACKEND_NAME, || {
    let servers = std::env::var("OPENVIPER_TEST_MEMCACHED")
        .map_err(|_| "OPENVIPER_TEST_MEMCACHED is not set (run `cargo xtask test`)".to_owned())?;
    let servers: Vec<&str> = servers.split(',').collect();
    Ok(Subject::new(
        BACKEND_NAME,
        serde_json::json!({ "servers": servers, "clear_mode": "namespace" }),
    )
    .with_prefix_option("key_prefix"))
});
