//! What a backend can tell of its own state right now: the values behind the instrumentation
//! layer's gauges and [`CacheStats::gauges`](crate::CacheStats::gauges).

/// A backend's state now, from [`BaseCache::gauges`](crate::BaseCache::gauges): `None` where the
/// backend does not know (a store that cannot count its entries, a client without a pool).
///
/// The instrumentation layer publishes each known value as a gauge labelled `alias` and
/// `backend` (`openviper_cache_entries`, `openviper_cache_bytes`,
/// `openviper_cache_pool_connections`, `openviper_cache_pool_in_use`), at most once a second.
///
/// ```
/// use openviper_cache_core::Gauges;
/// let gauges = Gauges::default().with_entries(3).with_bytes(120);
/// assert_eq!((gauges.entries, gauges.bytes, gauges.connections), (Some(3), Some(120), None));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Gauges {
    /// Entries held (an in-process store; expired ones not yet swept included).
    pub entries: Option<u64>,
    /// Bytes held, as the store bounds them.
    pub bytes: Option<u64>,
    /// Connections open to the store(s).
    pub connections: Option<u64>,
    /// Connections checked out of the pool by an operation now.
    pub connections_in_use: Option<u64>,
}

impl Gauges {
    /// With `entries` held.
    #[must_use]
    pub fn with_entries(mut self, entries: u64) -> Self {
        self.entries = Some(entries);
        self
    }

    /// With `bytes` held.
    #[must_use]
    pub fn with_bytes(mut self, bytes: u64) -> Self {
        self.bytes = Some(bytes);
        self
    }

    /// With `open` connections, `in_use` of them checked out now (`None`: the client shares
    /// every connection between operations, so none is "in use" on its own).
    ///
    /// ```
    /// use openviper_cache_core::Gauges;
    /// let pool = Gauges::default().with_connections(8, Some(3));
    /// assert_eq!((pool.connections, pool.connections_in_use), (Some(8), Some(3)));
    /// ```
    #[must_use]
    pub fn with_connections(mut self, open: u64, in_use: Option<u64>) -> Self {
        self.connections = Some(open);
        self.connections_in_use = in_use;
        self
    }

    /// The sum of two stores' states (a backend with a pool per server): a value either side
    /// does not know stays unknown.
    ///
    /// ```
    /// use openviper_cache_core::Gauges;
    /// let a = Gauges::default().with_connections(2, Some(1));
    /// let b = Gauges::default().with_connections(3, Some(0));
    /// assert_eq!(a.plus(b), Gauges::default().with_connections(5, Some(1)));
    /// ```
    #[must_use]
    pub fn plus(self, other: Self) -> Self {
        let add = |a: Option<u64>, b: Option<u64>| Some(a?.saturating_add(b?));
        Self {
            entries: add(self.entries, other.entries),
            bytes: add(self.bytes, other.bytes),
            connections: add(self.connections, other.connections),
            connections_in_use: add(self.connections_in_use, other.connections_in_use),
        }
    }
}
