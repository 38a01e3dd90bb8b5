//! What the map holds per key, and how much of the bound it takes.

use std::time::Duration;

use coarsetime::Instant;
use openviper_cache_core::ttl::Lifetime;

use crate::key::StoredKey;
use crate::value::StoredValue;

/// TTLs longer than this never expire (the coarse clock's durations stop at 2^32 s).
const LONGEST_TTL: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// A value with its deadline (`None`: never expires).
///
/// Deadlines are read off the kernel's coarse monotonic clock (a few nanoseconds per read
/// instead of ~25 for `std::time::Instant`, at a resolution of a few milliseconds), since every
/// hit checks one.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) value: StoredValue,
    pub(crate) expires_at: Option<Instant>,
}

impl Entry {
    /// Whether the entry is live; the clock is read only for entries that can expire.
    pub(crate) fn is_live(&self) -> bool {
        self.expires_at.is_none_or(|at| now() < at)
    }

    /// Whether the entry is live at `now`.
    pub(crate) fn is_live_at(&self, now: Instant) -> bool {
        self.expires_at.is_none_or(|at| now < at)
    }
}

/// The coarse clock's now.
///
/// coarsetime's `Instant::now()` also stores the time in a process-wide atomic (for its
/// `recent()`): on the read path that is a write to one cache line from every core, which
/// costs more than the clock read. Nothing here uses `recent()`.
#[inline]
pub(crate) fn now() -> Instant {
    Instant::now_without_cache_update()
}

/// When an entry written now with `lifetime` expires. `Some(now)` for already expired.
pub(crate) fn deadline(lifetime: Lifetime) -> Option<Instant> {
    match lifetime {
        Lifetime::Forever => None,
        Lifetime::Expired => Some(now()),
        Lifetime::For(ttl) if ttl > LONGEST_TTL => None,
        Lifetime::For(ttl) => Some(now() + coarsetime::Duration::from(ttl)),
    }
}

/// Weighs entries against the bound.
///
/// Without `max_bytes`, every entry weighs 1 and the capacity is `max_entries`. With it, an
/// entry weighs its key + value bytes but at least `max_bytes / max_entries` (rounded up), and
/// the capacity is `max_bytes`: the total weight then bounds both the bytes and the count.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EntryWeighter {
    pub(crate) by_bytes: bool,
    pub(crate) min_weight: u64,
}

impl quick_cache::Weighter<StoredKey, Entry> for EntryWeighter {
    fn weight(&self, key: &StoredKey, entry: &Entry) -> u64 {
        if self.by_bytes {
            ((key.as_str().len() + entry.value.len()) as u64).max(self.min_weight)
        } else {
            1
        }
    }
}
