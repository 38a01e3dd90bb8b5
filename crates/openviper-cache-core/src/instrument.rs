//! The instrumentation layer the manager puts around every cache it builds, whatever its
//! backend: a `tracing` span per operation, `metrics` counters and a latency histogram, and the
//! counters behind [`CacheManager::stats`](crate::CacheManager::stats).
//!
//! Nothing here is linked to a subscriber or an exporter: with none installed, a span is one
//! check of a static interest and a metric is a no-op handle, bound when the cache is built
//! (install a recorder before the first `get_cache` to see a cache's metrics). The hot path's
//! own counters are striped over cache lines, so cores do not fight over one.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use metrics::{Counter, Gauge, Histogram};
use tracing::{Instrument, Span, field};

use crate::cache::BaseCache;
use crate::capabilities::Capabilities;
use crate::error::{CacheError, Result};
use crate::gauges::Gauges;

/// What one cache has done since it was built: the answer of
/// [`CacheManager::stats`](crate::CacheManager::stats).
///
/// ```
/// use openviper_cache_core::{BaseCache, CacheManager, CacheSettings};
/// # use openviper_cache_memory as _;
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let manager = CacheManager::new(CacheSettings::default());
/// let cache = manager.get("default").unwrap();
/// cache.set_bytes("k", "v".into(), None).await.unwrap();
/// cache.get_bytes("k").await.unwrap();
/// cache.get_bytes("missing").await.unwrap();
/// let _ = cache.get_bytes("not valid").await;
/// let stats = manager.stats("default").unwrap();
/// assert_eq!((stats.hits, stats.misses, stats.errors, stats.operations), (1, 1, 1, 4));
/// assert_eq!(stats.hit_ratio(), Some(0.5));
/// # });
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Reads that found a live entry (`get`, `get_many` per key, `has_key`).
    pub hits: u64,
    /// Reads that found none.
    pub misses: u64,
    /// Operations that returned an error.
    pub errors: u64,
    /// Every operation, successful or not.
    pub operations: u64,
    /// What the backend tells of its state now (entries, bytes, connections).
    pub gauges: Gauges,
}

impl CacheStats {
    pub(crate) fn with_gauges(self, gauges: Gauges) -> Self {
        Self { gauges, ..self }
    }

    /// `hits / (hits + misses)`, when there was a read.
    pub fn hit_ratio(&self) -> Option<f64> {
        let reads = self.hits + self.misses;
        (reads > 0).then(|| self.hits as f64 / reads as f64)
    }
}

/// One latency in this many is timed for the histogram (per thread): two clock reads (about
/// 35 ns each on a VM's clock) on every operation would cost an in-process hit a quarter of its
/// time.
const TIME_ONE_IN: u32 = 64;

/// The gauges are read from the backend at most this often (per cache), on a timed operation.
const GAUGES_EVERY: Duration = Duration::from_secs(1);

/// Caches numbered as they are built: a thread finds its counts of a cache by this number.
static NEXT_CACHE: AtomicUsize = AtomicUsize::new(0);

/// One thread's counts of one cache. Only that thread writes them, with a plain load and store
/// (no read-modify-write: an atomic add on every hit costs more than the rest of the layer);
/// `stats` reads them from any thread.
///
/// A single-key read bumps one cell (its hit or miss), so `operations` is derived:
/// `hits + misses - batch_keys + others`.
#[derive(Debug, Default)]
struct Cells {
    hits: AtomicU64,
    misses: AtomicU64,
    errors: AtomicU64,
    /// Operations that are not single-key reads (batches, writes, failures).
    others: AtomicU64,
    /// Keys that batches counted as hits or misses.
    batch_keys: AtomicU64,
}

/// Adds `n` to a cell only this thread writes.
fn bump(cell: &AtomicU64, n: u64) {
    cell.store(
        cell.load(Ordering::Relaxed).wrapping_add(n),
        Ordering::Relaxed,
    );
}

/// What a thread keeps: its cells of every cache it has used, and the countdown to its next
/// timed operation.
struct Local {
    untimed: Cell<u32>,
    cells: RefCell<Vec<Option<Arc<Cells>>>>,
}

impl Local {
    /// A start time for one operation in [`TIME_ONE_IN`].
    #[inline]
    fn tick(&self) -> Option<Instant> {
        let untimed = self.untimed.get();
        if untimed == 0 {
            self.untimed.set(TIME_ONE_IN - 1);
            Some(Instant::now())
        } else {
            self.untimed.set(untimed - 1);
            None
        }
    }
}

