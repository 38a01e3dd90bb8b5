//! The `BaseCache` trait every backend implements.

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

use crate::capabilities::Capabilities;
use crate::counter::{format_counter, next_counter};
use crate::error::Result;
use crate::gauges::Gauges;
use crate::validation::{validate_cache_key, validate_cache_keys};

/// The async cache API every backend implements, on raw bytes.
///
/// Typed access (`get::<T>`, `set`, `get_or_set_with`, ...) comes from [`CacheExt`](crate::CacheExt),
/// which every `BaseCache` has. A backend must implement the first four methods; everything else
/// has a correct default built on them, which a backend overrides where its store does better
/// (one round trip for a batch, an atomic `add` or `incr`).
///
/// Every method validates its keys with [`validate_cache_key`] before any I/O.
///
/// TTL arguments: `None` is the alias default (`OPTIONS.ttl`), [`FOREVER`](crate::FOREVER) never
/// expires, `Duration::ZERO` is already expired.
///
/// ```
/// use std::sync::Arc;
/// use openviper_cache_core::{BaseCache, CacheManager, CacheSettings};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// # use openviper_cache_memory as _;
/// let cache: Arc<dyn BaseCache> = CacheManager::new(CacheSettings::from_toml_str(r#"
///     [CACHES.default]
///     BACKEND = "openviper.cache.InMemoryCache"
/// "#)?).get("default")?;
/// cache.set_bytes("greeting", "hello".into(), None).await?;
/// assert_eq!(cache.get_bytes("greeting").await?.as_deref(), Some(&b"hello"[..]));
/// assert!(cache.delete("greeting").await?);
/// assert!(!cache.has_key("greeting").await?);
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// # })
/// # }
/// ```
#[async_trait]
pub trait BaseCache: Send + Sync + std::fmt::Debug {
    /// The value of `key`, or `None` when it is missing or expired.
    async fn get_bytes(&self, key: &str) -> Result<Option<Bytes>>;

