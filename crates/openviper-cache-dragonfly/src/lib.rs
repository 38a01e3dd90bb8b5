#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod backend;

pub use backend::{DEFAULT_KEY_PREFIX, DragonflyCache};

/// The dotted name settings use to select this backend.
pub const BACKEND_NAME: &str = "openviper.cache.DragonflyCache";

openviper_cache_core::register_backend!(BACKEND_NAME, backend::build);

/// Referenced by the `openviper-cache` facade so that the linker keeps this crate, and with it
/// the registration above, in every program that enables the `dragonfly` feature.
#[doc(hidden)]
pub fn linker_anchor() -> &'static str {
    BACKEND_NAME
}
