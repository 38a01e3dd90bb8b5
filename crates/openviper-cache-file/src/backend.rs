//! `FileCache`: construction and `impl BaseCache`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as SyncMutex, PoisonError, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use openviper_cache_core::counter::{format_counter, next_counter};
use openviper_cache_core::size::{check_value_size, refuse_oversized};
use openviper_cache_core::ttl::{Expiry, Lifetime};
use openviper_cache_core::validation::validate_cache_keys;
use openviper_cache_core::{
    BackendConfig, BaseCache, Bytes, CacheError, Capabilities, ClearScope, Result, async_trait,
    validate_cache_key,
};
use tokio::sync::{Mutex, Semaphore};

use crate::disk::{self, Found, IoResult};
use crate::entry;
use crate::layout::Layout;
use crate::options::FileOptions;

/// Blocking file operations under way at once, per cache: enough to keep a disk busy, few
/// enough that 64 callers queue here instead of in the blocking pool (an unbounded fan-out of
/// `spawn_blocking` gave a 32 ms p99 at 64 tasks on 2 cores).
const IO_CONCURRENCY: usize = 8;
/// In-process stripes of the `add`/`incr`/`touch` lock (each also takes its stripe's lock file).
const STRIPES: usize = 256;
/// A temporary file older than this was left by a crash: the sweep and the cull remove it.
const STALE_TEMP: Duration = Duration::from_secs(60);
/// Expiry is stored in milliseconds.
const TTL_RESOLUTION: Duration = Duration::from_millis(1);

/// A cache of one file per entry under `cache_dir`.
///
/// File names are a fixed-length hash of prefix and key, fanned out in two levels of folders
/// (see [`safe_filename`](crate::safe_filename)), so any valid key works and none can name a
/// path. Each file holds a checksummed header with the original key and the expiry, then the
/// value: a file cut short or changed anywhere is corrupt, a miss, and removed. Writes go to a
/// temporary file renamed into place, so a reader, in this process or another, sees the old
/// value or the new one, never a mix. Each `key_prefix` has a folder of its own: `clear()`,
/// `keys()`, culling and sweeping touch only that folder's files of this naming scheme.
/// Folders are created 0700, files 0600. Blocking I/O runs on tokio's blocking pool, at most 8
/// operations at once per cache. `add`, `incr` and `touch` hold a per-key-stripe lock, in this
/// process (a mutex) and across processes (`flock` on a lock file): they are atomic for every
/// process sharing the folder.
///
/// ```
/// use openviper_cache_core::{BaseCache, CacheExt};
/// use openviper_cache_file::{FileCache, FileOptions};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let dir = std::env::temp_dir().join(format!("ov-file-doc-{}", std::process::id()));
/// let cache = FileCache::new(FileOptions { cache_dir: dir.clone(), ..FileOptions::default() }).unwrap();
/// cache.set("greeting", "hello", None).await.unwrap();
/// assert_eq!(cache.get::<String>("greeting").await.unwrap().as_deref(), Some("hello"));
/// assert_eq!(cache.incr("visits", 2).await.unwrap(), 2);
/// assert_eq!(cache.keys("gr").await.unwrap(), vec!["greeting"]);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # });
/// ```
pub struct FileCache {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    cache_dir: PathBuf,
    layout: Layout,
    default_ttl: Option<Duration>,
    max_entries: u64,
    max_value_bytes: Option<usize>,
    sweep_every: Option<Duration>,
    io: Semaphore,
    stripes: Vec<Mutex<()>>,
    /// Entries of this prefix, as counted by the last walk plus what this object created since;
    /// `None` until the first write counts them.
    entries: SyncMutex<Option<u64>>,
    culling: Mutex<()>,
    sweeping: AtomicBool,
}

impl std::fmt::Debug for FileCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileCache")
            .field("cache_dir", &self.inner.cache_dir)
            .field("folder", &self.inner.layout.root())
            .field("default_ttl", &self.inner.default_ttl)
            .field("max_entries", &self.inner.max_entries)
            .finish_non_exhaustive()
    }
}

pub(crate) fn build(config: &BackendConfig) -> Result<Arc<dyn BaseCache>> {
    let options: FileOptions = config.options()?;
    Ok(Arc::new(FileCache::build(options, &config.alias)?))
}

impl FileCache {
    /// A cache for `options`; `Config` errors name the option (and, as no alias names this
    /// cache, the folder). Nothing touches the disk until the first operation.
    ///
    /// ```
    /// use openviper_cache_file::{FileCache, FileOptions};
    /// let err = FileCache::new(FileOptions { max_entries: 0, ..FileOptions::default() }).unwrap_err();
    /// assert!(err.to_string().contains("max_entries"));
    /// ```
    pub fn new(options: FileOptions) -> Result<Self> {
        let alias = format!("FileCache({})", options.cache_dir.display());
        Self::build(options, &alias)
    }

