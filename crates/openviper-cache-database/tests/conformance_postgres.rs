//! The shared conformance suite on DatabaseCache against the test Postgres server (`OPENVIPER_TEST_POSTGRES_URL`, set by
//! `cargo xtask test`).

use openviper_cache_conformance::{Subject, conformance_main};
use openviper_cache_database::BACKEND_NAME;

conformance_main!(BACKEND_NAME, || {
    let url = std::env::var("OPENVIPER_TEST_POSTGRES_URL").map_err(|_| {
        "OPENVIPER_TEST_POSTGRES_URL is not set (run `cargo xtask test`)".to_owned()
    })?;
    Ok(Subject::new(
        BACKEND_NAME,
        serde_json::json!({ "url": url, "table": "ov_conformance" }),
    )
    .with_prefix_option("key_prefix"))
});
