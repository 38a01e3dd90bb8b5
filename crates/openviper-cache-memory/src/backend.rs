//! `InMemoryCache`: construction and `impl BaseCache`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use coarsetime::Instant;

use openviper_cache_core::codec::{format_counter, parse_counter};
use openviper_cache_core::ttl::Lifetime;
use openviper_cache_core::validation::validate_cache_keys;
use openviper_cache_core::{
    BackendConfig, BaseCache, Bytes, CacheError, Capabilities, ClearScope, Result, async_trait,
    validate_cache_key,
};
use quick_cache::sync::{Cache, EntryAction, EntryResult};
use smol_str::SmolStr;

use crate::entry::{Entry, EntryWeighter, deadline};
use crate::options::{DEFAULT_TTL, InMemoryOptions};

/// How often, at most, a write sweeps expired entries out of the whole map.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// A bounded, concurrent in-process cache with per-entry TTL, on `quick_cache`.
///
/// Reads take a shard read lock only (no global lock); a hit is a lookup plus a reference-count
/// bump of the stored [`Bytes`]. `add`, `incr` and `touch` run under the key's shard lock, so
/// they are atomic. The map never holds more than `max_entries` entries (nor more than
/// `max_bytes` bytes when set): the least useful entries are evicted first (CLOCK-Pro).
///
/// ```
/// use std::time::Duration;
/// use openviper_cache_core::{BaseCache, CacheExt};
/// use openviper_cache_memory::{InMemoryCache, InMemoryOptions};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let cache = InMemoryCache::new(InMemoryOptions::default());
/// cache.set("user:1", "Ada", Some(Duration::from_secs(30))).await?;
/// assert_eq!(cache.get::<String>("user:1").await?.as_deref(), Some("Ada"));
/// assert_eq!(cache.incr("visits", 1).await?, 1);
/// assert_eq!(cache.keys("user:").await?, vec!["user:1"]);
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// # })
/// # }
/// ```
pub struct InMemoryCache {
    map: Cache<SmolStr, Entry, EntryWeighter>,
    default_ttl: Duration,
    max_value_bytes: Option<usize>,
    created: Instant,
    /// Milliseconds after `created` of the last sweep.
    last_sweep_ms: AtomicU64,
}

impl std::fmt::Debug for InMemoryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemoryCache")
            .field("entries", &self.map.len())
            .field("capacity", &self.map.capacity())
            .field("default_ttl", &self.default_ttl)
            .finish_non_exhaustive()
    }
}

pub(crate) fn build(config: &BackendConfig) -> Result<Arc<dyn BaseCache>> {
    Ok(Arc::new(InMemoryCache::new(config.options()?)))
}

impl InMemoryCache {
    /// A cache with `options`.
    pub fn new(options: InMemoryOptions) -> Self {
        let max_entries = options.max_entries.get();
        let estimated_items = usize::try_from(max_entries).unwrap_or(usize::MAX);
        let (weighter, capacity) = match options.max_bytes {
            None => (
                EntryWeighter {
                    by_bytes: false,
                    min_weight: 1,
                },
                max_entries,
            ),
            Some(max_bytes) => (
                EntryWeighter {
                    by_bytes: true,
                    min_weight: max_bytes.get().div_ceil(max_entries).max(1),
                },
                max_bytes.get(),
            ),
        };
        let map = Cache::with_weighter(estimated_items, capacity, weighter);
        // quick_cache admits no entry heavier than 97 % of one shard's share (its hot target);
        // 96 % keeps clear of its float rounding.
        let max_value_bytes = options.max_bytes.map(|_| {
            usize::try_from(map.shard_capacity().saturating_mul(96) / 100).unwrap_or(usize::MAX)
        });
        Self {
            map,
            default_ttl: options.ttl.unwrap_or(DEFAULT_TTL),
            max_value_bytes,
            created: Instant::now(),
            last_sweep_ms: AtomicU64::new(0),
        }
    }