    fn build(options: FileOptions, alias: &str) -> Result<Self> {
        let config = |message: &str| CacheError::config(alias, message);
        if options.cache_dir.as_os_str().is_empty() {
            return Err(config("cache_dir: must not be empty"));
        }
        if options.max_entries == 0 {
            return Err(config("max_entries: must be at least 1"));
        }
        if options.max_value_bytes == Some(0) {
            return Err(config("max_value_bytes: must be at least 1"));
        }
        if options.sweep_interval_s == Some(0) {
            return Err(config(
                "sweep_interval_s: must be at least 1 (or absent: no sweep)",
            ));
        }
        let layout = Layout::new(&options.cache_dir, options.key_prefix());
        Ok(Self {
            inner: Arc::new(Inner {
                name: format!("FileCache({})", options.cache_dir.display()),
                layout,
                cache_dir: options.cache_dir,
                default_ttl: options.ttl,
                max_entries: options.max_entries,
                max_value_bytes: options.max_value_bytes,
                sweep_every: options.sweep_interval_s.map(Duration::from_secs),
                io: Semaphore::new(IO_CONCURRENCY),
                stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
                entries: SyncMutex::new(None),
                culling: Mutex::new(()),
                sweeping: AtomicBool::new(false),
            }),
        })
    }

    /// The folder this cache's entries live in (under `cache_dir`, one per `key_prefix`).
    pub fn folder(&self) -> &Path {
        self.inner.layout.root()
    }

    /// The file that holds `key`.
    pub fn path_of(&self, key: &str) -> PathBuf {
        self.inner.layout.entry(key).1
    }

    /// Runs `work` on the blocking pool, at most [`IO_CONCURRENCY`] at once per cache.
    async fn blocking<T: Send + 'static>(
        &self,
        op: &'static str,
        work: impl FnOnce(&Inner) -> IoResult<T> + Send + 'static,
    ) -> Result<T> {
        self.start_sweeper();
        let inner = Arc::clone(&self.inner);
        let _permit = self
            .inner
            .io
            .acquire()
            .await
            .map_err(|e| CacheError::backend(self.inner.name.clone(), op, e))?;
        let done = tokio::task::spawn_blocking(move || work(&inner)).await;
        match done {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(CacheError::backend(self.inner.name.clone(), op, error)),
            Err(join) => Err(CacheError::backend(self.inner.name.clone(), op, join)),
        }
    }

    /// Starts the background sweep on first use, when `sweep_interval_s` is set. It holds only
    /// a weak reference: dropping the cache ends it.
    fn start_sweeper(&self) {
        let Some(every) = self.inner.sweep_every else {
            return;
        };
        if self.inner.sweeping.swap(true, Ordering::AcqRel) {
            return;
        }
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(inner) = weak.upgrade() else { break };
                let swept = tokio::task::spawn_blocking(move || {
                    let live = disk::sweep(&inner.layout, now_ms(), STALE_TEMP);
                    if let Ok(live) = &live {
                        *inner.entries.lock().unwrap_or_else(PoisonError::into_inner) =
                            Some(live.len() as u64);
                    }
                    live.map(|live| live.len())
                })
                .await;
                if let Ok(Err(error)) = swept {
                    tracing::warn!(%error, "FileCache sweep failed");
                }
            }
        });
    }

    /// Counts a new entry file; over `max_entries`, culls.
    async fn created(&self, new_files: u64) -> Result<()> {
        if new_files == 0 {
            return Ok(());
        }
        let over = {
            let mut entries = self
                .inner
                .entries
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match entries.as_mut() {
                Some(count) => {
                    *count += new_files;
                    *count > self.inner.max_entries
                }
                // Not counted yet: the cull's walk counts.
                None => true,
            }
        };
        if over {
            self.cull().await?;
        }
        Ok(())
    }

    /// Removes expired entries and stale temporary files; if still over `max_entries`, the
    /// oldest third of the entries (by modification time), as Django's file cache culls.
    async fn cull(&self) -> Result<()> {
        let Ok(_culling) = self.inner.culling.try_lock() else {
            // Another write is culling already.
            return Ok(());
        };
        self.blocking("cull", |inner| {
            let mut live = disk::sweep(&inner.layout, now_ms(), STALE_TEMP)?;
            if live.len() as u64 > inner.max_entries {
                live.sort_by_key(|file| file.modified);
                let remove = (live.len() / 3).max(live.len() - inner.max_entries as usize);
                for file in live.drain(..remove) {
                    disk::remove(&file.path)?;
                }
            }
            *inner.entries.lock().unwrap_or_else(PoisonError::into_inner) = Some(live.len() as u64);
            Ok(())
        })
        .await
    }

    fn lifetime(&self, ttl: Option<Duration>) -> Lifetime {
        Lifetime::resolve(ttl, self.inner.default_ttl)
    }

    /// The stripe lock of `key`, in this process.
    fn stripe(&self, key: &str) -> &Mutex<()> {
        let (stripe, _) = self.inner.layout.lock(key);
        &self.inner.stripes[stripe % STRIPES]
    }
}

