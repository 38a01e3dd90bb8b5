//! `OPTIONS` of `openviper.cache.DatabaseCache`, and the dialect its `url` names.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use openviper_cache_core::redact::redact_url;
use serde::Deserialize;

/// The table when `table` is absent, as in OpenViper.
pub const DEFAULT_TABLE: &str = "openviper_cache_entries";
/// The key prefix when `key_prefix` is absent.
pub const DEFAULT_KEY_PREFIX: &str = "ov:cache:";
/// Connections when `pool_size` is absent (PostgreSQL and MySQL; SQLite runs every operation on
/// one connection of its own thread).
pub const DEFAULT_POOL_SIZE: usize = 8;
/// The per-operation timeout when `timeout_ms` is absent.
pub const DEFAULT_TIMEOUT_MS: u64 = 5_000;
/// How often expired rows are deleted in the background when `cull_interval_s` is absent.
pub const DEFAULT_CULL_INTERVAL_S: u64 = 300;
/// The longest `key_prefix`, in bytes: the key column holds this plus 250 four-byte
/// characters.
pub const MAX_KEY_PREFIX_BYTES: usize = 1_048;
/// The key column's size in bytes (prefix + 250 characters of 4 bytes).
pub const KEY_COLUMN_BYTES: usize = MAX_KEY_PREFIX_BYTES + 1_000;

/// The database a `url` names.
#[derive(Clone, PartialEq, Eq)]
pub enum Dialect {
    /// `postgres://` or `postgresql://`: the URL as libpq-style connection string.
    Postgres(String),
    /// `mysql://` or `mariadb://` (read as `mysql://`).
    Mysql(String),
    /// `sqlite://relative.db`, `sqlite:///absolute/path.db`: a database file.
    SqliteFile(PathBuf),
    /// `sqlite::memory:`: one in-memory database, shared by every task of this cache.
    SqliteMemory,
}

impl Dialect {
    /// Reads the dialect from `url`; `Err` says what is wrong with it.
    ///
    /// ```
    /// use openviper_cache_database::Dialect;
    /// assert!(matches!(Dialect::parse("postgres://u:pw@db/app").unwrap(), Dialect::Postgres(_)));
    /// assert_eq!(Dialect::parse("sqlite:///var/cache/c.db").unwrap(), Dialect::SqliteFile("/var/cache/c.db".into()));
    /// assert_eq!(Dialect::parse("sqlite://c.db").unwrap(), Dialect::SqliteFile("c.db".into()));
    /// assert_eq!(Dialect::parse("sqlite::memory:").unwrap(), Dialect::SqliteMemory);
    /// assert!(Dialect::parse("oracle://x").unwrap_err().contains("url"));
    /// ```
    pub fn parse(url: &str) -> Result<Self, String> {
        let (scheme, rest) = url.split_once(':').ok_or_else(|| {
            format!(
                "url: {:?} has no scheme (postgres://, mysql://, sqlite://)",
                redact_url(url)
            )
        })?;
        match scheme.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" => Ok(Self::Postgres(url.to_owned())),
            "mysql" => Ok(Self::Mysql(url.to_owned())),
            "mariadb" => Ok(Self::Mysql(format!("mysql:{rest}"))),
            "sqlite" => {
                if rest == ":memory:" || rest == "//:memory:" {
                    return Ok(Self::SqliteMemory);
                }
                let path = rest.strip_prefix("//").unwrap_or(rest);
                if path.is_empty() {
                    return Err("url: sqlite:// names no file (sqlite://relative.db, sqlite:///absolute.db or sqlite::memory:)".into());
                }
                Ok(Self::SqliteFile(PathBuf::from(path)))
            }
            other => Err(format!(
                "url: the scheme {other:?} is not a database this cache knows (postgres://, mysql://, sqlite://)"
            )),
        }
    }

    /// The dialect's name, and the cargo feature that builds it.
    pub fn feature(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "postgres",
            Self::Mysql(_) => "mysql",
            Self::SqliteFile(_) | Self::SqliteMemory => "sqlite",
        }
    }
}

impl fmt::Debug for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Postgres(url) => f.debug_tuple("Postgres").field(&redact_url(url)).finish(),
            Self::Mysql(url) => f.debug_tuple("Mysql").field(&redact_url(url)).finish(),
            Self::SqliteFile(path) => f.debug_tuple("SqliteFile").field(path).finish(),
            Self::SqliteMemory => f.write_str("SqliteMemory"),
        }
    }
}

