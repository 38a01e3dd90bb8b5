//! The shared conformance suite on FileCache, in a fresh folder under the system's temporary
//! directory (no server needed).

use openviper_cache_conformance::{Subject, conformance_main};
use openviper_cache_file::BACKEND_NAME;

conformance_main!(BACKEND_NAME, || {
    let dir = std::env::temp_dir().join(format!("ov-file-conformance-{}", std::process::id()));
    Ok(
        Subject::new(BACKEND_NAME, serde_json::json!({ "cache_dir": dir }))
            .with_prefix_option("key_prefix"),
    )
});
