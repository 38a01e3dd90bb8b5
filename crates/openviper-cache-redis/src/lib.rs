#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod backend;
mod client;
mod errors;
mod glob;
mod options;

pub use backend::RedisCache;
pub use options::{
    DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_KEY_PREFIX, DEFAULT_POOL_SIZE, DEFAULT_TIMEOUT_MS,
    RedisOptions, Secret,
};

/// The dotted name settings use to select this backend.
pub const BACKEND_NAME: &str = "openviper.cache.RedisCache";

openviper_cache_core::register_backend!(BACKEND_NAME, backend::build);

/// Referenced by the `openviper-cache` facade so that the linker keeps this crate, and with it
/// the registration above, in every program that enables the `redis` feature.
#[doc(hidden)]
pub fn linker_anchor() -> &'static str {
    BACKEND_NAME
}
