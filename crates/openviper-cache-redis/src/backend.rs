//! `RedisCache`: construction and `impl BaseCache`.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use fred::prelude::{ClientLike, Error as FredError, Expiration, KeysInterface, Pool, SetOptions};
use fred::types::scripts::Script;
use fred::types::{Key, Value};
use futures::{StreamExt, TryStreamExt};
use openviper_cache_core::connect::{ConnectError, Connector, within};
use openviper_cache_core::counter::parse_counter;
use openviper_cache_core::key_prefix::KeyPrefix;
use openviper_cache_core::size::{check_value_size, refuse_oversized};
use openviper_cache_core::ttl::{Expiry, Lifetime};
use openviper_cache_core::validation::validate_cache_keys;
use openviper_cache_core::{
    BackendConfig, BaseCache, Bytes, CacheError, Capabilities, ClearScope, Gauges, Result,
    async_trait, validate_cache_key,
};

use crate::client::build_pool;
use crate::errors::{self, Op};
use crate::glob::prefix_pattern;
use crate::options::RedisOptions;

/// Redis's own limit on a string value (`proto-max-bulk-len`).
const MAX_VALUE_BYTES: usize = 512 * 1024 * 1024;
/// Redis counts expiry in milliseconds.
const TTL_RESOLUTION: Duration = Duration::from_millis(1);
/// Keys per SCAN page and per UNLINK pipeline.
const SCAN_COUNT: u32 = 1_000;

/// `INCRBY` that gives a key it creates the alias default TTL, atomically. The new value is
/// returned as the stored string: Lua numbers are doubles, which would round a counter past
/// 2^53 (and wrap at `i64::MAX`).
const INCR_WITH_DEFAULT_TTL: &str = r"
local created = redis.call('EXISTS', KEYS[1]) == 0
redis.call('INCRBY', KEYS[1], ARGV[1])
if created then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return redis.call('GET', KEYS[1])";

/// A cache on Redis (standalone, Sentinel or Cluster), through a pool of fred clients.
///
/// Every key is stored under `key_prefix`; `clear()` and `keys()` use `SCAN MATCH` with the
/// prefix glob-escaped and never `FLUSHDB`. Construction does not touch the network: the first
/// operation connects, and a failed connection is retried by the next operation.
///
/// ```no_run
/// use openviper_cache_core::CacheExt;
/// use openviper_cache_redis::{RedisCache, RedisOptions};
/// # async fn demo() -> openviper_cache_core::Result<()> {
/// let cache = RedisCache::new(RedisOptions {
///     url: Some("redis://127.0.0.1:6379/0".into()),
///     ..RedisOptions::default()
/// })?;
/// cache.set("greeting", "hello", None).await?;
/// assert_eq!(cache.get::<String>("greeting").await?.as_deref(), Some("hello"));
/// # Ok(())
/// # }
/// ```
pub struct RedisCache {
    pool: Pool,
    name: String,
    prefix: KeyPrefix,
    default_ttl: Option<Duration>,
    timeout: Duration,
    connect_timeout: Duration,
    clustered: bool,
    link: Connector<FredError>,
    incr_script: Script,
    /// Set while a probe of the pool's connections runs (see [`RedisCache::probe_connections`]).
    probing: Arc<AtomicBool>,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCache")
            .field("name", &self.name)
            .field("key_prefix", &self.prefix.as_str())
            .field("default_ttl", &self.default_ttl)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

pub(crate) fn build(config: &BackendConfig) -> Result<Arc<dyn BaseCache>> {
    let options: RedisOptions = config.options()?;
    Ok(Arc::new(RedisCache::with_name(
        options,
        "RedisCache",
        &config.alias,
    )?))
}

impl RedisCache {
    /// A cache for `options`; `Config` errors name the option at fault and, as no settings
    /// alias names this cache, the server it was to reach (`RedisCache(host:port/db)`).
    pub fn new(options: RedisOptions) -> Result<Self> {
        let name = format!("RedisCache({})", options.endpoint());
        Self::with_name(options, "RedisCache", &name)
    }

