//! What each dialect's store does, in store keys (prefix already applied): the backend
//! validates keys, applies the prefix and the TTL policy, and bounds every call by
//! `timeout_ms`.

use openviper_cache_core::{CacheError, Gauges, Result, async_trait};

/// How many keys one batch statement carries at most.
pub(crate) const BATCH: usize = 500;
/// How many expired rows one cull statement deletes.
pub(crate) const CULL_BATCH: i64 = 1_000;

/// `error` from checking the table, with the table named when the cache was not to create it.
pub(crate) fn table_not_usable(table: &str, create: bool, error: CacheError) -> CacheError {
    match error {
        CacheError::Backend {
            backend,
            operation,
            source,
        } if !create => CacheError::Backend {
            backend,
            operation,
            source: format!("table {table:?} is not usable and create_table = false: {source}")
                .into(),
        },
        error => error,
    }
}

/// Milliseconds to live; `None` never expires.
pub(crate) type TtlMs = Option<i64>;

#[async_trait]
pub(crate) trait Store: Send + Sync + 'static {
    /// Creates the table and its index (`create`), or checks that it exists; returns the
    /// largest value the store itself accepts, where that is less than any value a caller is
    /// likely to write (MySQL's `max_allowed_packet`).
    async fn prepare(&self, create: bool) -> Result<Option<usize>>;
    /// The live value of `key`; an expired row is deleted.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>>;
    /// The live rows among `keys` (distinct), as (store key, value).
    async fn get_many(&self, keys: &[&str]) -> Result<Vec<(Vec<u8>, Vec<u8>)>>;
    async fn set(&self, key: &str, value: &[u8], ttl: TtlMs) -> Result<()>;
    /// `items` with distinct keys.
    async fn set_many(&self, items: &[(&str, &[u8])], ttl: TtlMs) -> Result<()>;
    /// Stores unless a live row holds `key`; `true` when it stored.
    async fn add(&self, key: &str, value: &[u8], ttl: TtlMs) -> Result<bool>;
    /// `true` when a live row went.
    async fn delete(&self, key: &str) -> Result<bool>;
    /// How many live rows among `keys` (distinct) went.
    async fn delete_many(&self, keys: &[&str]) -> Result<u64>;
    /// The counter after adding `delta`; a missing or expired key starts at 0 with `ttl`.
    /// `user_key` names the key in errors.
    async fn incr(&self, user_key: &str, key: &str, delta: i64, ttl: TtlMs) -> Result<i64>;
    /// What a live `key` has left, in milliseconds (`Some(None)`: no expiry); `None` when it
    /// is missing or expired.
    async fn ttl(&self, key: &str) -> Result<Option<TtlMs>>;
    /// Gives a live `key` the new TTL; `true` when it was live.
    async fn touch(&self, key: &str, ttl: TtlMs) -> Result<bool>;
    /// The live store keys starting with `prefix`.
    async fn keys(&self, prefix: &str) -> Result<Vec<Vec<u8>>>;
    /// Deletes every row whose key starts with `prefix`.
    async fn clear(&self, prefix: &str) -> Result<()>;
    /// Deletes expired rows, in batches; how many went.
    async fn cull(&self) -> Result<u64>;
    /// Closes the connections.
    async fn close(&self) -> Result<()>;
    /// The pool's connections, open and in use, where there is a pool.
    fn gauges(&self) -> Gauges {
        Gauges::default()
    }
}
