//! `OPTIONS` of `openviper.cache.MemcachedCache`.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

/// The key prefix when `key_prefix` is absent, as in OpenViper.
pub const DEFAULT_KEY_PREFIX: &str = "ov:cache:";
/// The server when neither `host`/`port` nor `servers` is given.
pub const DEFAULT_HOST: &str = "localhost";
/// memcached's port.
pub const DEFAULT_PORT: u16 = 11211;
/// The per-command timeout when `timeout_ms` is absent.
pub const DEFAULT_TIMEOUT_MS: u64 = 1_000;
/// How long one connection attempt may take when `connect_timeout_ms` is absent.
pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 1_000;
/// Connections per server when `pool_size` is absent.
pub const DEFAULT_POOL_SIZE: usize = 8;
/// The largest value when `max_value_bytes` is absent: memcached's default item size (`-I 1m`).
pub const DEFAULT_MAX_VALUE_BYTES: usize = 1_048_576;
/// How often a cache in `clear_mode = "namespace"` re-reads the generation, when
/// `namespace_refresh_ms` is absent.
pub const DEFAULT_NAMESPACE_REFRESH_MS: u64 = 1_000;

/// What `clear()` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClearMode {
    /// `flush_all` on every server, as in OpenViper: everything in the instances goes.
    #[default]
    FlushAll,
    /// A new random generation, part of every store key: only this cache's keys (this
    /// `key_prefix`) become unreachable; other data in the instances survives.
    Namespace,
}

/// One memcached server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// Port.
    pub port: u16,
}

impl Server {
    /// Parses `host:port` (`[v6]:port` for IPv6); `option` names the option in the error.
    ///
    /// ```
    /// use openviper_cache_memcached::Server;
    /// assert_eq!(Server::parse("10.0.0.1:11212", "servers").unwrap().port, 11212);
    /// assert_eq!(Server::parse("[::1]:11211", "servers").unwrap().host, "::1");
    /// assert!(Server::parse("cache.internal", "servers").unwrap_err().contains("host:port"));
    /// assert!(Server::parse("h:99999", "servers").is_err());
    /// ```
    pub fn parse(text: &str, option: &str) -> Result<Self, String> {
        let (host, port) = text
            .rsplit_once(':')
            .ok_or_else(|| format!("{option}: {text:?} is not host:port"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || host.contains(char::is_whitespace) {
            return Err(format!("{option}: {text:?} has no valid host"));
        }
        let port = port
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("{option}: {text:?} has no valid port (1-65535)"))?;
        Ok(Self {
            host: host.to_owned(),
            port,
        })
    }

    /// How the client dials it.
    pub(crate) fn dsn(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.dsn())
    }
}

/// Options of [`MemcachedCache`](crate::MemcachedCache).
///
/// Either `host`/`port` (default `localhost:11211`) or `servers`, never both.
///
/// ```
/// use openviper_cache_memcached::{ClearMode, MemcachedOptions};
///
/// let options: MemcachedOptions = serde_json::from_value(serde_json::json!({
///     "servers": ["10.0.0.1:11211", "10.0.0.2:11211"], "clear_mode": "namespace", "ttl": 60
/// })).unwrap();
/// assert_eq!(options.servers().unwrap().len(), 2);
/// assert_eq!(options.clear_mode, ClearMode::Namespace);
/// assert!(serde_json::from_value::<MemcachedOptions>(serde_json::json!({"prot": 1})).is_err());
/// let both: MemcachedOptions = serde_json::from_value(serde_json::json!({
///     "host": "a", "servers": ["b:1"]
/// })).unwrap();
/// assert!(both.servers().unwrap_err().contains("servers"));
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemcachedOptions {
    /// Server host; default `localhost`. Excludes `servers`.
    #[serde(default)]
    pub host: Option<String>,
    /// Server port; default 11211. Excludes `servers`.
    #[serde(default)]
    pub port: Option<u16>,
    /// `host:port` of each server; keys are spread over them by ketama consistent hashing.
    #[serde(default)]
    pub servers: Vec<String>,
    /// Prefix of every key; default `ov:cache:`.
    #[serde(default)]
    pub key_prefix: Option<String>,
    /// Default TTL in seconds (integer or float > 0); no expiry when absent.
    #[serde(
        default,
        deserialize_with = "openviper_cache_core::ttl::deserialize_ttl"
    )]
    pub ttl: Option<Duration>,
    /// Connections per server; default 8.
    #[serde(default = "default_pool_size")]
    pub pool_size: usize,
    /// Per-operation timeout in milliseconds, waiting for a pooled connection included; default
    /// 1000.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// How long one connection attempt may take, in milliseconds; default 1000. (An operation,
    /// waiting for a pooled connection and connecting one included, ends within `timeout_ms`.)
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// The largest value written, in bytes; default 1 MiB (memcached's default item size).
    #[serde(default = "default_max_value_bytes")]
    pub max_value_bytes: usize,
    /// `"flush_all"` (default) or `"namespace"`.
    #[serde(default)]
    pub clear_mode: ClearMode,
    /// With `clear_mode = "namespace"`: how often the generation is read again, in
    /// milliseconds (0: on every operation); default 1000.
    #[serde(default = "default_namespace_refresh_ms")]
    pub namespace_refresh_ms: u64,
}

fn default_pool_size() -> usize {
    DEFAULT_POOL_SIZE
}
fn default_timeout_ms() -> u64 {
    DEFAULT_TIMEOUT_MS
}
fn default_connect_timeout_ms() -> u64 {
    DEFAULT_CONNECT_TIMEOUT_MS
}
fn default_max_value_bytes() -> usize {
    DEFAULT_MAX_VALUE_BYTES
}
fn default_namespace_refresh_ms() -> u64 {
    DEFAULT_NAMESPACE_REFRESH_MS
}

impl Default for MemcachedOptions {
    fn default() -> Self {
        Self {
            host: None,
            port: None,
            servers: Vec::new(),
            key_prefix: None,
            ttl: None,
            pool_size: DEFAULT_POOL_SIZE,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            connect_timeout_ms: DEFAULT_CONNECT_TIMEOUT_MS,
            max_value_bytes: DEFAULT_MAX_VALUE_BYTES,
            clear_mode: ClearMode::FlushAll,
            namespace_refresh_ms: DEFAULT_NAMESPACE_REFRESH_MS,
        }
    }
}

impl MemcachedOptions {
    /// The key prefix in force.
    pub fn key_prefix(&self) -> &str {
        self.key_prefix.as_deref().unwrap_or(DEFAULT_KEY_PREFIX)
    }

    /// The servers, validated; `Err` names the option at fault.
    pub fn servers(&self) -> Result<Vec<Server>, String> {
        if !self.servers.is_empty() {
            if self.host.is_some() || self.port.is_some() {
                return Err("servers: give either servers or host/port, not both".into());
            }
            let servers = self
                .servers
                .iter()
                .map(|s| Server::parse(s, "servers"))
                .collect::<Result<Vec<_>, _>>()?;
            for (i, server) in servers.iter().enumerate() {
                if servers[..i].contains(server) {
                    return Err(format!("servers: {server} is listed twice"));
                }
            }
            return Ok(servers);
        }
        let host = self.host.clone().unwrap_or_else(|| DEFAULT_HOST.to_owned());
        if host.is_empty() || host.contains(char::is_whitespace) {
            return Err(format!("host: {host:?} is not a host name"));
        }
        match self.port {
            Some(0) => Err("port: must be 1-65535".into()),
            port => Ok(vec![Server {
                host,
                port: port.unwrap_or(DEFAULT_PORT),
            }]),
        }
    }
}