    /// A cache named `kind` in messages (`"DragonflyCache"` for the Dragonfly wrapper), built for
    /// `alias`.
    pub fn with_name(options: RedisOptions, kind: &str, alias: &str) -> Result<Self> {
        let pool = build_pool(&options).map_err(|message| CacheError::config(alias, message))?;
        Ok(Self {
            clustered: pool.is_clustered(),
            name: format!("{kind}({})", options.endpoint()),
            prefix: KeyPrefix::new(options.key_prefix()),
            default_ttl: options.ttl,
            timeout: Duration::from_millis(options.timeout_ms),
            connect_timeout: Duration::from_millis(options.connect_timeout_ms),
            link: Connector::new(),
            incr_script: Script::from_lua(INCR_WITH_DEFAULT_TTL),
            probing: Arc::default(),
            pool,
        })
    }

    /// The prefix every key of this cache is stored under.
    ///
    /// ```
    /// use openviper_cache_redis::{RedisCache, RedisOptions};
    /// // Construction validates options and does not touch the network.
    /// let cache = RedisCache::new(RedisOptions { key_prefix: Some("app:".into()), ..RedisOptions::default() }).unwrap();
    /// assert_eq!(cache.key_prefix(), "app:");
    /// assert!(RedisCache::new(RedisOptions { pool_size: 0, ..RedisOptions::default() }).is_err());
    /// ```
    pub fn key_prefix(&self) -> &str {
        self.prefix.as_str()
    }

    /// The fred pool, for commands this API does not cover (connect it with `init` first, or
    /// run any cache operation).
    pub fn fred_pool(&self) -> &Pool {
        &self.pool
    }

    fn full_key(&self, key: &str) -> Key {
        Key::from(self.prefix.store_key(key).into_owned())
    }

    fn err(&self, op: Op, error: FredError) -> CacheError {
        errors::to_cache_error(&self.name, op, self.timeout, error)
    }

    /// The pool, connected: the first call (and the first after a failed attempt or `close`)
    /// starts a connection attempt in the background and waits for it at most
    /// `connect_timeout_ms`; callers meanwhile join that attempt. Nothing here awaits without a
    /// bound or holds a lock across an await, so a server that accepts and never answers costs
    /// each caller one bounded wait, and the attempt that outlives its callers still connects
    /// the cache for the next one.
    async fn connected_pool(&self, op: Op) -> Result<&Pool> {
        if self.link.is_connected() {
            return Ok(&self.pool);
        }
        let pool = self.pool.clone();
        // fred gives up on a first connection that fails (`fail_fast`) within its own
        // connection and handshake timeouts (both `connect_timeout_ms`) and resets itself.
        let attempt = move || async move { pool.init().await.map(drop) };
        match self.link.connect(self.connect_timeout, attempt).await {
            Ok(()) => {
                tracing::debug!(cache = %self.name, "connected");
                Ok(&self.pool)
            }
            Err(ConnectError::TimedOut) => Err(CacheError::Timeout {
                backend: self.name.clone(),
                operation: op.name(),
                after: self.connect_timeout,
            }),
            Err(ConnectError::Failed(error)) => Err(self.err(op, error)),
            Err(ConnectError::Abandoned) => Err(CacheError::unavailable(
                self.name.clone(),
                op.name(),
                "the connection attempt was abandoned (its runtime shut down)",
            )),
        }
    }

