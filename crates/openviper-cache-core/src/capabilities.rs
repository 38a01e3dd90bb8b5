//! What a backend really does, so that callers and the conformance suite need not guess.

use std::time::Duration;

/// What `clear()` removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ClearScope {
    /// Only this cache's keys (its `key_prefix`, its directory, its rows, its process).
    Namespace,
    /// Everything in the store, other programs' data included (memcached `flush_all`).
    #[default]
    WholeStore,
}

/// What a backend's `keys()`, `clear()`, `add()` and `incr()` really do.
///
/// `Capabilities::default()` is the conservative answer: no listing, `clear()` wipes the whole
/// store, nothing atomic, not shared between processes, no known value size limit, no
/// synchronous read, no remaining-TTL lookup, and expiry to the millisecond.
///
/// ```
/// use openviper_cache_core::{Capabilities, ClearScope};
///
/// let caps = Capabilities::default();
/// assert!(!caps.list_keys && !caps.atomic_incr);
/// assert_eq!(caps.clear, ClearScope::WholeStore);
/// assert_eq!(caps.ttl_resolution, std::time::Duration::from_millis(1));
///
/// let redis_like = Capabilities::default()
///     .with_list_keys(true)
///     .with_clear(ClearScope::Namespace)
///     .with_atomic_add(true)
///     .with_atomic_incr(true)
///     .with_shared(true)
///     .with_max_value_bytes(Some(512 * 1024 * 1024));
/// assert!(redis_like.shared);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// `keys()` enumerates this cache's keys (else it returns `[]`, as in OpenViper).
    pub list_keys: bool,
    /// What `clear()` removes.
    pub clear: ClearScope,
    /// `add()` is atomic: of concurrent adds of one key, exactly one wins.
    pub atomic_add: bool,
    /// `incr()` is atomic and keeps the key's TTL.
    pub atomic_incr: bool,
    /// Entries are visible to other processes using the same store.
    pub shared: bool,
    /// The largest value the store accepts, in bytes, where there is a limit.
    pub max_value_bytes: Option<usize>,
    /// [`BaseCache::read_now`](crate::BaseCache::read_now) answers at once (an in-process
    /// store): the typed `get` reads through it, and the conformance suite checks that it agrees
    /// with `get_bytes`.
    pub sync_read: bool,
    /// [`BaseCache::write_now`](crate::BaseCache::write_now) writes at once (an in-process
    /// store): the typed `set` writes through it, and the conformance suite checks that it
    /// agrees with `set_bytes`.
    pub sync_write: bool,
    /// The store's expiry granularity: a TTL is rounded up to a whole number of it, and an
    /// entry is gone at the latest one resolution after that (1 ms by default; memcached and
    /// other stores that count seconds: 1 s). The conformance suite holds every read path to it.
    pub ttl_resolution: Duration,
    /// [`BaseCache::ttl`](crate::BaseCache::ttl) tells how long a key has left (else it is
    /// `Unsupported`).
    pub remaining_ttl: bool,
}

impl Default for Capabilities {
    fn default() -> Self {
        Self {
            list_keys: false,
            clear: ClearScope::WholeStore,
            atomic_add: false,
            atomic_incr: false,
            shared: false,
            max_value_bytes: None,
            sync_read: false,
            sync_write: false,
            ttl_resolution: Duration::from_millis(1),
            remaining_ttl: false,
        }
    }
}

impl Capabilities {
    /// Sets [`Capabilities::list_keys`].
    pub const fn with_list_keys(mut self, value: bool) -> Self {
        self.list_keys = value;
        self
    }
    /// Sets [`Capabilities::clear`].
    pub const fn with_clear(mut self, value: ClearScope) -> Self {
        self.clear = value;
        self
    }
    /// Sets [`Capabilities::atomic_add`].
    pub const fn with_atomic_add(mut self, value: bool) -> Self {
        self.atomic_add = value;
        self
    }
    /// Sets [`Capabilities::atomic_incr`].
    pub const fn with_atomic_incr(mut self, value: bool) -> Self {
        self.atomic_incr = value;
        self
    }
    /// Sets [`Capabilities::shared`].
    pub const fn with_shared(mut self, value: bool) -> Self {
        self.shared = value;
        self
    }
    /// Sets [`Capabilities::max_value_bytes`].
    pub const fn with_max_value_bytes(mut self, value: Option<usize>) -> Self {
        self.max_value_bytes = value;
        self
    }
    /// Sets [`Capabilities::sync_read`].
    pub const fn with_sync_read(mut self, value: bool) -> Self {
        self.sync_read = value;
        self
    }
    /// Sets [`Capabilities::sync_write`].
    pub const fn with_sync_write(mut self, value: bool) -> Self {
        self.sync_write = value;
        self
    }
    /// Sets [`Capabilities::remaining_ttl`].
    pub const fn with_remaining_ttl(mut self, value: bool) -> Self {
        self.remaining_ttl = value;
        self
    }
    /// Sets [`Capabilities::ttl_resolution`].
    pub const fn with_ttl_resolution(mut self, value: Duration) -> Self {
        self.ttl_resolution = value;
        self
    }
}
