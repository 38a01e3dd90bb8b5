//! `CacheManager` (one instance per alias) and the process-wide `configure` / `get_cache`.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use crate::cache::BaseCache;
use crate::error::{CacheError, Result};
use crate::instrument::{CacheStats, Counters, Instrumented};
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
    instances: RwLock<HashMap<String, Built>>,
}

/// One alias's cache, and its counters when it is instrumented.
#[derive(Debug)]
struct Built {
    cache: Arc<dyn BaseCache>,
    counters: Option<Arc<Counters>>,
}

/// The `OPTIONS` entry that turns the instrumentation layer off for one alias; the manager
/// takes it out before the backend sees the options.
pub const INSTRUMENT_OPTION: &str = "instrument";

/// `options` without [`INSTRUMENT_OPTION`], and whether the alias is instrumented (the
/// default).
fn instrument_switch(
    alias: &str,
    mut options: serde_json::Value,
) -> Result<(serde_json::Value, bool)> {
    let Some(map) = options.as_object_mut() else {
        return Ok((options, true));
    };
    match map.remove(INSTRUMENT_OPTION) {
        None => Ok((options, true)),
        Some(serde_json::Value::Bool(on)) => Ok((options, on)),
        Some(other) => Err(CacheError::config(
            alias,
            format!("OPTIONS.{INSTRUMENT_OPTION}: expected true or false, got {other}"),
        )),
    }
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
        if let Some(built) = self
            .instances
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(alias)
        {
            return Ok(Arc::clone(&built.cache));
        }
        let mut instances = self
            .instances
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(built) = instances.get(alias) {
            return Ok(Arc::clone(&built.cache));
        }
        let (backend, options) = match self.settings.alias(alias) {
            Some(entry) => (entry.backend.as_str(), entry.options.clone()),
            None if alias == DEFAULT_ALIAS => (DEFAULT_BACKEND, serde_json::Value::Null),
            None => return Err(CacheError::UnknownAlias(alias.to_owned())),
        };
        let (options, instrumented) = instrument_switch(alias, options)?;
        let cache = build_backend(alias, backend, options)?;
        let built = if instrumented {
            let layer = Instrumented::new(alias, backend, cache);
            Built {
                counters: Some(layer.counters()),
                cache: Arc::new(layer),
            }
        } else {
            Built {
                cache,
                counters: None,
            }
        };
        let cache = Arc::clone(&built.cache);
        instances.insert(alias.to_owned(), built);
        Ok(cache)
    }

    /// What the cache of `alias` has done since it was built (zeros before its first use):
    /// hits, misses, errors, operations, and its [`Gauges`](crate::Gauges) now. `Unsupported` for an alias whose `OPTIONS` say
    /// `instrument = false`, `UnknownAlias` for one the settings do not define.
    ///
    /// ```
    /// use openviper_cache_core::{CacheManager, CacheSettings, CacheExt};
    /// # use openviper_cache_memory as _;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let manager = CacheManager::new(CacheSettings::from_toml_str(r#"
    ///     [CACHES.quiet]
    ///     BACKEND = "openviper.cache.InMemoryCache"
    ///     OPTIONS = { instrument = false }
    /// "#).unwrap());
    /// assert_eq!(manager.stats("default").unwrap().operations, 0);
    /// let cache = manager.get("default").unwrap();
    /// assert_eq!(cache.get::<String>("k").await.unwrap(), None);
    /// assert_eq!(manager.stats("default").unwrap().misses, 1);
    /// manager.get("quiet").unwrap();
    /// assert!(manager.stats("quiet").is_err());
    /// # });
    /// ```
    pub fn stats(&self, alias: &str) -> Result<CacheStats> {
        if let Some(built) = self
            .instances
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(alias)
        {
            return match &built.counters {
                Some(counters) => Ok(counters.snapshot().with_gauges(built.cache.gauges())),
                None => Err(CacheError::Unsupported {
                    backend: format!("cache alias {alias:?} (OPTIONS.{INSTRUMENT_OPTION} = false)"),
                    operation: "stats",
                }),
            };
        }
        if alias == DEFAULT_ALIAS || self.settings.alias(alias).is_some() {
            return Ok(CacheStats::default());
        }
        Err(CacheError::UnknownAlias(alias.to_owned()))
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
            .map(|(alias, built)| (alias.clone(), Arc::clone(&built.cache)))
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
