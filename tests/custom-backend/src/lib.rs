//! `MyCustomCache`: a custom openviper-cache backend in its own crate, registered as
//! `"myapp.cache.MyCustomCache"`. It implements only the four required methods and leans on
//! the trait's defaults for the rest, as a first version of a real backend would.
//!
//! Applications select it in their settings and name this crate once so the linker keeps it:
//!
//! ```
//! use myapp_cache as _;
//! use openviper_cache::{CacheExt, CacheManager, CacheSettings};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let manager = CacheManager::new(CacheSettings::from_toml_str(r#"
//!     [CACHES.custom]
//!     BACKEND = "myapp.cache.MyCustomCache"
//!     OPTIONS = { endpoint = "custom-host:1234" }
//! "#)?);
//! let cache = manager.get("custom")?;
//! cache.set("k", "v", None).await?;
//! assert_eq!(cache.get::<String>("k").await?.as_deref(), Some("v"));
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # })
//! # }
//! ```
#![deny(missing_docs)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use openviper_cache_core::ttl::Lifetime;
use openviper_cache_core::{
    BackendConfig, BaseCache, Bytes, Capabilities, ClearScope, Result, async_trait,
    register_backend, validate_cache_key,
};
use serde::Deserialize;

/// The dotted name settings use to select this backend.
pub const BACKEND_NAME: &str = "myapp.cache.MyCustomCache";

register_backend!(BACKEND_NAME, build);

/// `OPTIONS` of `myapp.cache.MyCustomCache`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MyCustomOptions {
    /// Where the store lives (required); this example only reports it in `Debug`.
    pub endpoint: String,
    /// Default TTL in seconds; no expiry when absent.
    #[serde(
        default,
        deserialize_with = "openviper_cache_core::ttl::deserialize_ttl"
    )]
    pub ttl: Option<Duration>,
}

/// A process-local store standing in for "a different system".
#[derive(Debug)]
pub struct MyCustomCache {
    endpoint: String,
    default_ttl: Option<Duration>,
    entries: Mutex<HashMap<String, (Bytes, Option<Instant>)>>,
}

fn build(config: &BackendConfig) -> Result<Arc<dyn BaseCache>> {
    let options: MyCustomOptions = config.options()?;
    Ok(Arc::new(MyCustomCache::new(options)))
}

impl MyCustomCache {
    /// A cache for `options`.
    pub fn new(options: MyCustomOptions) -> Self {
        Self {
            endpoint: options.endpoint,
            default_ttl: options.ttl,
            entries: Mutex::default(),
        }
    }

    /// The configured endpoint.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Bytes, Option<Instant>)>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl BaseCache for MyCustomCache {
    async fn get_bytes(&self, key: &str) -> Result<Option<Bytes>> {
        validate_cache_key(key)?;
        let mut entries = self.entries();
        match entries.get(key) {
            Some((value, deadline)) if deadline.is_none_or(|at| Instant::now() < at) => {
                Ok(Some(value.clone()))
            }
            Some(_) => {
                entries.remove(key);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn set_bytes(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<()> {
        validate_cache_key(key)?;
        let now = Instant::now();
        let mut entries = self.entries();
        match Lifetime::resolve(ttl, self.default_ttl) {
            Lifetime::Expired => {
                entries.remove(key);
            }
            lifetime => {
                entries.insert(key.to_owned(), (value, lifetime.deadline(now)));
            }
        }
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        validate_cache_key(key)?;
        let removed = self.entries().remove(key);
        Ok(removed.is_some_and(|(_, deadline)| deadline.is_none_or(|at| Instant::now() < at)))
    }

    async fn clear(&self) -> Result<()> {
        self.entries().clear();
        Ok(())
    }

    fn capabilities(&self) -> Capabilities {
        // Everything else keeps the conservative defaults: add/incr are the trait's
        // non-atomic defaults, and keys() does not list.
        Capabilities::default().with_clear(ClearScope::Namespace)
    }
}
