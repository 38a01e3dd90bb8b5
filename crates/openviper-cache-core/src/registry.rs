//! Backends registered by dotted name, collected at link time with `inventory`.

use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::cache::BaseCache;
use crate::error::{CacheError, Result};
use crate::redact;

/// Builds a cache from one alias's settings.
pub type BuildFn = fn(&BackendConfig) -> Result<Arc<dyn BaseCache>>;

/// A backend registered under a dotted name such as `"openviper.cache.RedisCache"`.
/// Create one with [`register_backend!`](crate::register_backend).
pub struct BackendFactory {
    /// The dotted name settings use as `BACKEND`.
    pub name: &'static str,
    /// Builds an instance from an alias's settings.
    pub build: BuildFn,
    secret_options: &'static [&'static str],
}

impl BackendFactory {
    /// A factory for `name` built by `build`; used by [`register_backend!`](crate::register_backend).
    pub const fn new(name: &'static str, build: BuildFn) -> Self {
        Self {
            name,
            build,
            secret_options: &[],
        }
    }

    /// Declares options of this backend that are secrets beyond the common names of
    /// [`redact`](crate::redact) (`password`, `token`, ...), so that they are never shown.
    pub const fn with_secret_options(mut self, names: &'static [&'static str]) -> Self {
        self.secret_options = names;
        self
    }

    /// The options this backend declared secret.
    pub fn secret_options(&self) -> &'static [&'static str] {
        self.secret_options
    }
}

/// The secret options `backend` declared; none for an unregistered name.
pub(crate) fn secret_options_of(backend: &str) -> &'static [&'static str] {
    inventory::iter::<BackendFactory>
        .into_iter()
        .find(|f| f.name == backend)
        .map_or(&[], |f| f.secret_options)
}

impl fmt::Debug for BackendFactory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackendFactory")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

inventory::collect!(BackendFactory);

/// Registers a backend under a dotted name, so that settings can select it as `BACKEND`.
///
/// `build_fn` is a `fn(&BackendConfig) -> Result<Arc<dyn BaseCache>>`. It should validate the
/// options and return quickly: construction must not block on the network.
///
/// Options that are secrets beyond the common names (`password`, `token`, `secret`, ...; see
/// [`redact`](crate::redact)) are declared as a third argument,
/// `register_backend!("myorg.cache.X", build, secret_options = ["endpoint_key"])`, and are then
/// never shown in `Debug` of the settings or in error messages.
///
/// The registration lives in the crate that calls the macro. Rust links a crate only when
/// something in the final program names it, so the application must name the backend crate
/// once, e.g. `use my_cache_backend as _;` (the facade `openviper-cache` does this for the
/// built-in backends).
///
/// ```
/// use std::sync::Arc;
/// use openviper_cache_core::{register_backend, registered_backends, BackendConfig, BaseCache, CacheError, Result};
///
/// fn build(config: &BackendConfig) -> Result<Arc<dyn BaseCache>> {
///     // A real backend: `let options: MyOptions = config.options()?; Ok(Arc::new(MyCache::new(options)))`
///     Err(CacheError::config(&config.alias, "this example builds nothing"))
/// }
/// register_backend!("myorg.cache.DocCache", build);
///
/// assert!(registered_backends().contains(&"myorg.cache.DocCache"));
/// ```
#[macro_export]
macro_rules! register_backend {
    ($name:expr, $build:expr $(,)?) => {
        $crate::__private::inventory::submit! {
            $crate::BackendFactory::new($name, $build)
        }
    };
    ($name:expr, $build:expr, secret_options = [$($secret:expr),* $(,)?] $(,)?) => {
        $crate::__private::inventory::submit! {
            $crate::BackendFactory::new($name, $build).with_secret_options(&[$($secret),*])
        }
    };
}

/// The dotted names of every registered backend, sorted.
///
/// ```
/// use openviper_cache_memory as _; // link the in-memory backend
/// assert!(openviper_cache_core::registered_backends().contains(&"openviper.cache.InMemoryCache"));
/// ```
pub fn registered_backends() -> Vec<&'static str> {
    let mut names: Vec<_> = inventory::iter::<BackendFactory>
        .into_iter()
        .map(|f| f.name)
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// Finds the factory for `backend`; two crates registering one name is a settings error,
/// since either choice could be the wrong one.
pub(crate) fn find(alias: &str, backend: &str) -> Result<&'static BackendFactory> {
    let mut found = inventory::iter::<BackendFactory>
        .into_iter()
        .filter(|f| f.name == backend);
    match (found.next(), found.next()) {
        (Some(factory), None) => Ok(factory),
        (None, _) => Err(CacheError::UnknownBackend {
            alias: alias.to_owned(),
            backend: backend.to_owned(),
        }),
        (Some(_), Some(_)) => Err(CacheError::Settings {
            message: format!(
                "backend {backend:?} (alias {alias:?}) is registered by more than one linked crate"
            ),
        }),
    }
}