    /// Runs one command (or pipeline, or scan page) within `timeout_ms`.
    ///
    /// Commands are timed here rather than by fred's `default_command_timeout` (left off):
    /// measured under 64 concurrent tasks on 2 cores, fred's built-in timeout cost ~40 % of the
    /// throughput, a `tokio::time::timeout` around the call a few percent. The command comes
    /// boxed: a fred command future is ~7 KB, and moving it through each layer of futures cost
    /// more than one allocation. A reply that comes after the deadline is matched by fred to
    /// the dropped command on its connection, never handed to another caller.
    async fn bounded<T>(
        &self,
        op: Op,
        command: impl Future<Output = Result<T, FredError>> + Unpin,
    ) -> Result<T> {
        self.within(op, command).await?.map_err(|e| self.err(op, e))
    }

    /// `command`'s own result, or `Timeout` after `timeout_ms`; see [`RedisCache::bounded`].
    async fn within<T>(
        &self,
        op: Op,
        command: impl Future<Output = Result<T, FredError>> + Unpin,
    ) -> Result<Result<T, FredError>> {
        let result = within(&self.name, op.name(), self.timeout, command).await;
        if let Err(CacheError::Timeout { .. }) = &result {
            self.probe_connections();
        }
        result
    }

    /// After a command timed out: pings every connected client of the pool within `timeout_ms`
    /// and reconnects those that do not answer, so a connection to a hung or black-holed server
    /// is replaced rather than kept until the kernel gives up on it. One probe runs at a time,
    /// in the background; the caller has its `Timeout` at once.
    ///
    /// This does the work of fred's `unresponsive` check, which is left off for a standalone or
    /// Sentinel server: that check arms a timer on every turn of each connection's loop, which
    /// measured ~8 % of the throughput at 64 tasks (docs/backends/redis.md). On a Redis Cluster
    /// that check stays on, so the probe leaves the cluster client to it: one unanswered ping
    /// there would reconnect every node at once.
    fn probe_connections(&self) {
        if self.clustered || self.probing.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.probing.store(false, Ordering::Release);
            return;
        };
        let (pool, probing, name) = (
            self.pool.clone(),
            Arc::clone(&self.probing),
            self.name.clone(),
        );
        let (timeout, connect_timeout) = (self.timeout, self.connect_timeout);
        runtime.spawn(async move {
            let probes = pool.clients().iter().filter(|client| client.is_connected()).map(|client| async {
                if tokio::time::timeout(timeout, client.ping::<()>(None)).await.is_ok() {
                    return;
                }
                tracing::warn!(cache = %name, servers = ?client.active_connections(), "a connection did not answer a ping within timeout_ms: reconnecting it");
                // A failed reconnection goes on under the reconnect policy; nothing to report.
                let _ = tokio::time::timeout(connect_timeout, client.force_reconnection()).await;
            });
            futures::future::join_all(probes).await;
            probing.store(false, Ordering::Release);
        });
    }

    fn lifetime(&self, ttl: Option<Duration>) -> Lifetime {
        Lifetime::resolve(ttl, self.default_ttl)
    }

    /// The `PX` of a write; `None` for no expiry. [`Expiry::Delete`] never reaches a `SET`
    /// (Redis refuses `PX 0`): the callers remove the key instead.
    fn expiration(lifetime: Lifetime) -> Option<Expiration> {
        let ms = lifetime.expiry(TTL_RESOLUTION).as_millis()?;
        Some(Expiration::PX(i64::try_from(ms).unwrap_or(i64::MAX)))
    }

    /// The core size policy for a write that replaces the value: over the limit, the old
    /// value is removed and the write refused.
    async fn check_size(&self, key: &str, value: &Bytes) -> Result<()> {
        refuse_oversized(key, value.len(), Some(MAX_VALUE_BYTES), || self.delete(key)).await
    }

