//! What a check is given: the subject under test and a fresh cache with its own namespace.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use openviper_cache_core::{BaseCache, Result, build_backend};

/// A check's verdict: `Err` says which promise was broken.
pub type CheckResult = std::result::Result<(), Failure>;

/// Why a check failed.
pub type Failure = Box<dyn std::error::Error + Send + Sync>;

/// The backend under test: its registered name and the `OPTIONS` that reach its store.
///
/// ```
/// use openviper_cache_conformance::Subject;
/// let subject = Subject::new("openviper.cache.RedisCache", serde_json::json!({"url": "redis://127.0.0.1:6379"}))
///     .with_prefix_option("key_prefix");
/// assert_eq!(subject.backend, "openviper.cache.RedisCache");
/// ```
#[derive(Debug, Clone)]
pub struct Subject {
    /// The dotted name the backend is registered under.
    pub backend: String,
    /// Base `OPTIONS` (a JSON object); checks add `ttl` or a prefix on top.
    pub options: serde_json::Value,
    /// The option that namespaces this backend's keys (`key_prefix`), where it has one; checks
    /// then get a fresh prefix each and prefix isolation is checked.
    pub prefix_option: Option<String>,
    /// The option that sets the alias default TTL in seconds; `ttl` unless the backend names
    /// it otherwise, `None` when it has none (the default-TTL check is then skipped).
    pub ttl_option: Option<String>,
}

impl Subject {
    /// A subject for `backend` with base `options`, whose default TTL option is `ttl`.
    pub fn new(backend: impl Into<String>, options: serde_json::Value) -> Self {
        Self {
            backend: backend.into(),
            options,
            prefix_option: None,
            ttl_option: Some("ttl".to_owned()),
        }
    }

    /// Names the option that namespaces keys, e.g. `"key_prefix"`.
    pub fn with_prefix_option(mut self, option: impl Into<String>) -> Self {
        self.prefix_option = Some(option.into());
        self
    }

    /// Names the option that sets the default TTL in seconds, e.g. `"default_ttl"`.
    ///
    /// ```
    /// use openviper_cache_conformance::Subject;
    /// let subject = Subject::new("myorg.cache.X", serde_json::json!({})).with_ttl_option("expire_after");
    /// assert_eq!(subject.ttl_option.as_deref(), Some("expire_after"));
    /// assert_eq!(Subject::new("myorg.cache.X", serde_json::json!({})).without_ttl_option().ttl_option, None);
    /// ```
    pub fn with_ttl_option(mut self, option: impl Into<String>) -> Self {
        self.ttl_option = Some(option.into());
        self
    }

    /// The backend has no default TTL option.
    pub fn without_ttl_option(mut self) -> Self {
        self.ttl_option = None;
        self
    }
}

/// A unique token per call in this process, unique across processes too (pid + clock).
pub(crate) fn unique_token() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{:x}{:x}{n:x}", std::process::id(), nanos)
}

/// What one check works with.
///
/// Every key it hands out ([`Ctx::key`], [`Ctx::track`]) and every cache it builds
/// ([`Ctx::build`]) is recorded, and [`Ctx::clean_up`] (which the runner calls after each
/// check, pass or fail) deletes those keys from those caches: a run leaves nothing behind on a
/// shared server.
#[derive(Debug)]
pub struct Ctx {
    subject: Subject,
    namespace: String,
    cache: Arc<dyn BaseCache>,
    keys: Mutex<Vec<String>>,
    built: Mutex<Vec<Arc<dyn BaseCache>>>,
}

impl Ctx {
    /// A context with a fresh namespace and a cache built from `subject`.
    pub fn new(subject: Subject) -> Result<Self> {
        let namespace = format!("ovc{}", unique_token());
        let cache = build_for(&subject, &namespace, serde_json::json!({}))?;
        Ok(Self {
            subject,
            namespace,
            cache,
            keys: Mutex::default(),
            built: Mutex::default(),
        })
    }

