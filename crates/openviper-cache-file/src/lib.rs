#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod backend;
mod disk;
mod entry;
mod layout;
mod options;

pub use backend::FileCache;
pub use layout::safe_filename;
pub use options::{DEFAULT_CACHE_DIR, DEFAULT_KEY_PREFIX, DEFAULT_MAX_ENTRIES, FileOptions};

/// The dotted name settings use to select this backend.
pub const BACKEND_NAME: &str = "openviper.cache.FileCache";

openviper_cache_core::register_backend!(BACKEND_NAME, backend::build);

/// Referenced by the `openviper-cache` facade so that the linker keeps this crate, and with it
/// the registration above, in every program that enables the `file` feature.
#[doc(hidden)]
pub fn linker_anchor() -> &'static str {
    BACKEND_NAME
}
