//! `DatabaseCache`: construction and `impl BaseCache`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Weak};
use std::time::Duration;

use openviper_cache_core::connect::within;
use openviper_cache_core::key_prefix::KeyPrefix;
use openviper_cache_core::redact::{redact_url, url_secrets};
use openviper_cache_core::size::{check_value_size, refuse_oversized};
use openviper_cache_core::ttl::{Expiry, Lifetime};
use openviper_cache_core::validation::validate_cache_keys;
use openviper_cache_core::{
    BackendConfig, BaseCache, Bytes, CacheError, Capabilities, ClearScope, Gauges, Result,
    async_trait, validate_cache_key,
};
use tokio::sync::OnceCell;

use crate::options::{DatabaseOptions, Dialect, MAX_KEY_PREFIX_BYTES};
use crate::store::{Store, TtlMs};
use crate::table::validate_table_name;

/// Every dialect keeps time to the millisecond (PostgreSQL and MySQL to the microsecond).
const TTL_RESOLUTION: Duration = Duration::from_millis(1);

/// A cache in one table of PostgreSQL, MySQL/MariaDB or SQLite.
///
/// Rows are `(key, value, expires_at)`: the key is `key_prefix + key`, compared byte for
/// byte; the value is the stored bytes (BYTEA, LONGBLOB, BLOB); `expires_at` is NULL for
/// "never". Expired rows are never returned; they are deleted when met and by a periodic cull.
/// `clear()` deletes this prefix's rows only. `add` and `incr` are atomic.
///
/// ```
/// use openviper_cache_core::{BaseCache, CacheExt};
/// use openviper_cache_database::{DatabaseCache, DatabaseOptions};
/// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
/// let cache = DatabaseCache::new(DatabaseOptions::new("sqlite::memory:"))?;
/// cache.set("greeting", "hello", None).await?;
/// assert_eq!(cache.get::<String>("greeting").await?.as_deref(), Some("hello"));
/// assert_eq!(cache.incr("hits", 2).await?, 2);
/// # Ok::<_, openviper_cache_core::CacheError>(())
/// # }).unwrap();
/// ```
pub struct DatabaseCache {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    prefix: KeyPrefix,
    default_ttl: Option<Duration>,
    timeout: Duration,
    max_value_bytes: Option<usize>,
    create_table: bool,
    cull_interval: Option<Duration>,
    shared: bool,
    store: Box<dyn Store>,
    /// Set once the table is known to be there (created, or checked), with the largest value
    /// the store itself accepts; a failure is not kept, so the next operation tries again.
    ready: OnceCell<Option<usize>>,
}

impl std::fmt::Debug for DatabaseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseCache")
            .field("name", &self.inner.name)
            .field("key_prefix", &self.inner.prefix.as_str())
            .field("default_ttl", &self.inner.default_ttl)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

pub(crate) fn build(config: &BackendConfig) -> Result<Arc<dyn BaseCache>> {
    let options: DatabaseOptions = config.options()?;
    Ok(Arc::new(DatabaseCache::build(options, &config.alias)?))
}

/// `DatabaseCache(<url without credentials>, table <name>)`: what errors name.
fn display_name(options: &DatabaseOptions) -> String {
    format!(
        "DatabaseCache({}, table {})",
        redact_url(&options.url),
        options.table()
    )
}

impl DatabaseCache {
    /// A cache for `options`; `Config` errors name the option at fault and, as no settings
    /// alias names this cache, the database it was to use. Nothing connects until the first
    /// operation (a SQLite file is opened at once).
    ///
    /// ```
    /// use openviper_cache_database::{DatabaseCache, DatabaseOptions};
    /// let mut options = DatabaseOptions::new("sqlite::memory:");
    /// options.table = Some("cache; DROP TABLE users".into());
    /// let err = DatabaseCache::new(options).unwrap_err();
    /// assert!(err.to_string().contains("table"));
    /// ```
    pub fn new(options: DatabaseOptions) -> Result<Self> {
        let alias = display_name(&options);
        Self::build(options, &alias)
    }