    /// Live entries now held (expired ones not yet swept are counted until they are).
    ///
    /// ```
    /// use openviper_cache_core::BaseCache;
    /// use openviper_cache_memory::{InMemoryCache, InMemoryOptions};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let cache = InMemoryCache::new(InMemoryOptions::default());
    /// assert!(cache.is_empty());
    /// cache.set_bytes("k", "value".into(), None).await.unwrap();
    /// assert_eq!(cache.len(), 1);
    /// # });
    /// ```
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the map holds no entries.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Key + value bytes now held.
    pub fn weight(&self) -> u64 {
        self.map.weight()
    }

    fn lifetime(&self, ttl: Option<Duration>) -> Lifetime {
        Lifetime::resolve(ttl, Some(self.default_ttl))
    }

    /// `ValueTooLarge` when `value` cannot be admitted.
    fn fits(&self, key: &str, value: &Bytes) -> Result<()> {
        match self.max_value_bytes {
            Some(limit) if key.len() + value.len() > limit => Err(CacheError::ValueTooLarge {
                key: key.to_owned(),
                size: value.len(),
                limit: limit.saturating_sub(key.len()),
            }),
            _ => Ok(()),
        }
    }

    /// [`InMemoryCache::fits`] for a write that replaces the value: a refused write also removes
    /// the old value, so that no stale value outlives it.
    fn check_size(&self, key: &str, value: &Bytes) -> Result<()> {
        self.fits(key, value).inspect_err(|_| {
            self.map.remove(key);
        })
    }

    /// Removes expired entries from the whole map, at most once per [`SWEEP_EVERY`].
    fn maybe_sweep(&self, now: Instant) {
        let now_ms = now.duration_since(self.created).as_millis();
        let last = self.last_sweep_ms.load(Ordering::Relaxed);
        let due = now_ms.saturating_sub(last) >= SWEEP_EVERY.as_millis() as u64;
        if due
            && self
                .last_sweep_ms
                .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.map.retain(|_, entry| entry.is_live_at(now));
        }
    }

    /// The live value of `key`.
    fn lookup(&self, key: &str) -> Result<Option<Bytes>> {
        // Every stored key passed validation when it was written, so a hit needs no check: only
        // a miss has to tell an invalid key (an error) from an absent one.
        match self.map.get(key) {
            Some(entry) if entry.is_live() => return Ok(Some(entry.value)),
            Some(entry) => {
                // Only remove the expired entry we saw, never a fresh one written meanwhile.
                self.map
                    .remove_if(key, |current| current.expires_at == entry.expires_at);
            }
            None => {}
        }
        validate_cache_key(key)?;
        Ok(None)
    }

    fn insert(&self, key: &str, value: Bytes, lifetime: Lifetime) {
        if lifetime == Lifetime::Expired {
            self.map.remove(key);
        } else {
            let expires_at = deadline(lifetime);
            self.map
                .insert(SmolStr::new(key), Entry { value, expires_at });
        }
        self.maybe_sweep(Instant::now());
    }
}

#[async_trait]
impl BaseCache for InMemoryCache {
    async fn get_bytes(&self, key: &str) -> Result<Option<Bytes>> {
        self.lookup(key)
    }

    fn get_bytes_now(&self, key: &str) -> Option<Result<Option<Bytes>>> {
        Some(self.lookup(key))
    }

