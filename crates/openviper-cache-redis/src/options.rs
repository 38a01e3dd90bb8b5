//! `OPTIONS` of `openviper.cache.RedisCache` (and, with other defaults, DragonflyCache).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// The key prefix RedisCache uses when `key_prefix` is absent.
pub const DEFAULT_KEY_PREFIX: &str = "ov:cache:";
/// The per-command timeout when `timeout_ms` is absent (fred's own default is no timeout).
pub const DEFAULT_TIMEOUT_MS: u64 = 1_000;
/// The connect timeout when `connect_timeout_ms` is absent.
pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 5_000;
/// Connections per cache when `pool_size` is absent.
pub const DEFAULT_POOL_SIZE: usize = 4;

/// A password: deserialized from a string, never shown by `Debug` or `Display`.
///
/// ```
/// use openviper_cache_redis::Secret;
/// let secret = Secret::new("hunter2");
/// assert_eq!(format!("{secret:?}"), "\"***\"");
/// assert_eq!(secret.expose(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// A secret holding `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the client.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

/// Options of [`RedisCache`](crate::RedisCache).
///
/// Either `url` (`redis://`, `rediss://`, `redis-cluster://`, `redis-sentinel://`) or the
/// separate fields; `cluster_nodes` selects Redis Cluster, `sentinel_nodes` + `service_name`
/// select Sentinel.
///
/// ```
/// use openviper_cache_redis::RedisOptions;
///
/// let options: RedisOptions = serde_json::from_value(serde_json::json!({
///     "host": "cache.internal", "port": 6380, "db": 2, "password": "hunter2", "timeout_ms": 250
/// })).unwrap();
/// assert_eq!(options.port, 6380);
/// assert!(!format!("{options:?}").contains("hunter2"));
/// assert!(serde_json::from_value::<RedisOptions>(serde_json::json!({"prot": 1})).is_err());
/// ```
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisOptions {
    /// A connection URL; excludes `host`, `port`, `db`, `cluster_nodes` and `sentinel_nodes`.
    #[serde(default)]
    pub url: Option<String>,
    /// Server host. Default `localhost`.
    #[serde(default = "default_host")]
    pub host: String,
    /// Server port. Default 6379.
    #[serde(default = "default_port")]
    pub port: u16,
    /// Database number (standalone and sentinel only). Default 0.
    #[serde(default)]
    pub db: u8,
    /// ACL user name.
    #[serde(default)]
    pub username: Option<String>,
    /// Password (never logged or shown by `Debug`).
    #[serde(default)]
    pub password: Option<Secret>,
    /// Connect with TLS (rustls, the system's root certificates plus `tls_ca_file`).
    #[serde(default)]
    pub tls: bool,
    /// A PEM file of extra CA certificates to trust; implies `tls`.
    #[serde(default)]
    pub tls_ca_file: Option<PathBuf>,
    /// Prefix of every key this cache writes; `clear()` removes only keys under it.
    /// Default `ov:cache:`.
    #[serde(default)]
    pub key_prefix: Option<String>,
    /// Default TTL in seconds (integer or float > 0); no expiry when absent.
    #[serde(
        default,
        deserialize_with = "openviper_cache_core::ttl::deserialize_ttl"
    )]
    pub ttl: Option<Duration>,
    /// Per-command timeout in milliseconds. Default 1000.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// How long an operation waits for a connection (TCP connect, TLS and the handshake) in
    /// milliseconds, on top of `timeout_ms`. Default 5000; at least 1 (0 is refused: there is
    /// no "no timeout").
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// Connections in the pool. Default 4.
    #[serde(default = "default_pool_size")]
    pub pool_size: usize,
    /// `host:port` of Redis Cluster nodes (any subset; the rest is discovered).
    #[serde(default)]
    pub cluster_nodes: Vec<String>,
    /// `host:port` of Sentinel nodes; needs `service_name`.
    #[serde(default)]
    pub sentinel_nodes: Vec<String>,
    /// The Sentinel service (primary) name.
    #[serde(default)]
    pub service_name: Option<String>,
}

fn default_host() -> String {
    "localhost".to_owned()
}
fn default_port() -> u16 {
    6379
}
fn default_timeout_ms() -> u64 {
    DEFAULT_TIMEOUT_MS
}
fn default_connect_timeout_ms() -> u64 {
    DEFAULT_CONNECT_TIMEOUT_MS
}
fn default_pool_size() -> usize {
    DEFAULT_POOL_SIZE
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            url: None,
            host: default_host(),
            port: default_port(),
            db: 0,
            username: None,
            password: None,
            tls: false,
            tls_ca_file: None,
            key_prefix: None,
            ttl: None,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            connect_timeout_ms: DEFAULT_CONNECT_TIMEOUT_MS,
            pool_size: DEFAULT_POOL_SIZE,
            cluster_nodes: Vec::new(),
            sentinel_nodes: Vec::new(),
            service_name: None,
        }
    }
}

impl RedisOptions {
    /// The key prefix in force: `key_prefix`, else [`DEFAULT_KEY_PREFIX`].
    pub fn key_prefix(&self) -> &str {
        self.key_prefix.as_deref().unwrap_or(DEFAULT_KEY_PREFIX)
    }

    /// Where this cache connects, for messages: the URL without credentials, or the nodes.
    pub fn endpoint(&self) -> String {
        if let Some(url) = &self.url {
            return redact_url(url);
        }
        if !self.cluster_nodes.is_empty() {
            return format!("cluster {}", self.cluster_nodes.join(","));
        }
        if !self.sentinel_nodes.is_empty() {
            return format!(
                "sentinel {} service {}",
                self.sentinel_nodes.join(","),
                self.service_name.as_deref().unwrap_or("?")
            );
        }
        format!("{}:{}/{}", self.host, self.port, self.db)
    }
}

/// `url` with its credentials replaced by `***`, whatever its shape (core's redaction rule).
pub(crate) fn redact_url(url: &str) -> String {
    openviper_cache_core::redact::redact_url(url).into_owned()
}

impl fmt::Debug for RedisOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisOptions")
            .field("endpoint", &self.endpoint())
            .field("username", &self.username)
            .field("password", &self.password)
            .field("tls", &(self.tls || self.tls_ca_file.is_some()))
            .field("key_prefix", &self.key_prefix())
            .field("ttl", &self.ttl)
            .field("timeout_ms", &self.timeout_ms)
            .field("pool_size", &self.pool_size)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(redact_url("redis://u:p@h:1/0"), "redis://***@h:1/0");
        assert_eq!(redact_url("rediss://:p%40ss@h"), "rediss://***@h");
        assert_eq!(redact_url("redis://h:1"), "redis://h:1");
        assert_eq!(redact_url("redis:/u:pw@h"), "redis:/***@h");
    }

    #[test]
    fn debug_never_shows_a_password() {
        let options = RedisOptions {
            url: Some("redis://user:topsecret@h:1".into()),
            password: Some(Secret::new("alsosecret")),
            ..RedisOptions::default()
        };
        let text = format!("{options:?}");
        assert!(
            !text.contains("topsecret") && !text.contains("alsosecret"),
            "{text}"
        );
    }
}
