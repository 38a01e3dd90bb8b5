#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod backend;
mod errors;
mod ketama;
mod namespace;
mod options;
mod pool;

pub use backend::MemcachedCache;
pub use options::{
    ClearMode, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_HOST, DEFAULT_KEY_PREFIX,
    DEFAULT_MAX_VALUE_BYTES, DEFAULT_NAMESPACE_REFRESH_MS, DEFAULT_POOL_SIZE, DEFAULT_PORT,
    DEFAULT_TIMEOUT_MS, MemcachedOptions, Server,
};

/// The dotted name settings use to select this backend.
pub const BACKEND_NAME: &str = "openviper.cache.MemcachedCache";

openviper_cache_core::register_backend!(BACKEND_NAME, backend::build);

/// Referenced by the `openviper-cache` facade so that the linker keeps this crate, and with it
/// the registration above, in every program that enables the `memcached` feature.
#[doc(hidden)]
pub fn linker_anchor() -> &'static str {
    BACKEND_NAME
}
