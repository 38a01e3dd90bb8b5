//! `InMemoryCache`: construction and `impl BaseCache`.

use std::num::NonZeroU64;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use coarsetime::Instant;

use openviper_cache_core::counter::{format_counter, next_counter};
use openviper_cache_core::size::{check_value_size, refuse_oversized_now};
use openviper_cache_core::ttl::Lifetime;
use openviper_cache_core::validation::validate_cache_keys;
use openviper_cache_core::{
    BackendConfig, BaseCache, Bytes, Capabilities, ClearScope, Gauges, Result, async_trait,
    validate_cache_key,
};

use crate::entry::{Deadline, Entry, EntryWeighter, now};
use crate::options::{DEFAULT_TTL, InMemoryOptions};
use crate::shards::Shards;
use crate::value::StoredValue;

/// How often, at most, a write sweeps expired entries out of the whole map.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Values up to this size are decoded under the shard's read lock, straight from the stored
/// bytes; larger ones are handed out by reference count and decoded after the lock is
/// released, so that decoding a big value never keeps the shard's writers waiting.
const LEND_UNDER_LOCK_MAX: usize = 8 * 1024;

/// A bounded, concurrent in-process cache with per-entry TTL, on `quick_cache`.
///
/// Reads take a shard read lock only (no global lock), and that lock has one reader slot per
/// thread, so readers on different cores write to no shared cache line. Values of up to 110
/// bytes are held inside the map's entry, beside their key; larger ones as shared [`Bytes`]. A
/// typed hit is a lookup and a decode straight from the stored bytes under the read lock
/// (values over 8 KiB: a reference-count bump, and the decode after the lock is released);
/// `get_bytes` hands out a copy of a small value and a reference-count bump of a larger one.
/// `add`, `incr` and `touch` run under the key's shard write lock, so they are atomic. The map
/// never holds more than `max_entries` entries (nor more than `max_bytes` bytes when set): the
/// least useful entries are evicted first (CLOCK-Pro).
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
    map: Shards,
    default_ttl: Duration,
    max_value_bytes: Option<usize>,
    /// Whether entries weigh their bytes (`max_bytes`), not one each.
    weighs_bytes: bool,
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
        let by_bytes = options.max_bytes.is_some();
        let capacity = options.max_bytes.map_or(max_entries, NonZeroU64::get);
        let map = Shards::new(max_entries, capacity, |admitted| EntryWeighter {
            by_bytes,
            // An entry weighs at least its share of max_bytes, so the weight bounds the count
            // too; never more than a shard admits, or a small max_entries would admit nothing.
            min_weight: if by_bytes {
                capacity.div_ceil(max_entries).min(admitted).max(1)
            } else {
                1
            },
        });
        let max_value_bytes =
            by_bytes.then(|| usize::try_from(map.admission_limit()).unwrap_or(usize::MAX));
        Self {
            map,
            default_ttl: options.ttl.unwrap_or(DEFAULT_TTL),
            max_value_bytes,
            weighs_bytes: by_bytes,
            created: now(),
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
        self.map.len() == 0
    }

    /// The weight now held, which `max_bytes` or `max_entries` bounds: with `max_bytes`, key +
    /// value bytes (each entry at least `max_bytes / max_entries`); without it, one per entry.
    pub fn weight(&self) -> u64 {
        self.map.weight()
    }

    fn lifetime(&self, ttl: Option<Duration>) -> Lifetime {
        Lifetime::resolve(ttl, Some(self.default_ttl))
    }

    /// The largest value `key` can hold: an entry weighs its key and value together.
    fn value_limit(&self, key: &str) -> Option<usize> {
        self.max_value_bytes
            .map(|limit| limit.saturating_sub(key.len()))
    }

    /// `ValueTooLarge` when a value of `size` bytes cannot be admitted under `key`.
    fn fits(&self, key: &str, size: usize) -> Result<()> {
        check_value_size(key, size, self.value_limit(key))
    }

    /// [`InMemoryCache::fits`] for a write that replaces the value: a refused write also removes
    /// the old value (the core size policy).
    fn check_size(&self, key: &str, size: usize) -> Result<()> {
        if self.max_value_bytes.is_none() {
            return Ok(());
        }
        refuse_oversized_now(key, size, self.value_limit(key), || {
            let (shard, key) = self.map.locate(key);
            Ok(shard.write().remove(&key).is_some())
        })
    }

    /// `set_bytes`, done at once: nothing here waits.
    #[inline]
    fn write(
        &self,
        key: &str,
        value: impl Into<StoredValue> + AsRef<[u8]>,
        ttl: Option<Duration>,
    ) -> Result<()> {
        validate_cache_key(key)?;
        self.check_size(key, value.as_ref().len())?;
        self.insert(key, value.into(), self.lifetime(ttl));
        Ok(())
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
            for shard in self.map.all() {
                shard.write().retain(|_, entry| entry.is_live_at(now));
            }
        }
    }

    /// `read` applied to the live value of `key`, under the shard's read lock.
    fn read<R>(&self, key: &str, read: impl FnOnce(&StoredValue) -> R) -> Result<Option<R>> {
        let (shard, lookup) = self.map.locate(key);
        let expired = {
            let entries = shard.read();
            match entries.get(&lookup) {
                Some(entry) if entry.is_live() => return Ok(Some(read(&entry.value))),
                Some(entry) => Some(entry.deadline),
                None => None,
            }
        };
        if let Some(seen) = expired {
            // Only remove the expired entry we saw, never a fresh one written meanwhile.
            shard
                .write()
                .remove_if(&lookup, |current| current.deadline == seen);
        }
        // Every stored key passed validation when it was written, so a hit needs no check: only
        // a miss has to tell an invalid key (an error) from an absent one.
        validate_cache_key(key)?;
        Ok(None)
    }

    /// The live value of `key`.
    fn lookup(&self, key: &str) -> Result<Option<Bytes>> {
        self.read(key, StoredValue::to_bytes)
    }

    fn insert(&self, key: &str, value: StoredValue, lifetime: Lifetime) {
        let (shard, key) = self.map.locate(key);
        if lifetime == Lifetime::Expired {
            shard.write().remove(&key);
        } else {
            let entry = Entry {
                value,
                deadline: Deadline::of(lifetime),
            };
            let key = key.to_stored();
            shard.write().insert(key, entry);
        }
        self.maybe_sweep(now());
    }
}

