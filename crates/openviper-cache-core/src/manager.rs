//! `CacheManager` (one instance per alias) and the process-wide `configure` / `get_cache`.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use crate::cache::BaseCache;
use crate::error::{CacheError, Result};
use crate::registry::build_backend;
use crate::settings::{CacheSettings, DEFAULT_BACKEND, SETTINGS_ENV};

/// The alias `get_cache` resolves when asked for no particular one.
pub const DEFAULT_ALIAS: &str = "default";

/// Builds each alias's cache on first use and hands out that one instance afterwards.
///
/// ```
/// use std::sync::Arc;
/// use openviper_cache_core::{CacheManager, CacheSettings, CacheError};
/// # use openviper_cache_memory as _;
///
/// let manager = CacheManager::new(CacheSettings::from_toml_str(r#"
///     [CACHES.sessions]
///     BACKEND = "openviper.cache.InMemoryCache"
///     OPTIONS = { ttl = 1800 }
/// "#).unwrap());
/// let a = manager.get("sessions").unwrap();
/// let b = manager.get("sessions").unwrap();
/// assert!(Arc::ptr_eq(&a, &b));
/// assert_eq!(manager.aliases(), vec!["default", "sessions"]);
/// assert!(matches!(manager.get("nope"), Err(CacheError::UnknownAlias(_))));
/// ```
#[derive(Debug)]
pub struct CacheManager {
    settings: CacheSettings,
    instances: RwLock<HashMap<String, Arc<dyn BaseCache>>>,
}

impl CacheManager {
    /// A manager for `settings`. Nothing is built until [`CacheManager::get`].
    pub fn new(settings: CacheSettings) -> Self {
        Self {
            settings,
            instances: RwLock::default(),
        }
    }

    /// The settings this manager was made with.
    pub fn settings(&self) -> &CacheSettings {
        &self.settings
    }

    /// The cache for `alias`, built on first use; every later call returns the same instance,
    /// even when many threads ask at once.
    pub fn get(&self, alias: &str) -> Result<Arc<dyn BaseCache>> {
        if let Some(cache) = self
            .instances
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(alias)
        {
            return Ok(Arc::clone(cache));
        }
        let mut instances = self
            .instances
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(cache) = instances.get(alias) {
            return Ok(Arc::clone(cache));
        }
        let cache = match self.settings.alias(alias) {
            Some(entry) => build_backend(alias, &entry.backend, entry.options.clone())?,
            None if alias == DEFAULT_ALIAS => {
                build_backend(alias, DEFAULT_BACKEND, serde_json::Value::Null)?
            }
            None => return Err(CacheError::UnknownAlias(alias.to_owned())),
        };
        instances.insert(alias.to_owned(), Arc::clone(&cache));
        Ok(cache)
    }

    /// Every alias that resolves, sorted; always includes `"default"`.
    pub fn aliases(&self) -> Vec<&str> {
        let mut aliases = self.settings.aliases();
        if !aliases.contains(&DEFAULT_ALIAS) {
            aliases.push(DEFAULT_ALIAS);
            aliases.sort_unstable();
        }
        aliases
    }

    /// Closes every instance built so far; the first error is returned after all were tried.
    pub async fn close_all(&self) -> Result<()> {
        let built: Vec<(String, Arc<dyn BaseCache>)> = self
            .instances
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(alias, cache)| (alias.clone(), Arc::clone(cache)))
            .collect();
        let mut first_error = None;
        for (alias, cache) in built {
            if let Err(error) = cache.close().await {
                tracing::warn!(alias, %error, "closing cache failed");
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// The process-wide manager, or why the settings file could not be read.
static GLOBAL: OnceLock<std::result::Result<CacheManager, String>> = OnceLock::new();

/// Fixes the process-wide settings used by [`get_cache`]. Call it once, before the first
/// `get_cache`; later calls are [`CacheError::AlreadyConfigured`].
///
/// ```
/// use openviper_cache_core::{configure, get_cache, CacheSettings, CacheError};
/// # use openviper_cache_memory as _;
///
/// configure(CacheSettings::default()).unwrap();
/// assert!(matches!(configure(CacheSettings::default()), Err(CacheError::AlreadyConfigured)));
/// let cache = get_cache("default").unwrap();
/// # drop(cache);
/// ```
pub fn configure(settings: CacheSettings) -> Result<()> {
    let mut installed = false;
    GLOBAL.get_or_init(|| {
        installed = true;
        Ok(CacheManager::new(settings))
    });
    if installed {
        Ok(())
    } else {
        Err(CacheError::AlreadyConfigured)
    }
}

/// The process-wide manager: the one given to [`configure`], else one made from the file named
/// by `OPENVIPER_SETTINGS` (TOML, or JSON for a `.json` name), else empty settings.
///
/// ```
/// # use openviper_cache_memory as _;
/// let manager = openviper_cache_core::global_manager().unwrap();
/// assert!(manager.aliases().contains(&"default"));
/// ```
pub fn global_manager() -> Result<&'static CacheManager> {
    GLOBAL
        .get_or_init(|| match std::env::var_os(SETTINGS_ENV) {
            Some(path) => CacheSettings::from_path(&path)
                .map(CacheManager::new)
                .map_err(|err| format!("{SETTINGS_ENV}: {err}")),
            None => Ok(CacheManager::new(CacheSettings::default())),
        })
        .as_ref()
        .map_err(|message| CacheError::Settings {
            message: message.clone(),
        })
}

/// The cache for `alias` from the process-wide settings, built once and shared.
///
/// `"default"` always resolves (an in-memory cache when the settings do not define it); any
/// other alias missing from the settings is [`CacheError::UnknownAlias`].
///
/// ```
/// use openviper_cache_core::{get_cache, CacheExt};
/// # use openviper_cache_memory as _;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let cache = get_cache("default")?;
/// cache.set("answer", &42, None).await?;
/// assert_eq!(cache.get::<i32>("answer").await?, Some(42));
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// # })
/// # }
/// ```
pub fn get_cache(alias: &str) -> Result<Arc<dyn BaseCache>> {
    global_manager()?.get(alias)
}
