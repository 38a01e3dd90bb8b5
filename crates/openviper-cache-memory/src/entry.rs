//! What the map holds per key, and how much of the bound it takes.

use std::time::Duration;

use coarsetime::Instant;
use openviper_cache_core::ttl::{Expiry, Lifetime};

use crate::key::StoredKey;
use crate::value::StoredValue;

/// The expiry granularity: a TTL is rounded up to whole milliseconds (so a 1 ns TTL is never
/// "already expired"), and TTLs past core's 100-year clamp never expire (the coarse clock's
/// durations stop at 2^32 s).
const RESOLUTION: Duration = Duration::from_millis(1);

/// A value with its deadline.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) value: StoredValue,
    pub(crate) deadline: Deadline,
}

impl Entry {
    /// Whether the entry is live; the clock is read only for entries that can expire.
    #[inline]
    pub(crate) fn is_live(&self) -> bool {
        self.deadline == Deadline::NEVER || self.deadline.is_after(now())
    }

    /// Whether the entry is live at `now`.
    pub(crate) fn is_live_at(&self, now: Instant) -> bool {
        self.deadline.is_after(now)
    }
}

/// When an entry expires, on the kernel's coarse monotonic clock (a few nanoseconds per read
/// instead of ~25 for `std::time::Instant`, at a resolution of a few milliseconds), since every
/// hit checks one. One word, where `Option<Instant>` takes two: every entry carries one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Deadline(u64);

impl Deadline {
    /// Never expires: later than any instant the clock reaches in a hundred years of uptime.
    pub(crate) const NEVER: Self = Self(u64::MAX);

    /// When an entry written now with `lifetime` expires; now for already expired.
    pub(crate) fn of(lifetime: Lifetime) -> Self {
        match lifetime.expiry(RESOLUTION) {
            Expiry::Never => Self::NEVER,
            Expiry::Delete => Self(now().as_u64()),
            Expiry::After(ttl) => Self((now() + coarsetime::Duration::from(ttl)).as_u64()),
        }
    }

    /// What is left of it at `now`: `None` when passed, `FOREVER` for never.
    pub(crate) fn left_at(self, now: Instant) -> Option<Duration> {
        if self == Self::NEVER {
            return Some(openviper_cache_core::FOREVER);
        }
        let left = self.0.checked_sub(now.as_u64()).filter(|&left| left > 0)?;
        Some(coarsetime::Duration::from_u64(left).into())
    }

    /// Whether this deadline is still ahead at `now`.
    #[inline]
    pub(crate) fn is_after(self, now: Instant) -> bool {
        now.as_u64() < self.0
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