thread_local! {
    static LOCAL: Local = const {
        Local {
            untimed: Cell::new(0),
            cells: RefCell::new(Vec::new()),
        }
    };
}

/// The counters of one cache: every thread's cells, kept after the thread ends.
#[derive(Debug)]
pub(crate) struct Counters {
    id: usize,
    threads: Mutex<Vec<Arc<Cells>>>,
    /// For a thread that is tearing its locals down (a cache used from a destructor).
    shared: Cells,
}

impl Counters {
    fn new() -> Self {
        Self {
            id: NEXT_CACHE.fetch_add(1, Ordering::Relaxed),
            threads: Mutex::default(),
            shared: Cells::default(),
        }
    }

    /// Runs `count` on this thread's cells of this cache.
    #[inline]
    fn count(&self, count: impl Fn(&Cells, fn(&AtomicU64, u64))) {
        let count = &count;
        let counted = LOCAL.try_with(|local| {
            if let Ok(cells) = local.cells.try_borrow()
                && let Some(Some(mine)) = cells.get(self.id)
            {
                count(mine, bump);
                return true;
            }
            // First use of this cache on this thread (a nested borrow, from a cache used
            // inside another's operation, counts in the shared cells instead).
            let Ok(mut cells) = local.cells.try_borrow_mut() else {
                return false;
            };
            let mine = Arc::new(Cells::default());
            self.threads
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(Arc::clone(&mine));
            if cells.len() <= self.id {
                cells.resize(self.id + 1, None);
            }
            cells[self.id] = Some(Arc::clone(&mine));
            count(&mine, bump);
            true
        });
        if counted != Ok(true) {
            let add = |cell: &AtomicU64, n: u64| {
                cell.fetch_add(n, Ordering::Relaxed);
            };
            count(&self.shared, add);
        }
    }

    pub(crate) fn snapshot(&self) -> CacheStats {
        let threads = self.threads.lock().unwrap_or_else(PoisonError::into_inner);
        let sum = |field: fn(&Cells) -> &AtomicU64| -> u64 {
            threads
                .iter()
                .map(|cells| field(cells).load(Ordering::Relaxed))
                .chain(std::iter::once(field(&self.shared).load(Ordering::Relaxed)))
                .fold(0, u64::wrapping_add)
        };
        let (hits, misses) = (sum(|c| &c.hits), sum(|c| &c.misses));
        CacheStats {
            hits,
            misses,
            errors: sum(|c| &c.errors),
            operations: (hits.wrapping_add(misses))
                .wrapping_sub(sum(|c| &c.batch_keys))
                .wrapping_add(sum(|c| &c.others)),
            gauges: Gauges::default(),
        }
    }
}

/// Every operation the layer tells apart, with its span and metric name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Get,
    Set,
    Delete,
    Clear,
    HasKey,
    Keys,
    Close,
    GetMany,
    SetMany,
    DeleteMany,
    Add,
    Incr,
    Touch,
    Ttl,
}

const OPS: [Op; 14] = [
    Op::Get,
    Op::Set,
    Op::Delete,
    Op::Clear,
    Op::HasKey,
    Op::Keys,
    Op::Close,
    Op::GetMany,
    Op::SetMany,
    Op::DeleteMany,
    Op::Add,
    Op::Incr,
    Op::Touch,
    Op::Ttl,
];

impl Op {
    /// A read of one key, counted by its hit or miss alone.
    fn is_single_read(self) -> bool {
        matches!(self, Op::Get | Op::HasKey)
    }

    fn name(self) -> &'static str {
        match self {
            Op::Get => "get",
            Op::Set => "set",
            Op::Delete => "delete",
            Op::Clear => "clear",
            Op::HasKey => "has_key",
            Op::Keys => "keys",
            Op::Close => "close",
            Op::GetMany => "get_many",
            Op::SetMany => "set_many",
            Op::DeleteMany => "delete_many",
            Op::Add => "add",
            Op::Incr => "incr",
            Op::Touch => "touch",
            Op::Ttl => "ttl",
        }
    }
}

/// A span per operation; each needs its own callsite, hence the macro.
macro_rules! op_span {
    ($op:expr, $alias:expr, $backend:expr, [$($variant:ident => $name:literal),+ $(,)?]) => {
        match $op {
            $(Op::$variant => tracing::debug_span!(
                $name,
                alias = $alias,
                backend = $backend,
                op = Op::$variant.name(),
                hit = field::Empty,
                keys = field::Empty,
                key = field::Empty,
                error.kind = field::Empty,
            ),)+
        }
    };
}