    fn build(options: DatabaseOptions, alias: &str) -> Result<Self> {
        let config = |message: String| CacheError::config(alias, message);
        let table = validate_table_name(options.table()).map_err(config)?;
        let dialect = Dialect::parse(&options.url).map_err(config)?;
        for (option, value) in [
            ("pool_size", options.pool_size as u64),
            ("timeout_ms", options.timeout_ms),
        ] {
            if value == 0 {
                return Err(config(format!(
                    "{option}: must be at least 1 (there is no \"unlimited\")"
                )));
            }
        }
        if options.max_value_bytes == Some(0) {
            return Err(config(
                "max_value_bytes: must be at least 1 (leave it out for no limit)".to_owned(),
            ));
        }
        let prefix = options.key_prefix();
        if prefix.len() > MAX_KEY_PREFIX_BYTES {
            return Err(config(format!(
                "key_prefix: {} bytes long, at most {MAX_KEY_PREFIX_BYTES}",
                prefix.len()
            )));
        }
        if prefix.chars().any(char::is_control) {
            return Err(config(
                "key_prefix: holds a control character, which keys cannot".to_owned(),
            ));
        }
        let name = display_name(&options);
        let timeout = Duration::from_millis(options.timeout_ms);
        let secrets = url_secrets(&options.url);
        let shared = !matches!(dialect, Dialect::SqliteMemory);
        let tls = options.tls().then_some(options.tls_ca_file.as_deref());
        let store = open_store(
            dialect,
            table,
            options.pool_size,
            timeout,
            tls,
            name.clone(),
            secrets,
        )
        .map_err(config)?;
        Ok(Self {
            inner: Arc::new(Inner {
                name,
                prefix: KeyPrefix::new(prefix),
                default_ttl: options.ttl,
                timeout,
                max_value_bytes: options.max_value_bytes,
                create_table: options.create_table,
                cull_interval: (options.cull_interval_s > 0)
                    .then(|| Duration::from_secs(options.cull_interval_s)),
                shared,
                store,
                ready: OnceCell::new(),
            }),
        })
    }

    /// Deletes every expired row of the table now (all prefixes: an expired row is of use to
    /// no one), in batches; returns how many went. The background cull (`cull_interval_s`)
    /// does the same.
    ///
    /// ```
    /// # use openviper_cache_database::{DatabaseCache, DatabaseOptions};
    /// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = DatabaseCache::new(DatabaseOptions::new("sqlite::memory:"))?;
    /// assert_eq!(cache.cull().await?, 0);
    /// # Ok::<_, openviper_cache_core::CacheError>(())
    /// # }).unwrap();
    /// ```
    pub async fn cull(&self) -> Result<u64> {
        self.inner.run("cull", self.inner.store.cull()).await
    }
}

#[allow(unused_variables)]
fn open_store(
    dialect: Dialect,
    table: &str,
    pool_size: usize,
    timeout: Duration,
    tls: Option<Option<&std::path::Path>>,
    name: String,
    secrets: Vec<String>,
) -> std::result::Result<Box<dyn Store>, String> {
    let off = |feature: &str| {
        Err(format!(
            "url: a {feature} database, but openviper-cache-database was built without its \
             `{feature}` feature (enable `database-{feature}` on openviper-cache)"
        ))
    };
    match dialect {
        #[cfg(feature = "postgres")]
        Dialect::Postgres(url) => {
            let tls = tls.map(crate::postgres::tls_config).transpose()?;
            let pool = crate::postgres::pool(&url, pool_size, timeout, tls)?;
            let sql = crate::sql::Statements::new(crate::sql::Server::Postgres, table);
            Ok(Box::new(crate::server::ServerStore::<
                crate::postgres::Postgres,
            >::new(
                pool, sql, name, timeout, secrets
            )))
        }
        #[cfg(feature = "mysql")]
        Dialect::Mysql(url) => {
            let tls = tls.map(crate::mysql::tls_opts).transpose()?;
            let pool = crate::mysql::pool(&url, pool_size, timeout, tls)?;
            let sql = crate::sql::Statements::new(crate::sql::Server::Mysql, table);
            Ok(Box::new(
                crate::server::ServerStore::<crate::mysql::Mysql>::new(
                    pool, sql, name, timeout, secrets,
                ),
            ))
        }
        #[cfg(feature = "sqlite")]
        Dialect::SqliteFile(path) => Ok(Box::new(crate::sqlite::SqliteStore::open(
            crate::sqlite::Location::File(path),
            table,
            timeout,
            name,
        )?)),
        #[cfg(feature = "sqlite")]
        Dialect::SqliteMemory => Ok(Box::new(crate::sqlite::SqliteStore::open(
            crate::sqlite::Location::Memory,
            table,
            timeout,
            name,
        )?)),
        #[allow(unreachable_patterns)]
        other => off(other.feature()),
    }
}

impl Inner {
    /// `work` once the table is ready, all of it within `timeout_ms`.
    async fn run<T>(
        self: &Arc<Self>,
        op: &'static str,
        work: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        within(&self.name, op, self.timeout, async {
            self.ready().await?;
            work.await
        })
        .await?
    }

