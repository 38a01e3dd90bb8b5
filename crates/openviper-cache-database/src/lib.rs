#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
// Without a dialect feature the crate only explains which feature a URL needs.
#![cfg_attr(
    not(any(feature = "postgres", feature = "mysql", feature = "sqlite")),
    allow(dead_code, unused_imports)
)]

mod backend;
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
mod errors;
#[cfg(feature = "mysql")]
mod mysql;
mod options;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod server;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;
mod store;
mod table;

pub use backend::DatabaseCache;
pub use options::{
    DEFAULT_CULL_INTERVAL_S, DEFAULT_KEY_PREFIX, DEFAULT_POOL_SIZE, DEFAULT_TABLE,
    DEFAULT_TIMEOUT_MS, DatabaseOptions, Dialect, KEY_COLUMN_BYTES, MAX_KEY_PREFIX_BYTES,
};
pub use table::{is_entry_expired, validate_table_name};

/// The dotted name settings use to select this backend.
pub const BACKEND_NAME: &str = "openviper.cache.DatabaseCache";

openviper_cache_core::register_backend!(BACKEND_NAME, backend::build);

/// Referenced by the `openviper-cache` facade so that the linker keeps this crate, and with it
/// the registration above, in every program that enables a `database-*` feature.
#[doc(hidden)]
pub fn linker_anchor() -> &'static str {
    BACKEND_NAME
}
