//! A cache as the workload drives it: as applications use it.

use std::sync::Arc;

use openviper_cache_core::{BaseCache, CacheExt};

use crate::workload::Target;

/// A cache driven as applications use it: `get_cache`-style `Arc<dyn BaseCache>` with typed
/// `get::<String>` / `set` (every backend's row of `cargo xtask bench`, and `ovcache bench`).
///
/// ```
/// use openviper_cache_core::{CacheManager, CacheSettings};
/// use openviper_cache_workload::{CacheTarget, Target};
/// # use openviper_cache_memory as _;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), String> {
/// let cache = CacheManager::new(CacheSettings::default()).get("default").map_err(|e| e.to_string())?;
/// let target = CacheTarget(cache);
/// target.set("k", "v").await?;
/// assert!(target.get("k").await?);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct CacheTarget(pub Arc<dyn BaseCache>);

impl Target for CacheTarget {
    async fn get(&self, key: &str) -> Result<bool, String> {
        let value: Option<String> = self.0.get(key).await.map_err(|e| e.to_string())?;
        Ok(value.is_some())
    }
    async fn set(&self, key: &str, value: &str) -> Result<(), String> {
        self.0
            .set(key, value, None)
            .await
            .map_err(|e| e.to_string())
    }
}
