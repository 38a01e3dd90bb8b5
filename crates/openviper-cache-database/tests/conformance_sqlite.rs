//! The shared conformance suite on DatabaseCache over a SQLite file in a fresh folder under
//! the system's temporary directory (no server needed), with a value limit of 1 MiB.

use openviper_cache_conformance::{Subject, conformance_main};
use openviper_cache_database::BACKEND_NAME;

conformance_main!(BACKEND_NAME, || {
    let dir = std::env::temp_dir().join(format!("ov-sqlite-conformance-{}", std::process::id()));
    let url = format!("sqlite://{}", dir.join("cache.db").display());
    Ok(Subject::new(
        BACKEND_NAME,
        serde_json::json!({ "url": url, "max_value_bytes": 1_048_576 }),
    )
    .with_prefix_option("key_prefix"))
});
