//! What a check is given: the subject under test and a fresh cache with its own namespace.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
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
}

impl Subject {
    /// A subject for `backend` with base `options`.
    pub fn new(backend: impl Into<String>, options: serde_json::Value) -> Self {
        Self {
            backend: backend.into(),
            options,
            prefix_option: None,
        }
    }

    /// Names the option that namespaces keys, e.g. `"key_prefix"`.
    pub fn with_prefix_option(mut self, option: impl Into<String>) -> Self {
        self.prefix_option = Some(option.into());
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
#[derive(Debug)]
pub struct Ctx {
    subject: Subject,
    namespace: String,
    cache: Arc<dyn BaseCache>,
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
        })
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

    /// `name` inside this check's namespace.
    pub fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.namespace)
    }

    /// This check's namespace (every [`Ctx::key`] starts with it).
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Another cache of the subject's backend: its base options, then `extra` on top, and (where
    /// the backend has a prefix option and `extra` sets none) this check's own prefix.
    pub fn build(&self, extra: serde_json::Value) -> Result<Arc<dyn BaseCache>> {
        build_for(&self.subject, &self.namespace, extra)
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