    /// Stores `value` under `key` for `ttl`. `Duration::ZERO` stores nothing and removes the
    /// old value.
    async fn set_bytes(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<()>;

    /// Removes `key`; `true` when a live entry was removed (an expired one gives `false`).
    async fn delete(&self, key: &str) -> Result<bool>;

    /// Removes this cache's entries; see [`Capabilities::clear`] for what that covers here.
    async fn clear(&self) -> Result<()>;

    /// Reads `key` at once, for backends that never wait (in-process stores): `None` means
    /// "not supported here, call `get_bytes`"; otherwise `reader` is called with the live
    /// value's bytes at most once, and the answer says whether it was (`Ok(true)`: a hit,
    /// `Ok(false)`: a miss). The typed layer tries it first, so an in-process hit costs no boxed
    /// future, and the backend may lend its stored bytes instead of handing out a copy or a
    /// reference count. `reader` may run under the backend's lock: it must not call back into
    /// the cache. Default: `None`. Validates the key like `get_bytes`. Declare it with
    /// [`Capabilities::sync_read`]: the instrumentation layer gives it a span of its own only
    /// then.
    ///
    /// ```
    /// use openviper_cache_core::{BaseCache, CacheManager, CacheSettings};
    /// # use openviper_cache_memory as _;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let cache = CacheManager::new(CacheSettings::default()).get("default").unwrap();
    /// cache.set_bytes("k", "value".into(), None).await.unwrap();
    /// let mut seen = Vec::new();
    /// assert!(matches!(cache.read_now("k", &mut |bytes| seen.extend_from_slice(bytes)), Some(Ok(true))));
    /// assert_eq!(seen, b"value");
    /// assert!(matches!(cache.read_now("missing", &mut |_| {}), Some(Ok(false))));
    /// # });
    /// ```
    fn read_now(&self, key: &str, reader: &mut dyn FnMut(&[u8])) -> Option<Result<bool>> {
        let _ = (key, reader);
        None
    }

    /// Writes `value` under `key` at once, for backends that never wait (in-process stores):
    /// `None` means "not supported here, call `set_bytes`" (and nothing was written); otherwise
    /// the write is done, with exactly the meaning of `set_bytes(key, value, ttl)`: the same
    /// key check, TTL and size policy. The typed `set` tries it first, so an in-process write
    /// costs no boxed future. `value` is lent: the backend keeps a copy or a reference count of
    /// it. Default: `None`. Declare it with [`Capabilities::sync_write`], as for `read_now`.
    ///
    /// ```
    /// use openviper_cache_core::{BaseCache, Bytes, CacheManager, CacheSettings};
    /// # use openviper_cache_memory as _;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let cache = CacheManager::new(CacheSettings::default()).get("default").unwrap();
    /// assert!(matches!(cache.write_now("k", &Bytes::from("value"), None), Some(Ok(()))));
    /// assert_eq!(cache.get_bytes("k").await.unwrap().as_deref(), Some(&b"value"[..]));
    /// assert!(matches!(cache.write_now("bad key", &Bytes::new(), None), Some(Err(_))));
    /// # });
    /// ```
    fn write_now(&self, key: &str, value: &Bytes, ttl: Option<Duration>) -> Option<Result<()>> {
        let _ = (key, value, ttl);
        None
    }

    /// Whether `key` holds a live entry. Default: `get_bytes(key)` is `Some`.
    async fn has_key(&self, key: &str) -> Result<bool> {
        Ok(self.get_bytes(key).await?.is_some())
    }

    /// This cache's live keys starting with `prefix` (taken literally, never as a pattern),
    /// without the backend's own `key_prefix`. Default: `[]`, as in OpenViper; see
    /// [`Capabilities::list_keys`].
    async fn keys(&self, prefix: &str) -> Result<Vec<String>> {
        let _ = prefix;
        Ok(Vec::new())
    }

    /// Releases connections and handles. Idempotent. Default: nothing to release.
    async fn close(&self) -> Result<()> {
        Ok(())
    }

    /// The values of `keys`, in their order. Default: one `get_bytes` per key.
    async fn get_many_bytes(&self, keys: &[&str]) -> Result<Vec<Option<Bytes>>> {
        validate_cache_keys(keys.iter().copied())?;
        let mut values = Vec::with_capacity(keys.len());
        for key in keys {
            values.push(self.get_bytes(key).await?);
        }
        Ok(values)
    }

    /// Stores every item with one `ttl`. Default: one `set_bytes` per item, after validating
    /// every key.
    async fn set_many_bytes(&self, items: &[(&str, Bytes)], ttl: Option<Duration>) -> Result<()> {
        validate_cache_keys(items.iter().map(|(key, _)| *key))?;
        for (key, value) in items {
            self.set_bytes(key, value.clone(), ttl).await?;
        }
        Ok(())
    }

    /// Removes every key; returns how many live entries were removed. Default: one `delete`
    /// per key.
    async fn delete_many(&self, keys: &[&str]) -> Result<u64> {
        validate_cache_keys(keys.iter().copied())?;
        let mut removed = 0;
        for key in keys {
            removed += u64::from(self.delete(key).await?);
        }
        Ok(removed)
    }

    /// Stores `value` only if `key` is absent; `true` when it was stored (or, for
    /// `Duration::ZERO`, when the key was absent).
    ///
    /// The default is `has_key` then `set_bytes`: **not atomic**, two concurrent callers may
    /// both win. Backends that override it report `atomic_add` in [`BaseCache::capabilities`].
    async fn add_bytes(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<bool> {
        validate_cache_key(key)?;
        if self.has_key(key).await? {
            return Ok(false);
        }
        if ttl != Some(Duration::ZERO) {
            self.set_bytes(key, value, ttl).await?;
        }
        Ok(true)
    }

    /// Adds `delta` to the integer under `key` and returns the new value. A missing key starts
    /// at 0 and gets the alias default TTL; a value that is not the canonical ASCII decimal of
    /// an `i64` ([`counter`](crate::counter): no `+`, no leading zeros, no `-0`) is
    /// [`CacheError::NotAnInteger`](crate::CacheError::NotAnInteger); a result past `i64` is
    /// [`CacheError::Overflow`](crate::CacheError::Overflow); in both
    /// error cases the value is untouched. `decr` is `incr` with a negative delta.
    ///
    /// The default is `get_bytes` then `set_bytes`: **not atomic** (concurrent increments can
    /// be lost) and it rewrites the entry with the alias default TTL. Backends that override it
    /// report `atomic_incr` in [`BaseCache::capabilities`], and keep the key's TTL.
    async fn incr(&self, key: &str, delta: i64) -> Result<i64> {
        validate_cache_key(key)?;
        let current = self.get_bytes(key).await?;
        let next = next_counter(key, current.as_deref(), delta)?;
        self.set_bytes(key, format_counter(next), None).await?;
        Ok(next)
    }

    /// Gives `key` a new TTL; `true` when the key exists. `None` applies the alias default,
    /// `Duration::ZERO` expires the key.
    ///
    /// The default reads the value and writes it back: not atomic with concurrent writers.
    async fn touch(&self, key: &str, ttl: Option<Duration>) -> Result<bool> {
        validate_cache_key(key)?;
        match self.get_bytes(key).await? {
            None => Ok(false),
            Some(value) => {
                self.set_bytes(key, value, ttl).await?;
                Ok(true)
            }
        }
    }

    /// How long `key` has left: `None` when it is missing or expired,
    /// `Some(`[`FOREVER`](crate::FOREVER)`)` when it never expires, else the time left (to the
    /// store's [`Capabilities::ttl_resolution`]). Backends that can tell report
    /// [`Capabilities::remaining_ttl`]; the default is
    /// [`CacheError::Unsupported`](crate::CacheError::Unsupported), naming the backend's type.
    ///
    /// ```
    /// use std::time::Duration;
    /// use openviper_cache_core::{BaseCache, CacheManager, CacheSettings, FOREVER};
    /// # use openviper_cache_memory as _;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let cache = CacheManager::new(CacheSettings::default()).get("default").unwrap();
    /// cache.set_bytes("session", "x".into(), Some(Duration::from_secs(60))).await.unwrap();
    /// cache.set_bytes("config", "y".into(), Some(FOREVER)).await.unwrap();
    /// let left = cache.ttl("session").await.unwrap().unwrap();
    /// assert!(left <= Duration::from_secs(60) && left > Duration::from_secs(50));
    /// assert_eq!(cache.ttl("config").await.unwrap(), Some(FOREVER));
    /// assert_eq!(cache.ttl("missing").await.unwrap(), None);
    /// # });
    /// ```
    async fn ttl(&self, key: &str) -> Result<Option<Duration>> {
        validate_cache_key(key)?;
        let type_name = std::any::type_name::<Self>();
        Err(crate::CacheError::Unsupported {
            backend: type_name
                .rsplit("::")
                .next()
                .unwrap_or(type_name)
                .to_owned(),
            operation: "ttl",
        })
    }

    /// What `keys()`, `clear()`, `add_bytes()` and `incr()` really do on this backend.
    /// Default: [`Capabilities::default`], the conservative answer.
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    /// What this cache can tell of its state now (entries, bytes, connections), for the
    /// instrumentation layer's gauges. Called at most once a second per cache, off the
    /// operation it follows: it may take a lock, never a round trip. Default: nothing known.
    ///
    /// ```
    /// use openviper_cache_core::{BaseCache, CacheManager, CacheSettings};
    /// # use openviper_cache_memory as _;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let cache = CacheManager::new(CacheSettings::default()).get("default").unwrap();
    /// cache.set_bytes("k", "value".into(), None).await.unwrap();
    /// assert_eq!(cache.gauges().entries, Some(1));
    /// # });
    /// ```
    fn gauges(&self) -> Gauges {
        Gauges::default()
    }
}
