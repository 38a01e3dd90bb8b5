//! `OPTIONS` of `openviper.cache.InMemoryCache`.

use std::num::NonZeroU64;
use std::time::Duration;

use serde::Deserialize;

/// The TTL used when a write gives none and `OPTIONS.ttl` is absent: 300 s, as in OpenViper.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

/// The default bound on the number of entries.
pub const DEFAULT_MAX_ENTRIES: u64 = 100_000;

/// Options of [`InMemoryCache`](crate::InMemoryCache).
///
/// ```
/// use openviper_cache_memory::InMemoryOptions;
///
/// let options: InMemoryOptions = serde_json::from_value(serde_json::json!({
///     "ttl": 60, "max_entries": 1000, "max_bytes": 1048576
/// })).unwrap();
/// assert_eq!(options.max_entries.get(), 1000);
/// assert!(serde_json::from_value::<InMemoryOptions>(serde_json::json!({"max_entries": 0})).is_err());
/// assert!(serde_json::from_value::<InMemoryOptions>(serde_json::json!({"key_prefix": "x"})).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InMemoryOptions {
    /// Default TTL in seconds (integer or float > 0); [`DEFAULT_TTL`] when absent.
    #[serde(
        default,
        deserialize_with = "openviper_cache_core::ttl::deserialize_ttl"
    )]
    pub ttl: Option<Duration>,
    /// The most entries the cache holds; [`DEFAULT_MAX_ENTRIES`] when absent.
    #[serde(default = "default_max_entries")]
    pub max_entries: NonZeroU64,
    /// The most bytes (key + value) the cache holds; unbounded when absent.
    #[serde(default)]
    pub max_bytes: Option<NonZeroU64>,
}

fn default_max_entries() -> NonZeroU64 {
    NonZeroU64::new(DEFAULT_MAX_ENTRIES).unwrap_or(NonZeroU64::MIN)
}

impl Default for InMemoryOptions {
    fn default() -> Self {
        Self {
            ttl: None,
            max_entries: default_max_entries(),
            max_bytes: None,
        }
    }
}