    async fn ready(self: &Arc<Self>) -> Result<Option<usize>> {
        self.ready
            .get_or_try_init(|| async {
                let store_limit = self.store.prepare(self.create_table).await?;
                if let Some(every) = self.cull_interval {
                    tokio::spawn(cull_loop(Arc::downgrade(self), every));
                }
                Ok::<_, CacheError>(store_limit)
            })
            .await
            .copied()
    }

    /// The largest value known so far: `max_value_bytes`, or the store's own limit once the
    /// first operation has read it, whichever is smaller.
    fn known_value_limit(&self) -> Option<usize> {
        let store = self.ready.get().copied().flatten();
        match (self.max_value_bytes, store) {
            (Some(ours), Some(store)) => Some(ours.min(store)),
            (ours, store) => ours.or(store),
        }
    }

    /// The largest value a write may carry, the table made ready (within `timeout_ms`) to
    /// learn the store's own limit: a value past it is refused before it is sent, as
    /// `ValueTooLarge`, rather than failing half way with the connection broken.
    async fn value_limit(self: &Arc<Self>, op: &'static str) -> Result<Option<usize>> {
        within(&self.name, op, self.timeout, self.ready()).await??;
        Ok(self.known_value_limit())
    }

    fn store_keys(&self, keys: &[&str]) -> Vec<String> {
        keys.iter()
            .map(|k| self.prefix.store_key(k).into_owned())
            .collect()
    }

    /// The TTL a write stores (`Some(None)`: never expires), or `None` when the write is to
    /// delete instead (`Duration::ZERO`).
    fn ttl_ms(&self, ttl: Option<Duration>) -> Option<TtlMs> {
        match Lifetime::resolve(ttl, self.default_ttl).expiry(TTL_RESOLUTION) {
            Expiry::Never => Some(None),
            Expiry::Delete => None,
            expiry => Some(
                expiry
                    .as_millis()
                    .map(|ms| i64::try_from(ms).unwrap_or(i64::MAX)),
            ),
        }
    }
}

/// `keys` once each (a batch may name a key twice; a statement must not).
fn distinct(keys: &[String]) -> Vec<&str> {
    let mut distinct: Vec<&str> = keys.iter().map(String::as_str).collect();
    distinct.sort_unstable();
    distinct.dedup();
    distinct
}

/// Deletes expired rows every `every` while the cache lives.
async fn cull_loop(cache: Weak<Inner>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let Some(inner) = cache.upgrade() else { return };
        // The table is ready: the loop starts once it is.
        match within(&inner.name, "cull", inner.timeout, inner.store.cull())
            .await
            .and_then(|r| r)
        {
            Ok(0) => {}
            Ok(deleted) => tracing::debug!(cache = %inner.name, deleted, "culled expired rows"),
            Err(error) => tracing::warn!(cache = %inner.name, %error, "cull failed"),
        }
    }
}

#[async_trait]
impl BaseCache for DatabaseCache {
    async fn get_bytes(&self, key: &str) -> Result<Option<Bytes>> {
        validate_cache_key(key)?;
        let inner = &self.inner;
        let store_key = inner.prefix.store_key(key);
        let value = inner.run("get", inner.store.get(&store_key)).await?;
        Ok(value.map(Bytes::from))
    }