/// Ms since the Unix epoch, now.
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// When an entry written now with `expiry` expires (ms since the epoch); `None` = never.
fn expires_at(expiry: Expiry) -> Option<u64> {
    expiry.as_millis().map(|ms| now_ms().saturating_add(ms))
}

/// The live value of `key` in its file, removing the file when it is corrupt, foreign or
/// expired. A file holding another key (a hash collision) is a miss and is left alone.
fn load(inner: &Inner, key: &str) -> IoResult<Option<(Option<u64>, Bytes)>> {
    let (_, path) = inner.layout.entry(key);
    match disk::read(&path)? {
        Found::Missing => Ok(None),
        Found::Broken => {
            disk::remove(&path)?;
            Ok(None)
        }
        Found::Entry(bytes) => {
            let Some(found) = disk::entry_of(&bytes) else {
                return Ok(None);
            };
            if found.key != key {
                return Ok(None);
            }
            if !found.is_live_at(now_ms()) {
                disk::remove(&path)?;
                return Ok(None);
            }
            let expires_at = found.expires_at;
            let start = entry::HEADER_LEN + found.key.len();
            Ok(Some((expires_at, Bytes::from(bytes).slice(start..))))
        }
    }
}

/// Stores `value` under `key`; `true` when the file is new.
fn store(inner: &Inner, key: &str, value: &[u8], expires: Option<u64>) -> IoResult<bool> {
    disk::write(&inner.layout, key, &entry::encode(key, value, expires))
}

/// Removes `key`'s file; `true` when it held the live entry of `key`.
fn discard(inner: &Inner, key: &str) -> IoResult<bool> {
    let live = load(inner, key)?.is_some();
    let (_, path) = inner.layout.entry(key);
    if live {
        disk::remove(&path)?;
    }
    Ok(live)
}

#[async_trait]
impl BaseCache for FileCache {
    async fn get_bytes(&self, key: &str) -> Result<Option<Bytes>> {
        validate_cache_key(key)?;
        let key = key.to_owned();
        let found = self.blocking("get", move |inner| load(inner, &key)).await?;
        Ok(found.map(|(_, value)| value))
    }

