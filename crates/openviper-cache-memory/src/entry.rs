//! What the map holds per key, and how much of the bound it takes.

use std::time::Instant;

use openviper_cache_core::Bytes;

/// A value with its deadline (`None`: never expires).
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) value: Bytes,
    pub(crate) expires_at: Option<Instant>,
}

impl Entry {
    pub(crate) fn is_live(&self, now: Instant) -> bool {
        self.expires_at.is_none_or(|at| now < at)
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

impl quick_cache::Weighter<String, Entry> for EntryWeighter {
    fn weight(&self, key: &String, entry: &Entry) -> u64 {
        if self.by_bytes {
            ((key.len() + entry.value.len()) as u64).max(self.min_weight)
        } else {
            1
        }
    }
}