    async fn set_bytes(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<()> {
        validate_cache_key(key)?;
        let inner = &self.inner;
        let limit = inner.value_limit("set").await?;
        refuse_oversized(key, value.len(), limit, || self.delete(key)).await?;
        let store_key = inner.prefix.store_key(key);
        match inner.ttl_ms(ttl) {
            None => inner
                .run("set", inner.store.delete(&store_key))
                .await
                .map(drop),
            Some(ttl) => {
                inner
                    .run("set", inner.store.set(&store_key, &value, ttl))
                    .await
            }
        }
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        validate_cache_key(key)?;
        let inner = &self.inner;
        let store_key = inner.prefix.store_key(key);
        inner.run("delete", inner.store.delete(&store_key)).await
    }

    async fn clear(&self) -> Result<()> {
        let inner = &self.inner;
        inner
            .run("clear", inner.store.clear(inner.prefix.as_str()))
            .await
    }

    async fn has_key(&self, key: &str) -> Result<bool> {
        Ok(self.get_bytes(key).await?.is_some())
    }

    async fn keys(&self, prefix: &str) -> Result<Vec<String>> {
        let inner = &self.inner;
        let store_prefix = inner.prefix.store_prefix(prefix);
        let keys = inner.run("keys", inner.store.keys(&store_prefix)).await?;
        Ok(keys
            .iter()
            .filter_map(|k| inner.prefix.user_key(k).map(str::to_owned))
            .collect())
    }

    async fn close(&self) -> Result<()> {
        self.inner.store.close().await
    }

    async fn get_many_bytes(&self, keys: &[&str]) -> Result<Vec<Option<Bytes>>> {
        validate_cache_keys(keys.iter().copied())?;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let inner = &self.inner;
        let store_keys = inner.store_keys(keys);
        let rows = inner
            .run("get_many", inner.store.get_many(&distinct(&store_keys)))
            .await?;
        let found: HashMap<Vec<u8>, Bytes> =
            rows.into_iter().map(|(k, v)| (k, Bytes::from(v))).collect();
        Ok(store_keys
            .iter()
            .map(|k| found.get(k.as_bytes()).cloned())
            .collect())
    }

    async fn set_many_bytes(&self, items: &[(&str, Bytes)], ttl: Option<Duration>) -> Result<()> {
        validate_cache_keys(items.iter().map(|(key, _)| *key))?;
        let inner = &self.inner;
        let limit = inner.value_limit("set_many").await?;
        for (key, value) in items {
            refuse_oversized(key, value.len(), limit, || self.delete(key)).await?;
        }
        if items.is_empty() {
            return Ok(());
        }
        let Some(ttl) = inner.ttl_ms(ttl) else {
            let keys: Vec<&str> = items.iter().map(|(key, _)| *key).collect();
            return self.delete_many(&keys).await.map(drop);
        };
        // One row per key, the last value of a key given twice winning, as sequential sets would.
        let mut latest: HashMap<String, &[u8]> = HashMap::with_capacity(items.len());
        let mut order = Vec::with_capacity(items.len());
        for (key, value) in items {
            let store_key = inner.prefix.store_key(key).into_owned();
            if latest.insert(store_key.clone(), value).is_none() {
                order.push(store_key);
            }
        }
        let rows: Vec<(&str, &[u8])> = order.iter().map(|k| (k.as_str(), latest[k])).collect();
        inner
            .run("set_many", inner.store.set_many(&rows, ttl))
            .await
    }

    async fn delete_many(&self, keys: &[&str]) -> Result<u64> {
        validate_cache_keys(keys.iter().copied())?;
        if keys.is_empty() {
            return Ok(0);
        }
        let inner = &self.inner;
        let store_keys = inner.store_keys(keys);
        inner
            .run(
                "delete_many",
                inner.store.delete_many(&distinct(&store_keys)),
            )
            .await
    }

    async fn add_bytes(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<bool> {
        validate_cache_key(key)?;
        let inner = &self.inner;
        // An add never replaces a value, so a refused one leaves the old value alone.
        check_value_size(key, value.len(), inner.value_limit("add").await?)?;
        let Some(ttl) = inner.ttl_ms(ttl) else {
            return Ok(!self.has_key(key).await?);
        };
        let store_key = inner.prefix.store_key(key);
        inner
            .run("add", inner.store.add(&store_key, &value, ttl))
            .await
    }

    async fn incr(&self, key: &str, delta: i64) -> Result<i64> {
        validate_cache_key(key)?;
        let inner = &self.inner;
        let store_key = inner.prefix.store_key(key);
        let ttl = inner.ttl_ms(None).unwrap_or(None);
        inner
            .run("incr", inner.store.incr(key, &store_key, delta, ttl))
            .await
    }

    async fn touch(&self, key: &str, ttl: Option<Duration>) -> Result<bool> {
        validate_cache_key(key)?;
        let inner = &self.inner;
        let store_key = inner.prefix.store_key(key);
        match inner.ttl_ms(ttl) {
            None => inner.run("touch", inner.store.delete(&store_key)).await,
            Some(ttl) => inner.run("touch", inner.store.touch(&store_key, ttl)).await,
        }
    }

    async fn ttl(&self, key: &str) -> Result<Option<Duration>> {
        validate_cache_key(key)?;
        let inner = &self.inner;
        let store_key = inner.prefix.store_key(key);
        let left = inner.run("ttl", inner.store.ttl(&store_key)).await?;
        Ok(left.map(|ms| match ms {
            None => openviper_cache_core::FOREVER,
            Some(ms) => Duration::from_millis(ms.max(0).unsigned_abs()),
        }))
    }

    fn gauges(&self) -> Gauges {
        self.inner.store.gauges()
    }

    fn capabilities(&self) -> Capabilities {
        let clear = if self.inner.prefix.is_empty() {
            ClearScope::WholeStore
        } else {
            ClearScope::Namespace
        };
        Capabilities::default()
            .with_remaining_ttl(true)
            .with_list_keys(true)
            .with_clear(clear)
            .with_atomic_add(true)
            .with_atomic_incr(true)
            .with_shared(self.inner.shared)
            .with_max_value_bytes(self.inner.known_value_limit())
            .with_ttl_resolution(TTL_RESOLUTION)
    }
}
