//! The shared conformance suite on InMemoryCache bounded by `max_bytes`, so that the value size
//! limit (`ValueTooLarge`, old value removed) is checked too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use openviper_cache_conformance::{Subject, conformance_main};
use openviper_cache_memory::BACKEND_NAME;

conformance_main!(BACKEND_NAME, || Ok(Subject::new(
    BACKEND_NAME,
    serde_json::json!({ "max_bytes": 64 * 1024 * 1024 })
)));