/// The `error.kind` label and field of `error`.
///
/// ```
/// use openviper_cache_core::{CacheError, instrument::error_kind};
/// assert_eq!(error_kind(&CacheError::NotAnInteger { key: "k".into() }), "not_an_integer");
/// let down = CacheError::unavailable("RedisCache(x)", "get", "connection refused");
/// assert_eq!(error_kind(&down), "unavailable");
/// ```
pub fn error_kind(error: &CacheError) -> &'static str {
    match error {
        CacheError::InvalidKey { .. } => "invalid_key",
        CacheError::UnknownAlias(_) => "unknown_alias",
        CacheError::UnknownBackend { .. } => "unknown_backend",
        CacheError::Settings { .. } => "settings",
        CacheError::Config { .. } => "config",
        CacheError::AlreadyConfigured => "already_configured",
        CacheError::Serialize { .. } => "serialize",
        CacheError::Deserialize { .. } => "deserialize",
        CacheError::NotAnInteger { .. } => "not_an_integer",
        CacheError::Overflow { .. } => "overflow",
        CacheError::ValueTooLarge { .. } => "value_too_large",
        CacheError::Timeout { .. } => "timeout",
        CacheError::Backend { .. } if error.is_temporary() => "unavailable",
        CacheError::Backend { .. } => "backend",
        CacheError::Loader { .. } => "loader",
        CacheError::Unsupported { .. } => "unsupported",
    }
}

/// The metric handles of one cache, bound to the recorder installed when it was built.
#[derive(Debug)]
struct Metrics {
    hits: Counter,
    misses: Counter,
    operations: [Counter; OPS.len()],
    seconds: [Histogram; OPS.len()],
    entries: Gauge,
    bytes: Gauge,
    connections: Gauge,
    connections_in_use: Gauge,
}

impl Metrics {
    fn new(alias: &str, backend: &str) -> Self {
        let labels = |op: Op| {
            [
                ("alias", alias.to_owned()),
                ("backend", backend.to_owned()),
                ("op", op.name().to_owned()),
            ]
        };
        let pair = [("alias", alias.to_owned()), ("backend", backend.to_owned())];
        Self {
            hits: metrics::counter!("openviper_cache_hits_total", &pair),
            misses: metrics::counter!("openviper_cache_misses_total", &pair),
            operations: OPS
                .map(|op| metrics::counter!("openviper_cache_operations_total", &labels(op))),
            seconds: OPS
                .map(|op| metrics::histogram!("openviper_cache_operation_seconds", &labels(op))),
            entries: metrics::gauge!("openviper_cache_entries", &pair),
            bytes: metrics::gauge!("openviper_cache_bytes", &pair),
            connections: metrics::gauge!("openviper_cache_pool_connections", &pair),
            connections_in_use: metrics::gauge!("openviper_cache_pool_in_use", &pair),
        }
    }

    /// Sets every gauge the backend knows a value of.
    fn publish(&self, gauges: Gauges) {
        for (gauge, value) in [
            (&self.entries, gauges.entries),
            (&self.bytes, gauges.bytes),
            (&self.connections, gauges.connections),
            (&self.connections_in_use, gauges.connections_in_use),
        ] {
            if let Some(value) = value {
                gauge.set(value as f64);
            }
        }
    }
}

/// A cache with the layer around it: every `BaseCache` method forwards to the backend's.
///
/// The manager builds one per alias unless its `OPTIONS` say `instrument = false`; `Debug` is
/// the backend's own.
pub struct Instrumented {
    inner: Arc<dyn BaseCache>,
    alias: String,
    backend: String,
    counters: Arc<Counters>,
    metrics: Metrics,
    built: Instant,
    /// When, in milliseconds after `built`, the gauges are next read from the backend.
    gauges_due_ms: AtomicU64,
    /// The backend's `sync_read` and `sync_write`: only a backend that declares `read_now` or
    /// `write_now` gets a span around it, so that elsewhere a typed call, which tries them
    /// first, is one span (from `get_bytes` or `set_bytes`), not an empty one beside it.
    reads_now: bool,
    writes_now: bool,
}

impl std::fmt::Debug for Instrumented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

/// What a finished operation read: hits and misses.
type Reads = (u64, u64);

