//! The value-size policy every backend follows (DESIGN.md "Failed writes"): a value over the
//! limit is refused before any write, and then the key's old value is removed, so that no stale
//! value outlives a failed write (as Django's memcached backend does).

use std::future::Future;

use crate::error::{CacheError, Result};

/// `ValueTooLarge` when `size` is over `limit` (`None`: no limit). For writes that never replace
/// a value (`add`), where the old value must stay.
///
/// ```
/// use openviper_cache_core::{CacheError, size::check_value_size};
///
/// assert!(check_value_size("k", 10, Some(10)).is_ok());
/// assert!(check_value_size("k", 10, None).is_ok());
/// assert!(matches!(
///     check_value_size("k", 11, Some(10)),
///     Err(CacheError::ValueTooLarge { size: 11, limit: 10, .. })
/// ));
/// ```
pub fn check_value_size(key: &str, size: usize, limit: Option<usize>) -> Result<()> {
    match limit {
        Some(limit) if size > limit => Err(CacheError::ValueTooLarge {
            key: key.to_owned(),
            size,
            limit,
        }),
        _ => Ok(()),
    }
}

/// [`check_value_size`] for a write that replaces the value (`set`, `set_many`): when the value
/// is refused, `remove_old` runs (the backend's delete of `key`) before the `ValueTooLarge` is
/// returned. A failure of that removal is logged; the caller still gets `ValueTooLarge`.
///
/// ```
/// use openviper_cache_core::{CacheError, size::refuse_oversized};
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let mut removed = false;
/// let refused = refuse_oversized("k", 11, Some(10), || async { removed = true; Ok(true) }).await;
/// assert!(matches!(refused, Err(CacheError::ValueTooLarge { .. })));
/// assert!(removed);
/// # });
/// ```
pub async fn refuse_oversized<F, Fut>(
    key: &str,
    size: usize,
    limit: Option<usize>,
    remove_old: F,
) -> Result<()>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<bool>>,
{
    let refused = check_value_size(key, size, limit);
    if let Err(too_large) = refused {
        return Err(remove_after_refusal(too_large, remove_old).await);
    }
    Ok(())
}

/// After the store itself refused a write as too large (its `ValueTooLarge`, e.g. memcached's
/// `SERVER_ERROR object too large`): removes the old value as [`refuse_oversized`] does and
/// gives back the error.
pub async fn remove_after_refusal<F, Fut>(too_large: CacheError, remove_old: F) -> CacheError
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<bool>>,
{
    let removal = remove_old().await;
    after_removal(too_large, removal)
}

/// [`refuse_oversized`] for a store that removes without waiting (an in-process map, under
/// its lock): `remove_old` is called at once.
///
/// ```
/// use openviper_cache_core::{CacheError, size::refuse_oversized_now};
///
/// let mut removed = false;
/// let refused = refuse_oversized_now("k", 11, Some(10), || { removed = true; Ok(true) });
/// assert!(matches!(refused, Err(CacheError::ValueTooLarge { .. })));
/// assert!(removed);
/// assert!(refuse_oversized_now("k", 10, Some(10), || unreachable!()).is_ok());
/// ```
pub fn refuse_oversized_now(
    key: &str,
    size: usize,
    limit: Option<usize>,
    remove_old: impl FnOnce() -> Result<bool>,
) -> Result<()> {
    check_value_size(key, size, limit).map_err(|too_large| after_removal(too_large, remove_old()))
}

/// `too_large`, once the removal of the old value ended with `removal` (logged if it failed).
fn after_removal(too_large: CacheError, removal: Result<bool>) -> CacheError {
    if let Err(error) = removal {
        // Keys are logged only at TRACE (they may carry user data); the error names the store.
        tracing::warn!(%error, "removing the old value of a refused write failed");
        if let CacheError::ValueTooLarge { key, .. } = &too_large {
            tracing::trace!(key, "the refused write's key");
        }
    }
    too_large
}
