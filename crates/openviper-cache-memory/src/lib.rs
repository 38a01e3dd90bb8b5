#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod backend;
mod entry;
mod key;
mod options;
mod shards;
mod value;

pub use backend::InMemoryCache;
pub use options::{DEFAULT_MAX_ENTRIES, DEFAULT_TTL, InMemoryOptions};

/// The dotted name settings use to select this backend.
pub const BACKEND_NAME: &str = "openviper.cache.InMemoryCache";

openviper_cache_core::register_backend!(BACKEND_NAME, backend::build);

/// Referenced by the `openviper-cache` facade so that the linker keeps this crate, and with it
/// the registration above, in every program that enables the `memory` feature.
#[doc(hidden)]
pub fn linker_anchor() -> &'static str {
    BACKEND_NAME
}