/// Options of [`DatabaseCache`](crate::DatabaseCache).
///
/// ```
/// use openviper_cache_database::DatabaseOptions;
///
/// let options: DatabaseOptions = serde_json::from_value(serde_json::json!({
///     "url": "postgres://cache:s3cret@db.internal/app", "table": "web_cache", "ttl": 60
/// })).unwrap();
/// assert_eq!(options.table(), "web_cache");
/// assert!(!format!("{options:?}").contains("s3cret"));
/// assert!(serde_json::from_value::<DatabaseOptions>(serde_json::json!({"uri": "x"})).is_err());
/// ```
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseOptions {
    /// Which database: `postgres://user:password@host:port/db`, `mysql://...`,
    /// `sqlite://relative.db`, `sqlite:///absolute/path.db` or `sqlite::memory:`.
    pub url: String,
    /// The table; default `openviper_cache_entries`. A plain identifier (letters, digits, `_`,
    /// not starting with a digit, at most 63 bytes).
    #[serde(default)]
    pub table: Option<String>,
    /// Prefix of every key; default `ov:cache:`. At most 1048 bytes.
    #[serde(default)]
    pub key_prefix: Option<String>,
    /// Default TTL in seconds (integer or float > 0); no expiry when absent.
    #[serde(
        default,
        deserialize_with = "openviper_cache_core::ttl::deserialize_ttl"
    )]
    pub ttl: Option<Duration>,
    /// Connections to PostgreSQL or MySQL; default 8. (SQLite runs every operation on one
    /// connection, on a thread of its own: see docs/backends/database.md.)
    #[serde(default = "default_pool_size")]
    pub pool_size: usize,
    /// Per-operation timeout in milliseconds, waiting for a pooled connection and connecting
    /// included; default 5000.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Creates the table and its index on `expires_at` on first use; default `true`.
    #[serde(default = "default_create_table")]
    pub create_table: bool,
    /// Deletes expired rows in the background every this many seconds; default 300; 0 turns
    /// the background cull off (expired rows are still never returned and deleted on access).
    #[serde(default = "default_cull_interval_s")]
    pub cull_interval_s: u64,
    /// PostgreSQL and MySQL: connect with TLS (rustls), verifying the server's certificate
    /// against the system's root certificates plus `tls_ca_file`; a server without TLS is an
    /// error. Default `false`: the URL decides (`sslmode` on PostgreSQL needs this option for
    /// anything but `disable`/`prefer`; `require_ssl=true` on MySQL).
    #[serde(default)]
    pub tls: bool,
    /// A PEM file of extra CA certificates to trust; implies `tls`.
    #[serde(default)]
    pub tls_ca_file: Option<PathBuf>,
    /// The largest value written, in bytes; no limit of the cache's own when absent (the
    /// database's still applies).
    #[serde(default)]
    pub max_value_bytes: Option<usize>,
}

fn default_pool_size() -> usize {
    DEFAULT_POOL_SIZE
}
fn default_timeout_ms() -> u64 {
    DEFAULT_TIMEOUT_MS
}
fn default_create_table() -> bool {
    true
}
fn default_cull_interval_s() -> u64 {
    DEFAULT_CULL_INTERVAL_S
}

impl DatabaseOptions {
    /// Options for `url` with every other option at its default.
    ///
    /// ```
    /// let options = openviper_cache_database::DatabaseOptions::new("sqlite::memory:");
    /// assert_eq!(options.pool_size, 8);
    /// assert!(options.create_table);
    /// ```
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            table: None,
            key_prefix: None,
            ttl: None,
            pool_size: DEFAULT_POOL_SIZE,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            create_table: true,
            cull_interval_s: DEFAULT_CULL_INTERVAL_S,
            tls: false,
            tls_ca_file: None,
            max_value_bytes: None,
        }
    }

    /// The table in force.
    pub fn table(&self) -> &str {
        self.table.as_deref().unwrap_or(DEFAULT_TABLE)
    }

    /// The key prefix in force.
    pub fn key_prefix(&self) -> &str {
        self.key_prefix.as_deref().unwrap_or(DEFAULT_KEY_PREFIX)
    }

    /// Whether connections use TLS (`tls`, or a `tls_ca_file`).
    pub fn tls(&self) -> bool {
        self.tls || self.tls_ca_file.is_some()
    }
}

impl fmt::Debug for DatabaseOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseOptions")
            .field("url", &redact_url(&self.url))
            .field("table", &self.table())
            .field("key_prefix", &self.key_prefix())
            .field("ttl", &self.ttl)
            .field("pool_size", &self.pool_size)
            .field("timeout_ms", &self.timeout_ms)
            .field("create_table", &self.create_table)
            .field("cull_interval_s", &self.cull_interval_s)
            .field("tls", &self.tls())
            .field("tls_ca_file", &self.tls_ca_file)
            .field("max_value_bytes", &self.max_value_bytes)
            .finish()
    }
}