impl Instrumented {
    /// `inner`, the cache of `alias` built by `backend`, instrumented.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use openviper_cache_core::{BaseCache, build_backend, instrument::Instrumented};
    /// # use openviper_cache_memory as _;
    /// let inner = build_backend("a", "openviper.cache.InMemoryCache", serde_json::json!({})).unwrap();
    /// let cache: Arc<dyn BaseCache> = Arc::new(Instrumented::new("a", "openviper.cache.InMemoryCache", inner));
    /// assert!(cache.capabilities().list_keys);
    /// ```
    pub fn new(alias: &str, backend: &str, inner: Arc<dyn BaseCache>) -> Self {
        let capabilities = inner.capabilities();
        Self {
            reads_now: capabilities.sync_read,
            writes_now: capabilities.sync_write,
            metrics: Metrics::new(alias, backend),
            inner,
            alias: alias.to_owned(),
            backend: backend.to_owned(),
            counters: Arc::new(Counters::new()),
            built: Instant::now(),
            gauges_due_ms: AtomicU64::new(0),
        }
    }

    /// Publishes the backend's gauges, `at` milliseconds after `built`, from the one thread that
    /// claims them.
    #[cold]
    fn publish_gauges(&self, due: u64, at: u64) {
        let next = at.saturating_add(GAUGES_EVERY.as_millis() as u64);
        if self
            .gauges_due_ms
            .compare_exchange(due, next, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            self.metrics.publish(self.inner.gauges());
        }
    }

    /// Records a timed operation's latency, and the gauges when they are due: `started` is the
    /// operation's start, so the gauges cost no clock read of their own.
    fn timed(&self, index: usize, started: Instant) {
        self.metrics.seconds[index].record(started.elapsed().as_secs_f64());
        let at = u64::try_from(started.saturating_duration_since(self.built).as_millis())
            .unwrap_or(u64::MAX);
        let due = self.gauges_due_ms.load(Ordering::Relaxed);
        if at >= due {
            self.publish_gauges(due, at);
        }
    }

    /// What this cache has done since it was built.
    pub fn stats(&self) -> CacheStats {
        self.counters.snapshot().with_gauges(self.inner.gauges())
    }

    pub(crate) fn counters(&self) -> Arc<Counters> {
        Arc::clone(&self.counters)
    }

    /// The span of `op`, when a subscriber wants it: with none, this is one load of the
    /// global max level, and nothing is built or dropped.
    fn span(&self, op: Op, key: Option<&str>, keys: Option<usize>) -> Option<Span> {
        if !tracing::level_enabled!(tracing::Level::DEBUG) {
            return None;
        }
        let span = op_span!(op, self.alias.as_str(), self.backend.as_str(), [
            Get => "cache.get",
            Set => "cache.set",
            Delete => "cache.delete",
            Clear => "cache.clear",
            HasKey => "cache.has_key",
            Keys => "cache.keys",
            Close => "cache.close",
            GetMany => "cache.get_many",
            SetMany => "cache.set_many",
            DeleteMany => "cache.delete_many",
            Add => "cache.add",
            Incr => "cache.incr",
            Touch => "cache.touch",
            Ttl => "cache.ttl",
        ]);
        if span.is_disabled() {
            return None;
        }
        if let Some(keys) = keys {
            span.record("keys", keys);
        }
        // Keys can be personal data: only at TRACE, on purpose.
        if let Some(key) = key
            && tracing::enabled!(tracing::Level::TRACE)
        {
            span.record("key", key);
        }
        Some(span)
    }

    /// A start time for one operation in [`TIME_ONE_IN`] on this thread.
    fn maybe_time() -> Option<Instant> {
        LOCAL.try_with(Local::tick).ok().flatten()
    }

