//! The shared conformance suite on DatabaseCache over `sqlite::memory:`.

use openviper_cache_conformance::{Subject, conformance_main};
use openviper_cache_database::BACKEND_NAME;

conformance_main!(BACKEND_NAME, || {
    Ok(Subject::new(
        BACKEND_NAME,
        serde_json::json!({ "url": "sqlite::memory:" }),
    )
    .with_prefix_option("key_prefix"))
});