    /// Every key of this cache starting with `prefix` (full keys, with our prefix).
    async fn scan(&self, prefix: &str, op: Op) -> Result<Vec<Key>> {
        let pool = self.connected_pool(op).await?;
        let pattern = prefix_pattern(&self.prefix.store_prefix(prefix));
        let client = pool.next();
        let mut stream = if self.clustered {
            client
                .scan_cluster_buffered(pattern, Some(SCAN_COUNT), None)
                .boxed()
        } else {
            client
                .scan_buffered(pattern, Some(SCAN_COUNT), None)
                .boxed()
        };
        let mut keys = Vec::new();
        // Each key arrives within the timeout (keys of one page arrive together), however long
        // the whole scan of a large keyspace takes.
        while let Some(key) = self.bounded(op, stream.try_next()).await? {
            keys.push(key);
        }
        Ok(keys)
    }

    /// `UNLINK` of each key, pipelined (one round trip per node); the number removed.
    async fn unlink_all(&self, keys: &[Key], op: Op) -> Result<u64> {
        let pool = self.connected_pool(op).await?;
        let mut removed = 0;
        for chunk in keys.chunks(SCAN_COUNT as usize) {
            let pipeline = pool.next().pipeline();
            for key in chunk {
                let _: () = pipeline
                    .unlink(key.clone())
                    .await
                    .map_err(|e| self.err(op, e))?;
            }
            let counts: Vec<u64> = self.bounded(op, Box::pin(pipeline.all())).await?;
            removed += counts.iter().sum::<u64>();
        }
        Ok(removed)
    }
}

#[async_trait]
impl BaseCache for RedisCache {
    async fn get_bytes(&self, key: &str) -> Result<Option<Bytes>> {
        validate_cache_key(key)?;
        let pool = self.connected_pool(Op::Get).await?;
        self.bounded(Op::Get, Box::pin(pool.get(self.full_key(key))))
            .await
    }