    async fn set_bytes(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<()> {
        validate_cache_key(key)?;
        self.check_size(key, &value)?;
        self.insert(key, value, self.lifetime(ttl));
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        validate_cache_key(key)?;
        Ok(self
            .map
            .remove(key)
            .is_some_and(|(_, entry)| entry.is_live()))
    }

    async fn clear(&self) -> Result<()> {
        self.map.clear();
        Ok(())
    }

    async fn has_key(&self, key: &str) -> Result<bool> {
        Ok(self.lookup(key)?.is_some())
    }

    async fn keys(&self, prefix: &str) -> Result<Vec<String>> {
        let now = Instant::now();
        let mut keys = Vec::new();
        let mut expired = Vec::new();
        for (key, entry) in self.map.iter() {
            if !entry.is_live_at(now) {
                expired.push(key);
            } else if key.starts_with(prefix) {
                keys.push(key.to_string());
            }
        }
        for key in expired {
            self.map.remove_if(&key, |entry| !entry.is_live_at(now));
        }
        keys.sort_unstable();
        Ok(keys)
    }

    async fn get_many_bytes(&self, keys: &[&str]) -> Result<Vec<Option<Bytes>>> {
        validate_cache_keys(keys.iter().copied())?;
        let mut values = Vec::with_capacity(keys.len());
        for key in keys {
            values.push(self.lookup(key)?);
        }
        Ok(values)
    }

    async fn set_many_bytes(&self, items: &[(&str, Bytes)], ttl: Option<Duration>) -> Result<()> {
        validate_cache_keys(items.iter().map(|(key, _)| *key))?;
        let lifetime = self.lifetime(ttl);
        for (key, value) in items {
            self.check_size(key, value)?;
        }
        for (key, value) in items {
            self.insert(key, value.clone(), lifetime);
        }
        Ok(())
    }

    async fn add_bytes(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<bool> {
        validate_cache_key(key)?;
        // An add never replaces a value, so a refused one leaves the old value alone.
        self.fits(key, &value)?;
        let now = Instant::now();
        let lifetime = self.lifetime(ttl);
        let result = self.map.entry(&SmolStr::new(key), None, |_, current| {
            if current.is_live_at(now) {
                EntryAction::Retain(())
            } else {
                EntryAction::ReplaceWithGuard
            }
        });
        let guard = match result {
            EntryResult::Retained(()) => return Ok(false),
            EntryResult::Vacant(guard) | EntryResult::Replaced(guard, _) => guard,
            EntryResult::Removed(..) | EntryResult::Timeout => return Ok(false),
        };
        if lifetime != Lifetime::Expired {
            let _ = guard.insert(Entry {
                value,
                expires_at: deadline(lifetime),
            });
        }
        Ok(true)
    }

    async fn incr(&self, key: &str, delta: i64) -> Result<i64> {
        validate_cache_key(key)?;
        let now = Instant::now();
        let result = self.map.entry(&SmolStr::new(key), None, |_, current| {
            if !current.is_live_at(now) {
                return EntryAction::ReplaceWithGuard;
            }
            let next = match parse_counter(&current.value) {
                None => Err(CacheError::NotAnInteger {
                    key: key.to_owned(),
                }),
                Some(value) => value.checked_add(delta).ok_or(CacheError::Overflow {
                    key: key.to_owned(),
                    delta,
                }),
            };
            if let Ok(next) = next {
                current.value = format_counter(next);
            }
            EntryAction::Retain(next)
        });
        match result {
            EntryResult::Retained(next) => next,
            EntryResult::Vacant(guard) | EntryResult::Replaced(guard, _) => {
                let expires_at = deadline(self.lifetime(None));
                let _ = guard.insert(Entry {
                    value: format_counter(delta),
                    expires_at,
                });
                Ok(delta)
            }
            EntryResult::Removed(..) | EntryResult::Timeout => Err(CacheError::backend(
                "InMemoryCache",
                "incr",
                "the entry changed under the shard lock",
            )),
        }
    }

    async fn touch(&self, key: &str, ttl: Option<Duration>) -> Result<bool> {
        validate_cache_key(key)?;
        let now = Instant::now();
        let lifetime = self.lifetime(ttl);
        let mut existed = false;
        let result = self.map.entry(&SmolStr::new(key), None, |_, current| {
            existed = current.is_live_at(now);
            if !existed || lifetime == Lifetime::Expired {
                EntryAction::Remove
            } else {
                current.expires_at = deadline(lifetime);
                EntryAction::Retain(())
            }
        });
        // A vacant guard is dropped unused, which leaves the key absent.
        drop(result);
        Ok(existed)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
            .with_list_keys(true)
            .with_clear(ClearScope::Namespace)
            .with_atomic_add(true)
            .with_atomic_incr(true)
            .with_shared(false)
            .with_max_value_bytes(self.max_value_bytes)
    }
}
