//! The shared conformance suite on DragonflyCache. Dragonfly cannot be installed here, so it
//! runs against redis-server (`OPENVIPER_TEST_REDIS_URL`, set by `cargo xtask test`), which
//! speaks the same protocol.

use openviper_cache_conformance::{Subject, conformance_main};
use openviper_cache_dragonfly::BACKEND_NAME;

conformance_main!(BACKEND_NAME, || {
    let url = std::env::var("OPENVIPER_TEST_REDIS_URL")
        .map_err(|_| "OPENVIPER_TEST_REDIS_URL is not set (run `cargo xtask test`)".to_owned())?;
    Ok(
        Subject::new(BACKEND_NAME, serde_json::json!({ "url": url }))
            .with_prefix_option("key_prefix"),
    )
});
