//! The shared conformance suite on the custom backend, selected by its dotted name; in the
//! one-argument form of the macro (the trials are named after the subject's backend).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use openviper_cache_conformance::{Subject, conformance_main};

use myapp_cache as _;

conformance_main!(|| Ok(Subject::new(
    "myapp.cache.MyCustomCache",
    serde_json::json!({ "endpoint": "custom-host:1234" })
)));
