//! `clear_mode = "namespace"`: a random generation, stored in memcached without expiry, that is
//! part of every store key (`key_prefix + generation + ":" + key`). `clear()` writes a new one,
//! so this cache's old keys become unreachable and nothing else in the instance is touched.
//!
//! The generation is random, not a counter: when the server holding it restarts and loses it,
//! the next one chosen can never be an old one, so old entries never become readable again.
//! Each cache object re-reads it every `namespace_refresh_ms` (0: on every operation), so other
//! objects and processes with the same prefix see a clear within that time.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use async_memcached::{AsciiProtocol, Error as McError, Status};
use openviper_cache_core::Result;
use openviper_cache_core::key_prefix::KeyPrefix;

use crate::backend::MemcachedCache;

/// memcached's longest key.
const MAX_KEY_BYTES: usize = 250;
/// A generation: 16 lower-case hex digits.
const GENERATION_LEN: usize = 16;
/// What follows the prefix in the key that holds the generation: never the start of a store
/// key of this cache (those continue with 16 hex digits).
const GENERATION_KEY_SUFFIX: &str = "#generation";

/// `prefix` on memcached: keys of at most 250 bytes of printable ASCII. memcached itself takes
/// any byte but space and controls, but the ASCII protocol's replies name keys, and the
/// client parses only printable ASCII there: a key with other characters is stored hashed.
pub(crate) fn store_limit(prefix: KeyPrefix) -> std::result::Result<KeyPrefix, String> {
    prefix.with_store_limit(MAX_KEY_BYTES, |b| b.is_ascii_graphic())
}

/// The generation in force, and when it was read.
#[derive(Debug)]
struct Current {
    prefix: Arc<KeyPrefix>,
    generation: String,
    read_at: Instant,
}

/// A cache's namespace state.
#[derive(Debug)]
pub(crate) struct Namespace {
    key_prefix: String,
    generation_key: String,
    refresh: Duration,
    current: RwLock<Option<Current>>,
}

impl Namespace {
    /// The namespace of `key_prefix`; `Err` (naming `key_prefix`) when prefix and generation
    /// leave no room for a hashed key.
    pub(crate) fn new(key_prefix: &str, refresh: Duration) -> std::result::Result<Self, String> {
        store_limit(KeyPrefix::new(format!(
            "{key_prefix}{}:",
            "0".repeat(GENERATION_LEN)
        )))?;
        Ok(Self {
            key_prefix: key_prefix.to_owned(),
            generation_key: format!("{key_prefix}{GENERATION_KEY_SUFFIX}"),
            refresh,
            current: RwLock::new(None),
        })
    }

    /// The configured `key_prefix`.
    pub(crate) fn key_prefix(&self) -> &str {
        &self.key_prefix
    }

    /// The key mapping of the generation in force, read from memcached when the last read is
    /// older than `namespace_refresh_ms`.
    pub(crate) async fn current(
        &self,
        cache: &MemcachedCache,
        op: &'static str,
    ) -> Result<Arc<KeyPrefix>> {
        if let Some(current) = &*self.current.read().unwrap_or_else(PoisonError::into_inner)
            && !self.refresh.is_zero()
            && current.read_at.elapsed() < self.refresh
        {
            return Ok(Arc::clone(&current.prefix));
        }
        let generation = match self.read(cache, op).await? {
            Some(generation) => generation,
            None => self.create(cache, op).await?,
        };
        Ok(self.remember(generation))
    }

    /// Starts a new generation (`clear()`): this cache's keys become unreachable.
    pub(crate) async fn renew(&self, cache: &MemcachedCache) -> Result<()> {
        let generation = new_generation();
        let key = self.generation_key.as_str();
        let node = cache_node(cache, key);
        let value = generation.as_str();
        cache
            .run(node, "clear", |mut c| async move {
                let answer = c.set(key, value, Some(0), None).await;
                (c, answer)
            })
            .await?
            .map_err(|error| cache.fail(node, "clear", error))?;
        self.remember(generation);
        Ok(())
    }

    /// The stored generation; `None` when there is none (or it is not one of ours).
    async fn read(&self, cache: &MemcachedCache, op: &'static str) -> Result<Option<String>> {
        let key = self.generation_key.as_str();
        let node = cache_node(cache, key);
        let stored = cache
            .run(node, op, |mut c| async move {
                let answer = c.get(key).await;
                (c, answer)
            })
            .await?
            .map_err(|error| cache.fail(node, op, error))?;
        Ok(stored
            .and_then(|value| value.data)
            .and_then(|data| String::from_utf8(data).ok())
            .filter(|g| is_generation(g)))
    }

    /// Stores a first generation; when another object got there first, its generation.
    async fn create(&self, cache: &MemcachedCache, op: &'static str) -> Result<String> {
        let generation = new_generation();
        let key = self.generation_key.as_str();
        let node = cache_node(cache, key);
        let value = generation.as_str();
        let added = cache
            .run(node, op, |mut c| async move {
                let answer = c.add(key, value, Some(0), None).await;
                (c, answer)
            })
            .await?;
        match added {
            Ok(()) => Ok(generation),
            Err(McError::Protocol(Status::NotStored)) => match self.read(cache, op).await? {
                Some(theirs) => Ok(theirs),
                // Something that is not a generation holds the key: replace it.
                None => {
                    self.renew(cache).await?;
                    Ok(self.generation_or(generation))
                }
            },
            Err(error) => Err(cache.fail(node, op, error)),
        }
    }

    fn generation_or(&self, fallback: String) -> String {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map_or(fallback, |c| c.generation.clone())
    }

    fn remember(&self, generation: String) -> Arc<KeyPrefix> {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(existing) = current.as_mut()
            && existing.generation == generation
        {
            existing.read_at = Instant::now();
            return Arc::clone(&existing.prefix);
        }
        // The length was checked when the namespace was made: this cannot fail.
        let mapping = store_limit(KeyPrefix::new(format!("{}{generation}:", self.key_prefix)))
            .unwrap_or_else(|_| KeyPrefix::new(format!("{}{generation}:", self.key_prefix)));
        let prefix = Arc::new(mapping);
        *current = Some(Current {
            prefix: Arc::clone(&prefix),
            generation,
            read_at: Instant::now(),
        });
        prefix
    }
}

fn cache_node(cache: &MemcachedCache, key: &str) -> usize {
    cache.node_of(key)
}

fn is_generation(text: &str) -> bool {
    text.len() == GENERATION_LEN && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// 64 random bits as 16 hex digits: the process's randomly keyed SipHash over the time and a
/// counter (no dependency, and never the same twice in a process).
fn new_generation() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.write_u32(std::process::id());
    format!("{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_are_fresh_hex_and_fit_every_key() {
        let a = new_generation();
        let b = new_generation();
        assert!(is_generation(&a) && is_generation(&b), "{a} {b}");
        assert_ne!(a, b);
        assert!(Namespace::new("ov:cache:", Duration::ZERO).is_ok());
        let long = "p".repeat(170);
        assert!(
            Namespace::new(&long, Duration::ZERO)
                .unwrap_err()
                .contains("key_prefix")
        );
    }
}