#[async_trait]
impl BaseCache for InMemoryCache {
    async fn get_bytes(&self, key: &str) -> Result<Option<Bytes>> {
        self.lookup(key)
    }

    fn read_now(&self, key: &str, reader: &mut dyn FnMut(&[u8])) -> Option<Result<bool>> {
        let read = self.read(key, |value| match value {
            StoredValue::Shared(large) if large.len() > LEND_UNDER_LOCK_MAX => Some(large.clone()),
            small => {
                reader(small.as_slice());
                None
            }
        });
        Some(read.map(|hit| match hit {
            Some(Some(large)) => {
                reader(&large);
                true
            }
            Some(None) => true,
            None => false,
        }))
    }

    fn write_now(&self, key: &str, value: &Bytes, ttl: Option<Duration>) -> Option<Result<()>> {
        Some(self.write(key, value, ttl))
    }

    async fn set_bytes(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<()> {
        self.write(key, value, ttl)
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        validate_cache_key(key)?;
        let (shard, key) = self.map.locate(key);
        let removed = shard.write().remove(&key);
        Ok(removed.is_some_and(|(_, entry)| entry.is_live()))
    }

    async fn clear(&self) -> Result<()> {
        for shard in self.map.all() {
            shard.write().clear();
        }
        Ok(())
    }

    async fn has_key(&self, key: &str) -> Result<bool> {
        Ok(self.read(key, |_| ())?.is_some())
    }

    async fn keys(&self, prefix: &str) -> Result<Vec<String>> {
        let now = now();
        let mut keys = Vec::new();
        for shard in self.map.all() {
            let mut expired = Vec::new();
            for (key, entry) in shard.read().iter() {
                if !entry.is_live_at(now) {
                    expired.push(key.clone());
                } else if key.as_str().starts_with(prefix) {
                    keys.push(key.as_str().to_owned());
                }
            }
            if !expired.is_empty() {
                let mut entries = shard.write();
                for key in expired {
                    entries.remove_if(&key.as_lookup(), |entry| !entry.is_live_at(now));
                }
            }
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
            self.check_size(key, value.len())?;
        }
        for (key, value) in items {
            self.insert(key, value.into(), lifetime);
        }
        Ok(())
    }

    async fn add_bytes(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<bool> {
        validate_cache_key(key)?;
        // An add never replaces a value, so a refused one leaves the old value alone.
        self.fits(key, value.len())?;
        let now = now();
        let lifetime = self.lifetime(ttl);
        let created = (lifetime != Lifetime::Expired).then(|| Entry {
            value: value.into(),
            deadline: Deadline::of(lifetime),
        });
        let (shard, key) = self.map.locate(key);
        let mut entries = shard.write();
        if entries
            .peek(&key)
            .is_some_and(|entry| entry.is_live_at(now))
        {
            return Ok(false);
        }
        match created {
            Some(entry) => entries.insert(key.to_stored(), entry),
            // Added and expired at once: what is left is the key's absence.
            None => drop(entries.remove(&key)),
        }
        Ok(true)
    }

    async fn incr(&self, key: &str, delta: i64) -> Result<i64> {
        validate_cache_key(key)?;
        let now = now();
        let (shard, lookup) = self.map.locate(key);
        let mut entries = shard.write();
        if let Some(mut current) = entries.peek_mut(&lookup)
            && current.is_live_at(now)
        {
            let next = next_counter(key, Some(current.value.as_slice()), delta)?;
            let stored = format_counter(next);
            self.fits(key, stored.len())?;
            current.value = stored.into();
            return Ok(next);
        }
        // Absent or expired: the counter starts at 0, with the alias's default TTL.
        let stored = format_counter(next_counter(key, None, delta)?);
        self.fits(key, stored.len())?;
        let created = Entry {
            value: stored.into(),
            deadline: Deadline::of(self.lifetime(None)),
        };
        entries.insert(lookup.to_stored(), created);
        Ok(delta)
    }

    async fn touch(&self, key: &str, ttl: Option<Duration>) -> Result<bool> {
        validate_cache_key(key)?;
        let now = now();
        let lifetime = self.lifetime(ttl);
        let (shard, key) = self.map.locate(key);
        let mut entries = shard.write();
        let Some(mut current) = entries.peek_mut(&key) else {
            return Ok(false);
        };
        let live = current.is_live_at(now);
        if live && lifetime != Lifetime::Expired {
            current.deadline = Deadline::of(lifetime);
        } else {
            drop(current);
            entries.remove(&key);
        }
        Ok(live)
    }

    async fn ttl(&self, key: &str) -> Result<Option<Duration>> {
        let now = now();
        let (shard, lookup) = self.map.locate(key);
        if let Some(entry) = shard.read().get(&lookup) {
            return Ok(entry.deadline.left_at(now));
        }
        validate_cache_key(key)?;
        Ok(None)
    }

    /// Entries held; bytes when `max_bytes` bounds the cache (the weight that bound counts).
    fn gauges(&self) -> Gauges {
        let gauges = Gauges::default().with_entries(self.len() as u64);
        if self.weighs_bytes {
            gauges.with_bytes(self.weight())
        } else {
            gauges
        }
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
            .with_remaining_ttl(true)
            .with_list_keys(true)
            .with_clear(ClearScope::Namespace)
            .with_atomic_add(true)
            .with_atomic_incr(true)
            .with_shared(false)
            .with_max_value_bytes(self.max_value_bytes)
            .with_sync_read(true)
            .with_sync_write(true)
    }
}
