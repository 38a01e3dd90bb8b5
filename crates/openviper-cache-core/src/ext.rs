//! `CacheExt`: typed get/set on top of any `BaseCache`.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cache::BaseCache;
use crate::codec::{decode, encode};
use crate::error::{CacheError, Result};
use crate::single_flight::{self, Role};
use crate::validation::{validate_cache_key, validate_cache_keys};

/// Typed access to any [`BaseCache`]: values are encoded in the stored form described in
/// [`codec`](crate::codec) (integers as ASCII decimal, everything else as MessagePack with field
/// names), and come back with their exact type.
///
/// Every `BaseCache`, `dyn BaseCache` included, has these methods. Keys are validated before
/// anything is encoded.
///
/// ```
/// use std::time::Duration;
/// use serde::{Deserialize, Serialize};
/// use openviper_cache_core::{CacheExt, CacheManager, CacheSettings};
/// # use openviper_cache_memory as _;
///
/// #[derive(Debug, PartialEq, Serialize, Deserialize)]
/// struct Profile { name: String, visits: u32 }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let cache = CacheManager::new(CacheSettings::default()).get("default")?;
/// let ada = Profile { name: "Ada".into(), visits: 3 };
/// cache.set("profile:1", &ada, Some(Duration::from_secs(60))).await?;
/// assert_eq!(cache.get::<Profile>("profile:1").await?, Some(ada));
/// assert_eq!(cache.get_or("missing", 7u32).await?, 7);
///
/// cache.set("hits", &10i64, None).await?;
/// assert_eq!(cache.incr("hits", 5).await?, 15);
/// assert_eq!(cache.get::<i64>("hits").await?, Some(15));
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// # })
/// # }
/// ```
pub trait CacheExt: BaseCache {
    /// The value of `key` decoded as `T`, or `None` when missing. Bytes of another type or
    /// another program are [`CacheError::Deserialize`], and the entry is kept.
    ///
    /// On an in-process backend `T` is decoded from the stored bytes through
    /// [`BaseCache::read_now`], possibly under the backend's lock: `T`'s `Deserialize` must not
    /// use the cache itself.
    fn get<T: DeserializeOwned>(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<T>>> + Send {
        // get_bytes and read_now validate the key: no second pass here.
        async move {
            if let Some(answer) = decode_now(self, key) {
                return answer;
            }
            match self.get_bytes(key).await? {
                Some(bytes) => decode(key, &bytes).map(Some),
                None => Ok(None),
            }
        }
    }

    /// The value of `key`, or `default` when missing.
    fn get_or<T: DeserializeOwned + Send>(
        &self,
        key: &str,
        default: T,
    ) -> impl Future<Output = Result<T>> + Send {
        async move { Ok(self.get(key).await?.unwrap_or(default)) }
    }

    /// Stores `value` under `key`; `ttl` as in [`BaseCache::set_bytes`].
    fn set<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
        ttl: Option<Duration>,
    ) -> impl Future<Output = Result<()>> + Send {
        let encoded = validate_cache_key(key).and_then(|key| encode(key, value));
        async move {
            let encoded = encoded?;
            if let Some(done) = self.write_now(key, &encoded, ttl) {
                return done;
            }
            self.set_bytes(key, encoded, ttl).await
        }
    }