    async fn set_bytes(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<()> {
        validate_cache_key(key)?;
        self.check_size(key, &value).await?;
        let lifetime = self.lifetime(ttl);
        let pool = self.connected_pool(Op::Set).await?;
        let full = self.full_key(key);
        if lifetime == Lifetime::Expired {
            // Redis refuses `PX 0`: an already expired write is a removal.
            let _: u64 = self.bounded(Op::Set, Box::pin(pool.unlink(full))).await?;
            return Ok(());
        }
        let command =
            Box::pin(pool.set::<(), _, _>(full, value, Self::expiration(lifetime), None, false));
        self.bounded(Op::Set, command).await
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        validate_cache_key(key)?;
        let pool = self.connected_pool(Op::Delete).await?;
        let removed: u64 = self
            .bounded(Op::Delete, Box::pin(pool.unlink(self.full_key(key))))
            .await?;
        Ok(removed > 0)
    }

    async fn clear(&self) -> Result<()> {
        let keys = self.scan("", Op::Clear).await?;
        let removed = self.unlink_all(&keys, Op::Clear).await?;
        tracing::debug!(cache = %self.name, removed, "cleared");
        Ok(())
    }

    async fn has_key(&self, key: &str) -> Result<bool> {
        validate_cache_key(key)?;
        let pool = self.connected_pool(Op::HasKey).await?;
        let count: u64 = self
            .bounded(Op::HasKey, Box::pin(pool.exists(self.full_key(key))))
            .await?;
        Ok(count > 0)
    }

    async fn keys(&self, prefix: &str) -> Result<Vec<String>> {
        let found = self.scan(prefix, Op::Keys).await?;
        let mut keys: Vec<String> = found
            .iter()
            .filter_map(|key| self.prefix.user_key(key.as_bytes()).map(str::to_owned))
            .collect();
        // SCAN may return a key twice.
        keys.sort_unstable();
        keys.dedup();
        Ok(keys)
    }

    async fn close(&self) -> Result<()> {
        if self.link.is_connected() {
            self.link.disconnected();
            self.bounded(Op::Close, Box::pin(self.pool.quit())).await?;
        }
        Ok(())
    }

    async fn get_many_bytes(&self, keys: &[&str]) -> Result<Vec<Option<Bytes>>> {
        validate_cache_keys(keys.iter().copied())?;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let pool = self.connected_pool(Op::GetMany).await?;
        let full: Vec<Key> = keys.iter().map(|k| self.full_key(k)).collect();
        if !self.clustered {
            return self.bounded(Op::GetMany, Box::pin(pool.mget(full))).await;
        }
        // A cluster refuses MGET across slots: one pipeline, routed per key, one round trip
        // per node.
        let pipeline = pool.next().pipeline();
        for key in full {
            let _: () = pipeline
                .get(key)
                .await
                .map_err(|e| self.err(Op::GetMany, e))?;
        }
        let values: Vec<Value> = self.bounded(Op::GetMany, Box::pin(pipeline.all())).await?;
        values
            .into_iter()
            .map(|v| {
                v.convert::<Option<Bytes>>()
                    .map_err(|e| self.err(Op::GetMany, e))
            })
            .collect()
    }

    async fn set_many_bytes(&self, items: &[(&str, Bytes)], ttl: Option<Duration>) -> Result<()> {
        validate_cache_keys(items.iter().map(|(key, _)| *key))?;
        for (key, value) in items {
            self.check_size(key, value).await?;
        }
        if items.is_empty() {
            return Ok(());
        }
        let lifetime = self.lifetime(ttl);
        if lifetime == Lifetime::Expired {
            let keys: Vec<Key> = items.iter().map(|(k, _)| self.full_key(k)).collect();
            self.unlink_all(&keys, Op::SetMany).await?;
            return Ok(());
        }
        let pool = self.connected_pool(Op::SetMany).await?;
        let expiration = Self::expiration(lifetime);
        let pipeline = pool.next().pipeline();
        for (key, value) in items {
            let _: () = pipeline
                .set(
                    self.full_key(key),
                    value.clone(),
                    expiration.clone(),
                    None,
                    false,
                )
                .await
                .map_err(|e| self.err(Op::SetMany, e))?;
        }
        let _: Vec<Value> = self.bounded(Op::SetMany, Box::pin(pipeline.all())).await?;
        Ok(())
    }

    async fn delete_many(&self, keys: &[&str]) -> Result<u64> {
        validate_cache_keys(keys.iter().copied())?;
        let full: Vec<Key> = keys.iter().map(|k| self.full_key(k)).collect();
        self.unlink_all(&full, Op::DeleteMany).await
    }

    async fn add_bytes(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<bool> {
        validate_cache_key(key)?;
        // An add never replaces a value, so a refused one leaves the old value alone.
        check_value_size(key, value.len(), Some(MAX_VALUE_BYTES))?;
        let lifetime = self.lifetime(ttl);
        let pool = self.connected_pool(Op::Add).await?;
        let full = self.full_key(key);
        if lifetime == Lifetime::Expired {
            let count: u64 = self.bounded(Op::Add, Box::pin(pool.exists(full))).await?;
            return Ok(count == 0);
        }
        let command = Box::pin(pool.set(
            full,
            value,
            Self::expiration(lifetime),
            Some(SetOptions::NX),
            false,
        ));
        let reply: Option<String> = self.bounded(Op::Add, command).await?;
        Ok(reply.is_some())
    }

    async fn incr(&self, key: &str, delta: i64) -> Result<i64> {
        validate_cache_key(key)?;
        let pool = self.connected_pool(Op::Incr).await?;
        let full = self.full_key(key);
        let default_ttl = self
            .default_ttl
            .map(|ttl| Lifetime::For(ttl).expiry(TTL_RESOLUTION));
        match default_ttl.and_then(Expiry::as_millis) {
            Some(ms) => {
                let command = self.incr_script.evalsha_with_reload::<Bytes, _, _>(
                    pool.next(),
                    full,
                    vec![delta.to_string(), ms.to_string()],
                );
                match self.within(Op::Incr, Box::pin(command)).await? {
                    Ok(stored) => parse_counter(&stored).ok_or_else(|| CacheError::NotAnInteger {
                        key: key.to_owned(),
                    }),
                    Err(e) => Err(errors::incr_error(&self.name, key, delta, self.timeout, e)),
                }
            }
            None => self
                .within(Op::Incr, Box::pin(pool.incr_by::<i64, _>(full, delta)))
                .await?
                .map_err(|e| errors::incr_error(&self.name, key, delta, self.timeout, e)),
        }
    }

    async fn touch(&self, key: &str, ttl: Option<Duration>) -> Result<bool> {
        validate_cache_key(key)?;
        let pool = self.connected_pool(Op::Touch).await?;
        let full = self.full_key(key);
        let lifetime = self.lifetime(ttl);
        let changed: u64 = match (lifetime, Self::expiration(lifetime)) {
            (Lifetime::Expired, _) => self.bounded(Op::Touch, Box::pin(pool.unlink(full))).await?,
            (_, Some(Expiration::PX(ms))) => {
                self.bounded(Op::Touch, Box::pin(pool.pexpire(full, ms, None)))
                    .await?
            }
            _ => {
                // PERSIST answers 0 both for a missing key and for one without a TTL.
                let _: u64 = self
                    .bounded(Op::Touch, Box::pin(pool.persist(full.clone())))
                    .await?;
                self.bounded(Op::Touch, Box::pin(pool.exists(full))).await?
            }
        };
        Ok(changed > 0)
    }

    async fn ttl(&self, key: &str) -> Result<Option<Duration>> {
        validate_cache_key(key)?;
        let pool = self.connected_pool(Op::Ttl).await?;
        // PTTL: -2 missing, -1 no expiry, else milliseconds left.
        let left: i64 = self
            .bounded(Op::Ttl, Box::pin(pool.pttl(self.full_key(key))))
            .await?;
        Ok(match left {
            -1 => Some(openviper_cache_core::FOREVER),
            ms if ms > 0 => Some(Duration::from_millis(ms.unsigned_abs())),
            _ => None,
        })
    }

    /// Connections open; none is "in use" on its own, as fred pipelines every command over
    /// them.
    fn gauges(&self) -> Gauges {
        let open = self
            .pool
            .clients()
            .iter()
            .filter(|client| client.is_connected())
            .count();
        Gauges::default().with_connections(open as u64, None)
    }

    fn capabilities(&self) -> Capabilities {
        // An empty prefix makes this cache's keys every key of the database.
        let clear = if self.prefix.is_empty() {
            ClearScope::WholeStore
        } else {
            ClearScope::Namespace
        };
        Capabilities::default()
            .with_remaining_ttl(true)
            .with_list_keys(true)
            .with_clear(clear)
            .with_ttl_resolution(TTL_RESOLUTION)
            .with_atomic_add(true)
            .with_atomic_incr(true)
            .with_shared(true)
            .with_max_value_bytes(Some(MAX_VALUE_BYTES))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_prefix_says_clear_empties_the_whole_database() {
        let cache = |prefix: &str| {
            RedisCache::new(RedisOptions {
                key_prefix: Some(prefix.to_owned()),
                ..RedisOptions::default()
            })
            .unwrap_or_else(|e| panic!("{e}"))
        };
        assert_eq!(cache("").capabilities().clear, ClearScope::WholeStore);
        assert_eq!(cache("app:").capabilities().clear, ClearScope::Namespace);
    }

    #[test]
    fn a_malformed_url_is_never_echoed_with_its_password() {
        for url in [
            "redis:/u:topsecret@h",
            "redis//u:topsecret@h:1",
            "rediss://u:topsecret@h:notaport",
        ] {
            let result = RedisCache::new(RedisOptions {
                url: Some(url.to_owned()),
                ..RedisOptions::default()
            });
            let text = match &result {
                Err(error) => format!("{error} {error:?}"),
                Ok(cache) => format!("{cache:?}"),
            };
            assert!(!text.contains("topsecret"), "{url}: {text}");
        }
    }
}
