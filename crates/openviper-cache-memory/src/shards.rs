//! The map: quick_cache's single-threaded cache in shards, each behind its own lock.
//!
//! quick_cache's `sync::Cache` is the same layout, but a read there can only clone the value
//! out. Owning the locks lets a typed read decode straight from the stored bytes under the
//! shard's read lock: no reference-count traffic on the value, which on a hit costs as much as
//! the decode's copy.

use std::hash::BuildHasher;

use parking_lot::RwLock;
use quick_cache::DefaultHashBuilder;
use smol_str::SmolStr;

use crate::entry::{Entry, EntryWeighter};

/// One shard: a bounded CLOCK-Pro map.
pub(crate) type Shard = quick_cache::unsync::Cache<SmolStr, Entry, EntryWeighter>;

/// Shards per core when the cache is large enough (as quick_cache's own sync cache does).
const SHARDS_PER_CORE: usize = 4;
/// Fewer shards rather than shards smaller than this many entries.
const MIN_SHARD_ENTRIES: u64 = 32;

/// `2^n` shards; a key's shard is picked from its hash.
pub(crate) struct Shards {
    shards: Box<[RwLock<Shard>]>,
    hasher: DefaultHashBuilder,
    capacity: u64,
}

impl Shards {
    /// Shards holding at most `max_entries` entries and `capacity` weight in all (each shard
    /// gets its exact part of both, so the totals are never passed).
    pub(crate) fn new(max_entries: u64, capacity: u64, weighter: EntryWeighter) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let mut count = (cores * SHARDS_PER_CORE).next_power_of_two() as u64;
        while count > 1 && (max_entries / count < MIN_SHARD_ENTRIES || capacity < count) {
            count /= 2;
        }
        let part = |total: u64, i: u64| total / count + u64::from(i < total % count);
        let shards = (0..count)
            .map(|i| {
                let entries = usize::try_from(part(max_entries, i)).unwrap_or(usize::MAX);
                RwLock::new(Shard::with_weighter(entries, part(capacity, i), weighter))
            })
            .collect();
        Self {
            shards,
            hasher: DefaultHashBuilder::default(),
            capacity,
        }
    }

    /// The shard holding `key`.
    #[inline]
    pub(crate) fn of(&self, key: &str) -> &RwLock<Shard> {
        // The high half of the hash: the shard's own table indexes by a hash of its own seed.
        let index = (self.hasher.hash_one(key) >> 32) as usize & (self.shards.len() - 1);
        &self.shards[index]
    }

    /// Every shard.
    pub(crate) fn all(&self) -> &[RwLock<Shard>] {
        &self.shards
    }

    /// The weight all shards hold at most.
    pub(crate) fn capacity(&self) -> u64 {
        self.capacity
    }

    /// The weight the smallest shard holds at most.
    pub(crate) fn smallest_shard_capacity(&self) -> u64 {
        // The parts differ by at most one; the remainder goes to the first shards.
        self.capacity / self.shards.len() as u64
    }

    /// Entries held.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|shard| shard.read().len()).sum()
    }

    /// Weight held.
    pub(crate) fn weight(&self) -> u64 {
        self.shards.iter().map(|shard| shard.read().weight()).sum()
    }
}