    async fn set_bytes(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<()> {
        validate_cache_key(key)?;
        refuse_oversized(key, value.len(), self.inner.max_value_bytes, || {
            self.delete(key)
        })
        .await?;
        let expiry = self.lifetime(ttl).expiry(TTL_RESOLUTION);
        let owned = key.to_owned();
        if expiry == Expiry::Delete {
            return self
                .blocking("set", move |inner| discard(inner, &owned))
                .await
                .map(drop);
        }
        let created = self
            .blocking("set", move |inner| {
                store(inner, &owned, &value, expires_at(expiry))
            })
            .await?;
        self.created(u64::from(created)).await
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        validate_cache_key(key)?;
        let key = key.to_owned();
        self.blocking("delete", move |inner| discard(inner, &key))
            .await
    }

    async fn clear(&self) -> Result<()> {
        self.blocking("clear", |inner| {
            for file in disk::walk(&inner.layout)? {
                disk::remove(&file.path)?;
            }
            *inner.entries.lock().unwrap_or_else(PoisonError::into_inner) = Some(0);
            Ok(())
        })
        .await
    }

    async fn keys(&self, prefix: &str) -> Result<Vec<String>> {
        let prefix = prefix.to_owned();
        self.blocking("keys", move |inner| {
            let now = now_ms();
            let mut keys = Vec::new();
            for file in disk::walk(&inner.layout)? {
                if file.temp {
                    continue;
                }
                let Some((expires, key)) = disk::peek(&file.path)? else {
                    continue;
                };
                // Only a file whose name is this key's digest is this key's entry.
                let ours = inner.layout.entry(&key).1 == file.path;
                if ours && expires.is_none_or(|at| now < at) && key.starts_with(&prefix) {
                    keys.push(key);
                }
            }
            keys.sort_unstable();
            Ok(keys)
        })
        .await
    }

    async fn get_many_bytes(&self, keys: &[&str]) -> Result<Vec<Option<Bytes>>> {
        validate_cache_keys(keys.iter().copied())?;
        let keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        self.blocking("get_many", move |inner| {
            keys.iter()
                .map(|key| Ok(load(inner, key)?.map(|(_, value)| value)))
                .collect()
        })
        .await
    }

    async fn set_many_bytes(&self, items: &[(&str, Bytes)], ttl: Option<Duration>) -> Result<()> {
        validate_cache_keys(items.iter().map(|(key, _)| *key))?;
        for (key, value) in items {
            refuse_oversized(key, value.len(), self.inner.max_value_bytes, || {
                self.delete(key)
            })
            .await?;
        }
        let expiry = self.lifetime(ttl).expiry(TTL_RESOLUTION);
        let items: Vec<(String, Bytes)> = items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        let created = self
            .blocking("set_many", move |inner| {
                let mut created = 0;
                for (key, value) in &items {
                    if expiry == Expiry::Delete {
                        discard(inner, key)?;
                    } else {
                        created += u64::from(store(inner, key, value, expires_at(expiry))?);
                    }
                }
                Ok(created)
            })
            .await?;
        self.created(created).await
    }

    async fn delete_many(&self, keys: &[&str]) -> Result<u64> {
        validate_cache_keys(keys.iter().copied())?;
        let keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        self.blocking("delete_many", move |inner| {
            let mut removed = 0;
            for key in &keys {
                removed += u64::from(discard(inner, key)?);
            }
            Ok(removed)
        })
        .await
    }

    async fn add_bytes(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<bool> {
        validate_cache_key(key)?;
        // An add never replaces a value, so a refused one leaves the old value alone.
        check_value_size(key, value.len(), self.inner.max_value_bytes)?;
        let expiry = self.lifetime(ttl).expiry(TTL_RESOLUTION);
        let _stripe = self.stripe(key).lock().await;
        let owned = key.to_owned();
        let (added, created) = self
            .blocking("add", move |inner| {
                disk::locked(&inner.layout, &owned, || {
                    if load(inner, &owned)?.is_some() {
                        return Ok((false, false));
                    }
                    if expiry == Expiry::Delete {
                        return Ok((true, false));
                    }
                    Ok((true, store(inner, &owned, &value, expires_at(expiry))?))
                })
            })
            .await?;
        self.created(u64::from(created)).await?;
        Ok(added)
    }

    async fn incr(&self, key: &str, delta: i64) -> Result<i64> {
        validate_cache_key(key)?;
        let new_expiry = self.lifetime(None).expiry(TTL_RESOLUTION);
        let max_value_bytes = self.inner.max_value_bytes;
        let _stripe = self.stripe(key).lock().await;
        let owned = key.to_owned();
        let outcome = self
            .blocking("incr", move |inner| {
                disk::locked(&inner.layout, &owned, || {
                    let current = load(inner, &owned)?;
                    let next = next_counter(&owned, current.as_ref().map(|(_, v)| &v[..]), delta);
                    let Ok(next) = next else {
                        return Ok(next.map(|n| (n, false)));
                    };
                    let stored = format_counter(next);
                    if let Err(refused) = check_value_size(&owned, stored.len(), max_value_bytes) {
                        return Ok(Err(refused));
                    }
                    // An existing counter keeps its expiry; a new one gets the alias default.
                    let expires = match &current {
                        Some((expires, _)) => *expires,
                        None => expires_at(new_expiry),
                    };
                    let created = store(inner, &owned, &stored, expires)?;
                    Ok(Ok((next, created)))
                })
            })
            .await?;
        let (next, created) = outcome?;
        self.created(u64::from(created)).await?;
        Ok(next)
    }

    async fn touch(&self, key: &str, ttl: Option<Duration>) -> Result<bool> {
        validate_cache_key(key)?;
        let expiry = self.lifetime(ttl).expiry(TTL_RESOLUTION);
        let _stripe = self.stripe(key).lock().await;
        let owned = key.to_owned();
        self.blocking("touch", move |inner| {
            disk::locked(&inner.layout, &owned, || {
                let Some((_, value)) = load(inner, &owned)? else {
                    return Ok(false);
                };
                if expiry == Expiry::Delete {
                    discard(inner, &owned)?;
                } else {
                    store(inner, &owned, &value, expires_at(expiry))?;
                }
                Ok(true)
            })
        })
        .await
    }

    async fn ttl(&self, key: &str) -> Result<Option<Duration>> {
        validate_cache_key(key)?;
        let key = key.to_owned();
        let found = self.blocking("ttl", move |inner| load(inner, &key)).await?;
        Ok(found.map(|(expires_at, _)| match expires_at {
            None => openviper_cache_core::FOREVER,
            Some(at) => Duration::from_millis(at.saturating_sub(now_ms())),
        }))
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
            .with_remaining_ttl(true)
            .with_list_keys(true)
            .with_clear(ClearScope::Namespace)
            .with_atomic_add(true)
            .with_atomic_incr(true)
            .with_shared(true)
            .with_max_value_bytes(self.inner.max_value_bytes)
            .with_ttl_resolution(TTL_RESOLUTION)
    }
}