    /// Counts, records and logs the outcome of `op`.
    fn finish<T>(
        &self,
        op: Op,
        span: Option<&Span>,
        started: Option<Instant>,
        result: &Result<T>,
        reads: impl FnOnce(&T) -> Option<Reads>,
    ) {
        let index = op as usize;
        self.metrics.operations[index].increment(1);
        if let Some(started) = started {
            self.timed(index, started);
        }
        let (read, failed) = match result {
            Ok(value) => (reads(value), false),
            Err(_) => (None, true),
        };
        let single_read = op.is_single_read();
        self.counters.count(|cells, add| {
            if let Some((hits, misses)) = read {
                if hits > 0 {
                    add(&cells.hits, hits);
                }
                if misses > 0 {
                    add(&cells.misses, misses);
                }
                if !single_read {
                    add(&cells.batch_keys, hits + misses);
                }
            }
            if failed {
                add(&cells.errors, 1);
            }
            if failed || read.is_none() || !single_read {
                add(&cells.others, 1);
            }
        });
        if let Some((hits, misses)) = read {
            if hits > 0 {
                self.metrics.hits.increment(hits);
            }
            if misses > 0 {
                self.metrics.misses.increment(misses);
            }
            if let Some(span) = span
                && hits + misses == 1
            {
                span.record("hit", hits == 1);
            }
        }
        if let Err(error) = result {
            self.failed(op, span, error);
        }
    }

    #[cold]
    fn failed(&self, op: Op, span: Option<&Span>, error: &CacheError) {
        let kind = error_kind(error);
        metrics::counter!(
            "openviper_cache_errors_total",
            "alias" => self.alias.clone(),
            "backend" => self.backend.clone(),
            "kind" => kind,
        )
        .increment(1);
        if let Some(span) = span {
            span.record("error.kind", kind);
        }
        // The error names the server; backends keep secrets out of their messages.
        tracing::warn!(
            alias = self.alias.as_str(),
            backend = self.backend.as_str(),
            op = op.name(),
            error.kind = kind,
            %error,
            "cache operation failed"
        );
    }

    /// `read_now` when no subscriber wants a span, the in-process hit path: a count, and a
    /// clock read 1 in 64. It is `finish` written out for one read (going through `finish` cost
    /// ~40 more instructions a get, callgrind), and the backend's answer is returned as it came,
    /// never unwrapped and wrapped again: each move of an `Option<Result<bool>>` is a copy of
    /// the whole error's size.
    #[inline]
    fn read_now_quiet(&self, key: &str, reader: &mut dyn FnMut(&[u8])) -> Option<Result<bool>> {
        let started = Self::maybe_time();
        let answer = self.inner.read_now(key, reader);
        match &answer {
            None => {}
            Some(Ok(hit)) => self.count_read(*hit, started),
            Some(Err(error)) => self.read_failed(error, started),
        }
        answer
    }

    /// Counts one quiet read that found (`hit`) or missed its key.
    #[inline]
    fn count_read(&self, hit: bool, started: Option<Instant>) {
        self.counters.count(|cells, add| {
            add(if hit { &cells.hits } else { &cells.misses }, 1);
        });
        if hit {
            self.metrics.hits.increment(1);
        } else {
            self.metrics.misses.increment(1);
        }
        self.count_get(started);
    }

    /// Counts one quiet read as a `get` operation and records its latency when it was timed.
    #[inline]
    fn count_get(&self, started: Option<Instant>) {
        let index = Op::Get as usize;
        self.metrics.operations[index].increment(1);
        if let Some(started) = started {
            self.timed(index, started);
        }
    }

    /// Counts one quiet read that failed.
    #[cold]
    fn read_failed(&self, error: &CacheError, started: Option<Instant>) {
        self.counters.count(|cells, add| {
            add(&cells.errors, 1);
            add(&cells.others, 1);
        });
        self.count_get(started);
        self.failed(Op::Get, None, error);
    }

    /// Runs `operation` as `op`: in its span (when a subscriber wants it), counted and timed.
    async fn observe<T>(
        &self,
        op: Op,
        (key, keys): (Option<&str>, Option<usize>),
        operation: impl Future<Output = Result<T>>,
        reads: impl FnOnce(&T) -> Option<Reads>,
    ) -> Result<T> {
        let span = self.span(op, key, keys);
        let started = Self::maybe_time();
        let result = match &span {
            None => operation.await,
            Some(span) => operation.instrument(span.clone()).await,
        };
        self.finish(op, span.as_ref(), started, &result, reads);
        result
    }
}

fn no_reads<T>(_: &T) -> Option<Reads> {
    None
}

fn one_read(hit: bool) -> Option<Reads> {
    Some((u64::from(hit), u64::from(!hit)))
}

// Every method forwards: a new `BaseCache` method must be forwarded too, never left to a
// default that bypasses the backend's own.
#[deny(clippy::missing_trait_methods)]
#[async_trait]
impl BaseCache for Instrumented {
    async fn get_bytes(&self, key: &str) -> Result<Option<Bytes>> {
        self.observe(
            Op::Get,
            (Some(key), None),
            self.inner.get_bytes(key),
            |found| one_read(found.is_some()),
        )
        .await
    }