    /// Stores `value` only if `key` is absent; see [`BaseCache::add_bytes`].
    fn add<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
        ttl: Option<Duration>,
    ) -> impl Future<Output = Result<bool>> + Send {
        let encoded = validate_cache_key(key).and_then(|key| encode(key, value));
        async move { self.add_bytes(key, encoded?, ttl).await }
    }

    /// The values of `keys` decoded as `T`, in the order of `keys`.
    fn get_many<T: DeserializeOwned>(
        &self,
        keys: &[&str],
    ) -> impl Future<Output = Result<Vec<Option<T>>>> + Send {
        async move {
            let values = self.get_many_bytes(keys).await?;
            keys.iter()
                .zip(values)
                .map(|(key, bytes)| bytes.map(|b| decode(key, &b)).transpose())
                .collect()
        }
    }

    /// Stores every item with one `ttl`. Every key is validated and every value encoded before
    /// the first write.
    fn set_many<T: Serialize>(
        &self,
        items: &[(&str, T)],
        ttl: Option<Duration>,
    ) -> impl Future<Output = Result<()>> + Send {
        let encoded: Result<Vec<_>> =
            validate_cache_keys(items.iter().map(|(k, _)| *k)).and_then(|()| {
                items
                    .iter()
                    .map(|(key, value)| Ok((*key, encode(key, value)?)))
                    .collect()
            });
        async move { self.set_many_bytes(&encoded?, ttl).await }
    }

    /// Subtracts `delta`: [`BaseCache::incr`] with `-delta`.
    fn decr(&self, key: &str, delta: i64) -> impl Future<Output = Result<i64>> + Send {
        async move {
            let negated = delta.checked_neg().ok_or_else(|| CacheError::Overflow {
                key: key.to_owned(),
                delta,
            })?;
            self.incr(key, negated).await
        }
    }

    /// The value of `key`; on a miss, runs `loader`, stores its value for `ttl` and returns it.
    ///
    /// Single-flight per cache instance and key: of many concurrent callers that miss, one runs
    /// the loader and the others wait for its value. A loader error reaches every waiter as
    /// [`CacheError::Loader`] and nothing is cached. If storing the loaded value fails, the
    /// callers still get the value and the failure is logged (a cache that cannot store must
    /// not fail the request it was meant to speed up).
    ///
    /// A loader that calls `get_or_set_with` for its own key on the same cache (directly or
    /// through other keys' loaders, in the same task) gets [`CacheError::Loader`] naming the
    /// key at once, instead of waiting for itself forever. A loader that awaits *another task*
    /// doing so cannot be told apart from a slow one: don't.
    ///
    /// ```
    /// use openviper_cache_core::{CacheExt, CacheManager, CacheSettings};
    /// # use openviper_cache_memory as _;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let cache = CacheManager::new(CacheSettings::default()).get("default")?;
    /// let report: String = cache
    ///     .get_or_set_with("report", None, || async { Ok::<_, std::io::Error>("built".to_string()) })
    ///     .await?;
    /// assert_eq!(report, "built");
    /// assert_eq!(cache.get::<String>("report").await?.as_deref(), Some("built"));
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// # })
    /// # }
    /// ```
    fn get_or_set_with<T, E, F, Fut>(
        &self,
        key: &str,
        ttl: Option<Duration>,
        loader: F,
    ) -> impl Future<Output = Result<T>> + Send
    where
        T: Serialize + DeserializeOwned + Send,
        F: FnOnce() -> Fut + Send,
        Fut: Future<Output = std::result::Result<T, E>> + Send,
        E: std::error::Error + Send + Sync + 'static,
    {
        async move {
            validate_cache_key(key)?;
            // The data pointer identifies this instance, however it is reached (`&C`, `Arc<dyn>`).
            let instance = std::ptr::from_ref(self).cast::<()>() as usize;
            let mut loader = Some(loader);
            loop {
                if let Some(value) = self.get::<T>(key).await? {
                    return Ok(value);
                }
                if single_flight::is_loading(instance, key) {
                    // Called from its own loader: joining the flight would wait on itself.
                    return Err(CacheError::Loader {
                        key: key.to_owned(),
                        source: Arc::new(ReentrantLoad),
                    });
                }
                match single_flight::join(instance, key) {
                    Role::Follower(rx) => match single_flight::wait(rx).await {
                        Some(Ok(bytes)) => return decode(key, &bytes),
                        Some(Err(source)) => {
                            return Err(CacheError::Loader {
                                key: key.to_owned(),
                                source,
                            });
                        }
                        // The leader was cancelled: look again, and lead if still missing.
                        None => continue,
                    },
                    Role::Leader(leader) => {
                        // Another flight may have stored the value between our miss and our join.
                        if let Some(value) = self.get::<T>(key).await? {
                            leader.finish(encode(key, &value).map_err(|e| Arc::new(e) as _));
                            return Ok(value);
                        }
                        let Some(loader) = loader.take() else {
                            // Unreachable: a caller leads at most once, as it returns below.
                            continue;
                        };
                        return match single_flight::run_loader(instance, key, loader()).await {
                            Ok(value) => {
                                let encoded = encode(key, &value)?;
                                if let Err(error) = self.set_bytes(key, encoded.clone(), ttl).await
                                {
                                    tracing::warn!(key, %error, "get_or_set_with: storing the loaded value failed");
                                }
                                leader.finish(Ok(encoded));
                                Ok(value)
                            }
                            Err(error) => {
                                let source: Arc<dyn std::error::Error + Send + Sync> =
                                    Arc::new(error);
                                leader.finish(Err(source.clone()));
                                Err(CacheError::Loader {
                                    key: key.to_owned(),
                                    source,
                                })
                            }
                        };
                    }
                }
            }
        }
    }
}

impl<C: BaseCache + ?Sized> CacheExt for C {}

/// The error a re-entrant `get_or_set_with` gets.
#[derive(Debug)]
struct ReentrantLoad;

impl std::fmt::Display for ReentrantLoad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(
            "get_or_set_with was called for this key from its own loader, which would wait \
             for itself forever",
        )
    }
}

impl std::error::Error for ReentrantLoad {}

/// A typed read through [`BaseCache::read_now`]: `None` when the backend has no synchronous
/// path. The value is decoded from the bytes the backend lends, so an in-process hit copies
/// them once, into `T`.
#[inline(always)]
fn decode_now<C: BaseCache + ?Sized, T: DeserializeOwned>(
    cache: &C,
    key: &str,
) -> Option<Result<Option<T>>> {
    let mut decoded = Ok(None);
    let answer = cache.read_now(key, &mut |bytes| decoded = decode(key, bytes).map(Some));
    Some(answer?.and(decoded))
}
