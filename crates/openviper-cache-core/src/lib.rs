//! The core of [openviper-cache](https://crates.io/crates/openviper-cache): the [`BaseCache`]
//! trait every backend implements, the typed layer [`CacheExt`], key [`validation`], the stored
//! form ([`codec`]), [`CacheError`], [`Capabilities`], the backend registry, settings and the
//! [`CacheManager`] behind [`get_cache`].
//!
//! What every store needs is here once, for backend authors: key namespacing and hashing
//! ([`key_prefix`]), the value-size policy ([`size`]), TTL mapping ([`ttl`]), counter arithmetic
//! and its one integer grammar ([`counter`]), timeouts and background connecting ([`connect`]),
//! the redaction of secrets ([`redact`]), and the one instrumentation layer (tracing spans,
//! metrics, [`CacheStats`]) the manager puts around every cache ([`instrument`]).
//!
//! Applications depend on the facade crate `openviper-cache`, which re-exports all of this with
//! the backends; backend authors depend on this crate alone.
#![deny(missing_docs)]

mod cache;
mod capabilities;
pub mod codec;
pub mod connect;
pub mod counter;
pub mod deadline;
mod depth;
mod error;
mod ext;
mod gauges;
pub mod instrument;
pub mod key_prefix;
mod lone_str;
mod manager;
pub mod redact;
mod registry;
mod settings;
mod single_flight;
pub mod size;
pub mod ttl;
pub mod validation;

pub use async_trait::async_trait;
pub use bytes::Bytes;

pub use cache::BaseCache;
pub use capabilities::{Capabilities, ClearScope};
pub use error::{BoxError, CacheError, Result, Unavailable};
pub use ext::CacheExt;
pub use gauges::Gauges;
pub use instrument::CacheStats;
pub use manager::{
    CacheManager, DEFAULT_ALIAS, INSTRUMENT_OPTION, configure, get_cache, global_manager,
};
pub use registry::{BackendConfig, BackendFactory, BuildFn, build_backend, registered_backends};
pub use settings::{AliasSettings, CacheSettings, DEFAULT_BACKEND, SETTINGS_ENV};
pub use ttl::FOREVER;
pub use validation::{CACHE_KEY_MAX_LEN, validate_cache_key};

/// What [`register_backend!`] expands to needs; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use inventory;
}