    /// Records a key the check made itself (it must start with [`Ctx::namespace`]), so that
    /// [`Ctx::clean_up`] deletes it; returns it.
    pub fn track(&self, key: String) -> String {
        self.keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(key.clone());
        key
    }

    /// Deletes every recorded key from the cache under test and from every cache
    /// [`Ctx::build`] made (and, where they list, whatever else they hold under this check's
    /// namespace). Errors of this best-effort step are returned, not panicked on.
    pub async fn clean_up(&self) -> Result<()> {
        let keys = std::mem::take(&mut *self.keys.lock().unwrap_or_else(PoisonError::into_inner));
        let built = std::mem::take(&mut *self.built.lock().unwrap_or_else(PoisonError::into_inner));
        let mut first_error = None;
        for cache in std::iter::once(&self.cache).chain(&built) {
            let mut doomed = keys.clone();
            if cache.capabilities().list_keys {
                match cache.keys(&self.namespace).await {
                    Ok(listed) => doomed.extend(listed),
                    Err(error) => {
                        first_error.get_or_insert(error);
                    }
                }
            }
            doomed.sort_unstable();
            doomed.dedup();
            // Invalid keys (a check of validation hands them out too) cannot have been stored.
            doomed.retain(|key| openviper_cache_core::validate_cache_key(key).is_ok());
            let refs: Vec<&str> = doomed.iter().map(String::as_str).collect();
            for chunk in refs.chunks(500) {
                if let Err(error) = cache.delete_many(chunk).await {
                    first_error.get_or_insert(error);
                }
            }
        }
        for cache in built {
            let _ = cache.close().await;
        }
        first_error.map_or(Ok(()), Err)
    }

    /// The cache under test.
    pub fn cache(&self) -> &dyn BaseCache {
        &*self.cache
    }

    /// The cache under test, shared (for spawned tasks).
    pub fn shared_cache(&self) -> Arc<dyn BaseCache> {
        Arc::clone(&self.cache)
    }

    /// The subject under test.
    pub fn subject(&self) -> &Subject {
        &self.subject
    }

    /// `name` inside this check's namespace (recorded for [`Ctx::clean_up`]).
    pub fn key(&self, name: &str) -> String {
        self.track(format!("{}:{name}", self.namespace))
    }

    /// This check's namespace (every [`Ctx::key`] starts with it).
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Another cache of the subject's backend: its base options, then `extra` on top, and (where
    /// the backend has a prefix option and `extra` sets none) this check's own prefix.
    pub fn build(&self, extra: serde_json::Value) -> Result<Arc<dyn BaseCache>> {
        let cache = build_for(&self.subject, &self.namespace, extra)?;
        self.built
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::clone(&cache));
        Ok(cache)
    }

    /// A cache of the subject's backend whose default TTL option is `seconds`, or `None` when
    /// the subject has no TTL option.
    pub fn build_with_default_ttl(&self, seconds: f64) -> Option<Result<Arc<dyn BaseCache>>> {
        let option = self.subject.ttl_option.as_ref()?;
        let mut extra = serde_json::Map::new();
        extra.insert(option.clone(), serde_json::json!(seconds));
        Some(self.build(serde_json::Value::Object(extra)))
    }
}

fn build_for(
    subject: &Subject,
    namespace: &str,
    extra: serde_json::Value,
) -> Result<Arc<dyn BaseCache>> {
    let mut options = match &subject.options {
        serde_json::Value::Object(map) => map.clone(),
        _ => serde_json::Map::new(),
    };
    if let Some(option) = &subject.prefix_option {
        options.insert(
            option.clone(),
            serde_json::Value::String(format!("{namespace}:p:")),
        );
    }
    if let serde_json::Value::Object(extra) = extra {
        options.extend(extra);
    }
    build_backend(
        "conformance",
        &subject.backend,
        serde_json::Value::Object(options),
    )
}
