#![doc = include_str!("../../../README.md")]
#![deny(missing_docs)]

pub use openviper_cache_core::*;

/// The built-in in-memory backend (feature `memory`, on by default).
#[cfg(feature = "memory")]
pub use openviper_cache_memory as memory;
#[cfg(feature = "memory")]
pub use openviper_cache_memory::{InMemoryCache, InMemoryOptions};

/// The Redis backend (feature `redis`).
#[cfg(feature = "redis")]
pub use openviper_cache_redis as redis;
#[cfg(feature = "redis")]
pub use openviper_cache_redis::{RedisCache, RedisOptions};

/// The Dragonfly backend (feature `dragonfly`).
#[cfg(feature = "dragonfly")]
pub use openviper_cache_dragonfly as dragonfly;
#[cfg(feature = "dragonfly")]
pub use openviper_cache_dragonfly::DragonflyCache;

/// The Memcached backend (feature `memcached`).
#[cfg(feature = "memcached")]
pub use openviper_cache_memcached as memcached;
#[cfg(feature = "memcached")]
pub use openviper_cache_memcached::{MemcachedCache, MemcachedOptions};

/// The file-system backend (feature `file`).
#[cfg(feature = "file")]
pub use openviper_cache_file as file;
#[cfg(feature = "file")]
pub use openviper_cache_file::{FileCache, FileOptions};

/// The database backend (features `database-postgres`, `database-sqlite`, `database-mysql`).
#[cfg(any(
    feature = "database-postgres",
    feature = "database-sqlite",
    feature = "database-mysql"
))]
pub use openviper_cache_database as database;
#[cfg(any(
    feature = "database-postgres",
    feature = "database-sqlite",
    feature = "database-mysql"
))]
pub use openviper_cache_database::{DatabaseCache, DatabaseOptions};

/// The names and types most code needs: `use openviper_cache::prelude::*;`.
///
/// ```
/// use openviper_cache::prelude::*;
/// # fn main() -> Result<()> {
/// let cache: std::sync::Arc<dyn BaseCache> = get_cache("default")?;
/// # drop(cache);
/// # Ok(())
/// # }
/// ```
pub mod prelude {
    pub use openviper_cache_core::{
        BaseCache, CacheError, CacheExt, CacheManager, CacheSettings, FOREVER, Result, configure,
        get_cache,
    };
}

/// The dotted names of the backends this build of the facade links, one per enabled feature.
///
/// Calling it (the facade's own `get_cache` path does not need to) is also what keeps each
/// backend crate, and so its registration, in the final binary.
///
/// ```
/// assert!(openviper_cache::builtin_backends().contains(&"openviper.cache.InMemoryCache"));
/// ```
pub fn builtin_backends() -> Vec<&'static str> {
    LINKED_BACKENDS.iter().map(|anchor| anchor()).collect()
}

/// One anchor per enabled backend: referencing a function of each backend crate makes the
/// linker keep that crate's object files, and with them its `inventory` registration, even in
/// a program that only ever names backends in its settings file.
#[used]
static LINKED_BACKENDS: &[fn() -> &'static str] = &[
    #[cfg(feature = "memory")]
    openviper_cache_memory::linker_anchor,
    #[cfg(feature = "redis")]
    openviper_cache_redis::linker_anchor,
    #[cfg(feature = "dragonfly")]
    openviper_cache_dragonfly::linker_anchor,
    #[cfg(feature = "memcached")]
    openviper_cache_memcached::linker_anchor,
    #[cfg(feature = "file")]
    openviper_cache_file::linker_anchor,
    #[cfg(any(
        feature = "database-postgres",
        feature = "database-sqlite",
        feature = "database-mysql"
    ))]
    openviper_cache_database::linker_anchor,
];

/// The code of docs/getting-started.md, compiled and run as doctests so the guide stays true.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/getting-started.md")]
struct GettingStartedGuide;

/// The code of docs/observability.md, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/observability.md")]
struct ObservabilityGuide;