    fn read_now(&self, key: &str, reader: &mut dyn FnMut(&[u8])) -> Option<Result<bool>> {
        if !self.reads_now || !tracing::level_enabled!(tracing::Level::DEBUG) {
            return self.read_now_quiet(key, reader);
        }
        let span = self.span(Op::Get, Some(key), None);
        let started = Self::maybe_time();
        let result = match &span {
            None => self.inner.read_now(key, reader)?,
            Some(span) => span.in_scope(|| self.inner.read_now(key, reader))?,
        };
        self.finish(Op::Get, span.as_ref(), started, &result, |hit| {
            one_read(*hit)
        });
        Some(result)
    }

    fn write_now(&self, key: &str, value: &Bytes, ttl: Option<Duration>) -> Option<Result<()>> {
        if !self.writes_now {
            // Undeclared: counted if it answers, never in a span of its own.
            let result = self.inner.write_now(key, value, ttl)?;
            self.finish(Op::Set, None, None, &result, no_reads);
            return Some(result);
        }
        let span = self.span(Op::Set, Some(key), None);
        let started = Self::maybe_time();
        let result = match &span {
            None => self.inner.write_now(key, value, ttl)?,
            Some(span) => span.in_scope(|| self.inner.write_now(key, value, ttl))?,
        };
        self.finish(Op::Set, span.as_ref(), started, &result, no_reads);
        Some(result)
    }

    async fn set_bytes(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<()> {
        self.observe(
            Op::Set,
            (Some(key), None),
            self.inner.set_bytes(key, value, ttl),
            no_reads,
        )
        .await
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        self.observe(
            Op::Delete,
            (Some(key), None),
            self.inner.delete(key),
            no_reads,
        )
        .await
    }

    async fn clear(&self) -> Result<()> {
        self.observe(Op::Clear, (None, None), self.inner.clear(), no_reads)
            .await
    }

    async fn has_key(&self, key: &str) -> Result<bool> {
        self.observe(
            Op::HasKey,
            (Some(key), None),
            self.inner.has_key(key),
            |hit| one_read(*hit),
        )
        .await
    }

    async fn keys(&self, prefix: &str) -> Result<Vec<String>> {
        self.observe(
            Op::Keys,
            (Some(prefix), None),
            self.inner.keys(prefix),
            no_reads,
        )
        .await
    }

    async fn close(&self) -> Result<()> {
        self.observe(Op::Close, (None, None), self.inner.close(), no_reads)
            .await
    }

    async fn get_many_bytes(&self, keys: &[&str]) -> Result<Vec<Option<Bytes>>> {
        self.observe(
            Op::GetMany,
            (None, Some(keys.len())),
            self.inner.get_many_bytes(keys),
            |found| {
                let hits = found.iter().filter(|v| v.is_some()).count() as u64;
                Some((hits, found.len() as u64 - hits))
            },
        )
        .await
    }

    async fn set_many_bytes(&self, items: &[(&str, Bytes)], ttl: Option<Duration>) -> Result<()> {
        self.observe(
            Op::SetMany,
            (None, Some(items.len())),
            self.inner.set_many_bytes(items, ttl),
            no_reads,
        )
        .await
    }

    async fn delete_many(&self, keys: &[&str]) -> Result<u64> {
        self.observe(
            Op::DeleteMany,
            (None, Some(keys.len())),
            self.inner.delete_many(keys),
            no_reads,
        )
        .await
    }

    async fn add_bytes(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<bool> {
        self.observe(
            Op::Add,
            (Some(key), None),
            self.inner.add_bytes(key, value, ttl),
            no_reads,
        )
        .await
    }

    async fn incr(&self, key: &str, delta: i64) -> Result<i64> {
        self.observe(
            Op::Incr,
            (Some(key), None),
            self.inner.incr(key, delta),
            no_reads,
        )
        .await
    }

    async fn touch(&self, key: &str, ttl: Option<Duration>) -> Result<bool> {
        self.observe(
            Op::Touch,
            (Some(key), None),
            self.inner.touch(key, ttl),
            no_reads,
        )
        .await
    }

    async fn ttl(&self, key: &str) -> Result<Option<Duration>> {
        self.observe(Op::Ttl, (Some(key), None), self.inner.ttl(key), no_reads)
            .await
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    fn gauges(&self) -> Gauges {
        self.inner.gauges()
    }
}
