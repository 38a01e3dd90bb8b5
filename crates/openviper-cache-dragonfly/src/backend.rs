//! `DragonflyCache`: a `RedisCache` with Dragonfly's defaults, named as Dragonfly in messages.

use std::sync::Arc;
use std::time::Duration;

use openviper_cache_core::{
    BackendConfig, BaseCache, Bytes, Capabilities, Gauges, Result, async_trait,
};
use openviper_cache_redis::{RedisCache, RedisOptions};

/// The key prefix DragonflyCache uses when `key_prefix` is absent, so that its keys stay apart
/// from RedisCache's on a shared server.
pub const DEFAULT_KEY_PREFIX: &str = "ov:df:";

/// A cache on [Dragonfly](https://www.dragonflydb.io/), which speaks the Redis protocol: a
/// [`RedisCache`] whose `key_prefix` defaults to `ov:df:` (host `localhost`, port 6379, db 0
/// as for Redis). Every option of `RedisOptions` applies.
///
/// ```
/// use openviper_cache_dragonfly::DragonflyCache;
/// use openviper_cache_redis::RedisOptions;
///
/// let cache = DragonflyCache::new(RedisOptions::default()).unwrap();
/// assert_eq!(cache.redis().key_prefix(), "ov:df:");
/// ```
#[derive(Debug)]
pub struct DragonflyCache {
    inner: RedisCache,
}

pub(crate) fn build(config: &BackendConfig) -> Result<Arc<dyn BaseCache>> {
    let mut options = config.raw_options().clone();
    if let serde_json::Value::Object(map) = &mut options {
        map.entry("key_prefix")
            .or_insert_with(|| DEFAULT_KEY_PREFIX.into());
    }
    let config = BackendConfig::new(config.alias.clone(), config.backend.clone(), options);
    let options: RedisOptions = config.options()?;
    Ok(Arc::new(DragonflyCache {
        inner: RedisCache::with_name(options, "DragonflyCache", &config.alias)?,
    }))
}

impl DragonflyCache {
    /// A cache for `options`, with `key_prefix` defaulting to [`DEFAULT_KEY_PREFIX`]. `Config`
    /// errors name the server it was to reach (`DragonflyCache(host:port/db)`).
    pub fn new(mut options: RedisOptions) -> Result<Self> {
        if options.key_prefix.is_none() {
            options.key_prefix = Some(DEFAULT_KEY_PREFIX.to_owned());
        }
        let name = format!("DragonflyCache({})", options.endpoint());
        Ok(Self {
            inner: RedisCache::with_name(options, "DragonflyCache", &name)?,
        })
    }

    /// The `RedisCache` underneath.
    pub fn redis(&self) -> &RedisCache {
        &self.inner
    }
}

// Every method forwards: a new `BaseCache` method must be forwarded too, never left to a
// default that RedisCache overrides (a non-atomic `add`, say).
#[deny(clippy::missing_trait_methods)]
#[async_trait]
impl BaseCache for DragonflyCache {
    async fn get_bytes(&self, key: &str) -> Result<Option<Bytes>> {
        self.inner.get_bytes(key).await
    }
    fn read_now(&self, key: &str, reader: &mut dyn FnMut(&[u8])) -> Option<Result<bool>> {
        self.inner.read_now(key, reader)
    }
    fn write_now(&self, key: &str, value: &Bytes, ttl: Option<Duration>) -> Option<Result<()>> {
        self.inner.write_now(key, value, ttl)
    }
    async fn set_bytes(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<()> {
        self.inner.set_bytes(key, value, ttl).await
    }
    async fn delete(&self, key: &str) -> Result<bool> {
        self.inner.delete(key).await
    }
    async fn clear(&self) -> Result<()> {
        self.inner.clear().await
    }
    async fn has_key(&self, key: &str) -> Result<bool> {
        self.inner.has_key(key).await
    }
    async fn keys(&self, prefix: &str) -> Result<Vec<String>> {
        self.inner.keys(prefix).await
    }
    async fn close(&self) -> Result<()> {
        self.inner.close().await
    }
    async fn get_many_bytes(&self, keys: &[&str]) -> Result<Vec<Option<Bytes>>> {
        self.inner.get_many_bytes(keys).await
    }
    async fn set_many_bytes(&self, items: &[(&str, Bytes)], ttl: Option<Duration>) -> Result<()> {
        self.inner.set_many_bytes(items, ttl).await
    }
    async fn delete_many(&self, keys: &[&str]) -> Result<u64> {
        self.inner.delete_many(keys).await
    }
    async fn add_bytes(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<bool> {
        self.inner.add_bytes(key, value, ttl).await
    }
    async fn incr(&self, key: &str, delta: i64) -> Result<i64> {
        self.inner.incr(key, delta).await
    }
    async fn touch(&self, key: &str, ttl: Option<Duration>) -> Result<bool> {
        self.inner.touch(key, ttl).await
    }
    async fn ttl(&self, key: &str) -> Result<Option<Duration>> {
        self.inner.ttl(key).await
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    fn gauges(&self) -> Gauges {
        self.inner.gauges()
    }
}