/// Builds a cache for `backend` from `options`, through the registry, as settings would.
///
/// ```
/// use openviper_cache_memory as _;
/// let cache = openviper_cache_core::build_backend(
///     "scratch",
///     "openviper.cache.InMemoryCache",
///     serde_json::json!({ "max_entries": 10 }),
/// ).unwrap();
/// assert!(cache.capabilities().list_keys);
/// ```
pub fn build_backend(
    alias: &str,
    backend: &str,
    options: serde_json::Value,
) -> Result<Arc<dyn BaseCache>> {
    let factory = find(alias, backend)?;
    let config = BackendConfig {
        alias: alias.to_owned(),
        backend: backend.to_owned(),
        options,
    };
    let cache = (factory.build)(&config)?;
    tracing::debug!(alias, backend, "cache backend built");
    Ok(cache)
}

/// One alias's settings, as a backend's build function receives them.
///
/// ```
/// use serde::Deserialize;
/// use openviper_cache_core::{BackendConfig, CacheError};
///
/// #[derive(Debug, Deserialize)]
/// #[serde(deny_unknown_fields)]
/// struct Options { port: u16 }
///
/// let config = BackendConfig::new("sessions", "myorg.cache.X", serde_json::json!({"port": 70000}));
/// let err = config.options::<Options>().unwrap_err();
/// assert!(matches!(err, CacheError::Config { .. }));
/// assert!(err.to_string().contains("sessions") && err.to_string().contains("port"));
/// ```
#[derive(Clone)]
pub struct BackendConfig {
    /// The alias, e.g. `"default"`.
    pub alias: String,
    /// The dotted backend name from `BACKEND`.
    pub backend: String,
    options: serde_json::Value,
}

impl BackendConfig {
    /// A config for `alias` selecting `backend` with `options` (a JSON object, or null for none).
    pub fn new(
        alias: impl Into<String>,
        backend: impl Into<String>,
        options: serde_json::Value,
    ) -> Self {
        Self {
            alias: alias.into(),
            backend: backend.into(),
            options,
        }
    }

    /// Deserializes `OPTIONS` as `T`. An error is [`CacheError::Config`] naming the alias and
    /// the option (its path, e.g. `tls.ca_file`).
    pub fn options<T: DeserializeOwned>(&self) -> Result<T> {
        let options = match &self.options {
            serde_json::Value::Null => serde_json::Value::Object(serde_json::Map::new()),
            other => other.clone(),
        };
        serde_path_to_error::deserialize(options).map_err(|err| {
            let path = err.path().to_string();
            let message = if path == "." {
                format!("OPTIONS: {}", err.inner())
            } else {
                format!("OPTIONS.{path}: {}", err.inner())
            };
            // serde quotes the offending value: never a secret's.
            let secrets = redact::secrets_in(&self.options, self.secret_options());
            CacheError::config(&self.alias, redact::scrub(&message, &secrets))
        })
    }

    /// The raw `OPTIONS` value (secrets included: never log it; see
    /// [`BackendConfig::redacted_options`]).
    pub fn raw_options(&self) -> &serde_json::Value {
        &self.options
    }

    /// `OPTIONS` with every secret shown as `***`, for messages and logs.
    pub fn redacted_options(&self) -> serde_json::Value {
        redact::redact_options(&self.options, self.secret_options())
    }

    /// The secret options this backend declared (see [`BackendFactory::with_secret_options`]).
    pub fn secret_options(&self) -> &'static [&'static str] {
        secret_options_of(&self.backend)
    }
}

impl fmt::Debug for BackendConfig {
    // OPTIONS may hold passwords: show only which options are set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = match &self.options {
            serde_json::Value::Object(map) => map.keys().map(String::as_str).collect(),
            _ => Vec::new(),
        };
        f.debug_struct("BackendConfig")
            .field("alias", &self.alias)
            .field("backend", &self.backend)
            .field("options", &names)
            .finish()
    }
}
