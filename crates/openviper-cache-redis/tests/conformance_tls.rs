//! The shared conformance suite on RedisCache over TLS, against the TLS-only redis-server of
//! `cargo xtask test` (`OPENVIPER_TEST_REDIS_TLS`, its CA in `OPENVIPER_TEST_REDIS_TLS_CA`).

use openviper_cache_conformance::{Subject, conformance_main};
use openviper_cache_redis::BACKEND_NAME;

conformance_main!(BACKEND_NAME, || {
    let var = |name: &str| {
        std::env::var(name).map_err(|_| format!("{name} is not set (run `cargo xtask test`)"))
    };
    let address = var("OPENVIPER_TEST_REDIS_TLS")?;
    let ca = var("OPENVIPER_TEST_REDIS_TLS_CA")?;
    Ok(Subject::new(
        BACKEND_NAME,
        serde_json::json!({ "url": format!("rediss://{address}/0"), "tls_ca_file": ca }),
    )
    .with_prefix_option("key_prefix"))
});
