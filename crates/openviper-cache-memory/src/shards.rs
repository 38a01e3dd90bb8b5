//! The map: quick_cache's single-threaded cache in shards, each behind its own lock.
//!
//! quick_cache's `sync::Cache` is the same layout, but a read there can only clone the value
//! out, and its locks have one word that every reader writes. Owning the shards lets a typed
//! read decode straight from the stored bytes under the shard's read lock, with a lock whose
//! readers on different cores write to different cache lines.

use std::sync::PoisonError;

use crossbeam_utils::sync::{ShardedLock, ShardedLockReadGuard, ShardedLockWriteGuard};
use quick_cache::DefaultHashBuilder;

use crate::entry::{Entry, EntryWeighter};
use crate::key::{CarriedHash, Lookup, StoredKey};

/// One shard: a bounded CLOCK-Pro map.
pub(crate) type Shard = quick_cache::unsync::Cache<StoredKey, Entry, EntryWeighter, CarriedHash>;

/// Shards per core when the cache is large enough (as quick_cache's own sync cache does).
const SHARDS_PER_CORE: usize = 4;
/// Fewer shards rather than shards smaller than this many entries.
const MIN_SHARD_ENTRIES: u64 = 32;

/// The heaviest entry a shard of `shard_capacity` admits: quick_cache silently drops an entry
/// heavier than 97 % of its shard's capacity (its hot target); 96 % keeps clear of its float
/// rounding.
fn admission_limit(shard_capacity: u64) -> u64 {
    shard_capacity.saturating_mul(96) / 100
}

/// A shard's lock: a reader lock per thread slot, so that readers on different cores never
/// write to the same cache line; a writer takes every slot.
///
/// Every read takes this lock, and with one lock word per shard, that word moved between the
/// cores on most reads. No poisoning: nothing is left half-changed by a panic under the write
/// lock (quick_cache's own operations), and a read lock does not poison.
pub(crate) struct ShardLock(ShardedLock<Shard>);

impl ShardLock {
    fn new(shard: Shard) -> Self {
        Self(ShardedLock::new(shard))
    }

    /// The shard, shared.
    #[inline]
    pub(crate) fn read(&self) -> ShardedLockReadGuard<'_, Shard> {
        self.0.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The shard, exclusively.
    #[inline]
    pub(crate) fn write(&self) -> ShardedLockWriteGuard<'_, Shard> {
        self.0.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `2^n` shards; a key's shard is picked from its hash.
pub(crate) struct Shards {
    shards: Box<[ShardLock]>,
    hasher: DefaultHashBuilder,
    capacity: u64,
}

impl Shards {
    /// Shards holding at most `max_entries` entries and `capacity` weight in all (each shard
    /// gets its exact part of both, so the totals are never passed). `weighter` is made from the
    /// heaviest entry a shard admits ([`Shards::admission_limit`]).
    pub(crate) fn new(
        max_entries: u64,
        capacity: u64,
        weighter: impl FnOnce(u64) -> EntryWeighter,
    ) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let mut count = (cores * SHARDS_PER_CORE).next_power_of_two() as u64;
        while count > 1 && (max_entries / count < MIN_SHARD_ENTRIES || capacity < count) {
            count /= 2;
        }
        let weighter = weighter(admission_limit(capacity / count));
        let part = |total: u64, i: u64| total / count + u64::from(i < total % count);
        let shards = (0..count)
            .map(|i| {
                let entries = usize::try_from(part(max_entries, i)).unwrap_or(usize::MAX);
                let shard = Shard::with(
                    entries,
                    part(capacity, i),
                    weighter,
                    CarriedHash,
                    Default::default(),
                );
                ShardLock::new(shard)
            })
            .collect();
        Self {
            shards,
            hasher: DefaultHashBuilder::default(),
            capacity,
        }
    }

    /// The shard holding `key`, and `key` hashed for it.
    #[inline]
    pub(crate) fn locate<'a>(&self, key: &'a str) -> (&ShardLock, Lookup<'a>) {
        let lookup = Lookup::new(key, &self.hasher);
        // The high half of the hash: the shard's table indexes by the low bits and tags by the
        // top seven, so the bits that pick the shard stay out of both.
        let index = (lookup.hash() >> 32) as usize & (self.shards.len() - 1);
        (&self.shards[index], lookup)
    }

    /// Every shard.
    pub(crate) fn all(&self) -> &[ShardLock] {
        &self.shards
    }

    /// The weight all shards hold at most.
    pub(crate) fn capacity(&self) -> u64 {
        self.capacity
    }

    /// The heaviest entry every shard admits.
    pub(crate) fn admission_limit(&self) -> u64 {
        // The parts differ by at most one; the remainder goes to the first shards.
        admission_limit(self.capacity / self.shards.len() as u64)
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
