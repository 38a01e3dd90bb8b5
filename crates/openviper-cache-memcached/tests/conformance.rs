//! The shared conformance suite on MemcachedCache against one memcached server
//! (`OPENVIPER_TEST_MEMCACHED`, set by `cargo xtask test`), in the default `flush_all` mode:
//! the check that clears runs alone.

use openviper_cache_conformance::{Subject, conformance_main};
use openviper_cache_memcached::BACKEND_NAME;

conformance_main!(BACKEND_NAME, || {
    let servers = std::env::var("OPENVIPER_TEST_MEMCACHED")
        .map_err(|_| "OPENVIPER_TEST_MEMCACHED is not set (run `cargo xtask test`)".to_owned())?;
    let first = servers.split(',').next().unwrap_or_default().to_owned();
    Ok(
        Subject::new(BACKEND_NAME, serde_json::json!({ "servers": [first] }))
            .with_prefix_option("key_prefix"),
    )
});
