//! `OPTIONS` of `openviper.cache.FileCache`.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// The folder when `cache_dir` is absent, as in OpenViper (relative to the working directory).
pub const DEFAULT_CACHE_DIR: &str = ".cache/openviper";
/// The key prefix when `key_prefix` is absent.
pub const DEFAULT_KEY_PREFIX: &str = "ov:cache:";
/// The bound on entries (per prefix) when `max_entries` is absent.
pub const DEFAULT_MAX_ENTRIES: u64 = 100_000;

/// Options of [`FileCache`](crate::FileCache).
///
/// ```
/// use openviper_cache_file::FileOptions;
///
/// let options: FileOptions = serde_json::from_value(serde_json::json!({
///     "cache_dir": "/var/cache/myapp", "ttl": 600, "max_entries": 5000, "sweep_interval_s": 60
/// })).unwrap();
/// assert_eq!(options.max_entries, 5000);
/// assert!(serde_json::from_value::<FileOptions>(serde_json::json!({"dir": "x"})).is_err());
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileOptions {
    /// The folder entries live under; default `.cache/openviper`. Created (0700) on first use.
    #[serde(default = "default_cache_dir")]
    pub cache_dir: PathBuf,
    /// Prefix of every key; each prefix has a folder of its own under `cache_dir`.
    #[serde(default)]
    pub key_prefix: Option<String>,
    /// Default TTL in seconds (integer or float > 0); no expiry when absent.
    #[serde(
        default,
        deserialize_with = "openviper_cache_core::ttl::deserialize_ttl"
    )]
    pub ttl: Option<Duration>,
    /// The most entries of this prefix; when a write goes over, expired entries are removed,
    /// then the oldest third. Default 100 000.
    #[serde(default = "default_max_entries")]
    pub max_entries: u64,
    /// Removes expired entries (and temporary files a crash left) every this many seconds in
    /// the background; absent: only on access and when culling.
    #[serde(default)]
    pub sweep_interval_s: Option<u64>,
    /// The largest value written, in bytes; no limit when absent.
    #[serde(default)]
    pub max_value_bytes: Option<usize>,
}

fn default_cache_dir() -> PathBuf {
    PathBuf::from(DEFAULT_CACHE_DIR)
}

fn default_max_entries() -> u64 {
    DEFAULT_MAX_ENTRIES
}

impl Default for FileOptions {
    fn default() -> Self {
        Self {
            cache_dir: default_cache_dir(),
            key_prefix: None,
            ttl: None,
            max_entries: DEFAULT_MAX_ENTRIES,
            sweep_interval_s: None,
            max_value_bytes: None,
        }
    }
}

impl FileOptions {
    /// The key prefix in force.
    pub fn key_prefix(&self) -> &str {
        self.key_prefix.as_deref().unwrap_or(DEFAULT_KEY_PREFIX)
    }
}
