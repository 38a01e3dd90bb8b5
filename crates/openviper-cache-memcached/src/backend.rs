//! `MemcachedCache`: construction and `impl BaseCache`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_memcached::{AsciiProtocol, Error as McError, MetaProtocol, MetaValue, Status};
use openviper_cache_core::counter::{format_counter, next_counter};
use openviper_cache_core::deadline::within_at;
use openviper_cache_core::key_prefix::KeyPrefix;
use openviper_cache_core::size::{check_value_size, refuse_oversized, remove_after_refusal};
use openviper_cache_core::ttl::{Expiry, Lifetime};
use openviper_cache_core::validation::validate_cache_keys;
use openviper_cache_core::{
    BackendConfig, BaseCache, Bytes, CacheError, Capabilities, ClearScope, Gauges, Result,
    async_trait, validate_cache_key,
};
use tokio::time::Instant;

use crate::errors::{breaks_connection, is_too_large, to_cache_error};
use crate::ketama::Ring;
use crate::namespace::{Namespace, store_limit};
use crate::options::{ClearMode, MemcachedOptions};
use crate::pool::{self, Connection, Pool};

/// memcached counts expiry in whole seconds.
const TTL_RESOLUTION: Duration = Duration::from_secs(1);
/// memcached reads an exptime past this many seconds (30 days) as an absolute Unix time.
const LONGEST_RELATIVE_EXPTIME: u64 = 30 * 24 * 3_600;
/// How many times `incr` retries its compare-and-swap when other writers got there first.
const INCR_ATTEMPTS: usize = 1_000;

/// A cache on one or several memcached servers, through a pool of async-memcached clients per
/// server.
///
/// Keys are `key_prefix + key`, hashed to a fixed length where memcached's 250-byte limit
/// would break (core's `KeyPrefix`); with several `servers`, ketama consistent hashing
/// (libmemcached's) picks each key's server, and a server that is down is an error for its
/// keys, never a silent move to another server. `clear()` is `flush_all` (as in OpenViper) or,
/// with `clear_mode = "namespace"`, a new random generation that is part of every store key.
/// `incr` keeps the i64 semantics (negative values, overflow refused) with a compare-and-swap
/// loop on the ASCII-decimal value.
///
/// ```no_run
/// use openviper_cache_core::CacheExt;
/// use openviper_cache_memcached::{MemcachedCache, MemcachedOptions};
/// # async fn demo() -> openviper_cache_core::Result<()> {
/// let cache = MemcachedCache::new(MemcachedOptions {
///     servers: vec!["127.0.0.1:11211".into(), "127.0.0.1:11212".into()],
///     ..MemcachedOptions::default()
/// })?;
/// cache.set("greeting", "hello", None).await?;
/// assert_eq!(cache.get::<String>("greeting").await?.as_deref(), Some("hello"));
/// # Ok(())
/// # }
/// ```
pub struct MemcachedCache {
    name: String,
    nodes: Vec<Node>,
    ring: Ring,
    keys: Keys,
    default_ttl: Option<Duration>,
    timeout: Duration,
    max_value_bytes: usize,
}

/// One server: its pool, and its name in messages.
struct Node {
    name: String,
    pool: Pool,
}

/// The key mapping one operation uses.
enum Prefix<'a> {
    /// The fixed prefix of `flush_all` mode.
    Fixed(&'a KeyPrefix),
    /// The generation in force in `namespace` mode.
    Generation(Arc<KeyPrefix>),
}

impl std::ops::Deref for Prefix<'_> {
    type Target = KeyPrefix;
    fn deref(&self) -> &KeyPrefix {
        match self {
            Prefix::Fixed(prefix) => prefix,
            Prefix::Generation(prefix) => prefix,
        }
    }
}

/// How user keys become store keys.
enum Keys {
    /// `key_prefix + key`.
    Plain(KeyPrefix),
    /// `key_prefix + generation + ":" + key`, the generation read from memcached.
    Namespaced(Namespace),
}

impl std::fmt::Debug for MemcachedCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (prefix, clear_mode) = match &self.keys {
            Keys::Plain(prefix) => (prefix.as_str(), ClearMode::FlushAll),
            Keys::Namespaced(namespace) => (namespace.key_prefix(), ClearMode::Namespace),
        };
        f.debug_struct("MemcachedCache")
            .field("name", &self.name)
            .field("key_prefix", &prefix)
            .field("clear_mode", &clear_mode)
            .field("default_ttl", &self.default_ttl)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

pub(crate) fn build(config: &BackendConfig) -> Result<Arc<dyn BaseCache>> {
    let options: MemcachedOptions = config.options()?;
    Ok(Arc::new(MemcachedCache::build(options, &config.alias)?))
}

impl MemcachedCache {
    /// A cache for `options`; `Config` errors name the option at fault and, as no settings
    /// alias names this cache, the servers it was to reach. Nothing connects until the first
    /// operation.
    ///
    /// ```
    /// use openviper_cache_memcached::{MemcachedCache, MemcachedOptions};
    /// let err = MemcachedCache::new(MemcachedOptions { pool_size: 0, ..MemcachedOptions::default() }).unwrap_err();
    /// assert!(err.to_string().contains("pool_size"));
    /// ```
    pub fn new(options: MemcachedOptions) -> Result<Self> {
        let alias = match options.servers() {
            Ok(servers) => format!("MemcachedCache({})", list(&servers)),
            Err(_) => "MemcachedCache".to_owned(),
        };
        Self::build(options, &alias)
    }

    fn build(options: MemcachedOptions, alias: &str) -> Result<Self> {
        let config = |message: String| CacheError::config(alias, message);
        let servers = options.servers().map_err(config)?;
        for (option, value) in [
            ("pool_size", options.pool_size as u64),
            ("timeout_ms", options.timeout_ms),
            ("connect_timeout_ms", options.connect_timeout_ms),
            ("max_value_bytes", options.max_value_bytes as u64),
        ] {
            if value == 0 {
                return Err(config(format!(
                    "{option}: must be at least 1 (there is no \"unlimited\")"
                )));
            }
        }
        let connect_timeout = Duration::from_millis(options.connect_timeout_ms);
        let nodes = servers
            .iter()
            .map(|server| {
                Ok(Node {
                    name: format!("MemcachedCache({server})"),
                    pool: pool::build(server, options.pool_size, connect_timeout)
                        .map_err(config)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let prefix = options.key_prefix();
        let keys = match options.clear_mode {
            ClearMode::FlushAll => {
                Keys::Plain(store_limit(KeyPrefix::new(prefix)).map_err(config)?)
            }
            ClearMode::Namespace => Keys::Namespaced(
                Namespace::new(prefix, Duration::from_millis(options.namespace_refresh_ms))
                    .map_err(config)?,
            ),
        };
        Ok(Self {
            name: format!("MemcachedCache({})", list(&servers)),
            ring: Ring::new(&servers),
            nodes,
            keys,
            default_ttl: options.ttl,
            timeout: Duration::from_millis(options.timeout_ms),
            max_value_bytes: options.max_value_bytes,
        })
    }

    /// The server (index) that holds `store_key`.
    pub(crate) fn node_of(&self, store_key: &str) -> usize {
        if self.nodes.len() == 1 {
            0
        } else {
            self.ring.route(store_key.as_bytes())
        }
    }

    /// The key mapping in force: the current generation's in namespace mode.
    /// Borrowed in `flush_all` mode: a shared reference count touched by every operation would
    /// move one cache line between the cores on every call.
    async fn key_prefix(&self, op: &'static str) -> Result<Prefix<'_>> {
        match &self.keys {
            Keys::Plain(prefix) => Ok(Prefix::Fixed(prefix)),
            Keys::Namespaced(namespace) => {
                namespace.current(self, op).await.map(Prefix::Generation)
            }
        }
    }

    /// Runs `work` on a connection of node `node`, all of it (waiting for a pooled connection,
    /// connecting one when none is idle, the command) within `timeout_ms`, under one timer. The
    /// outer `Result` is the timeout or a failed checkout; the inner one the command's own
    /// answer. A connection whose command failed in a way that leaves its state unknown is
    /// dropped, never pooled again; one cut short by the timeout has closed itself (async-memcached
    /// 0.9 closes a client whose operation did not finish), and the pool drops it.
    pub(crate) async fn run<T, F, Fut>(
        &self,
        node: usize,
        op: &'static str,
        work: F,
    ) -> Result<std::result::Result<T, McError>>
    where
        F: FnOnce(Connection) -> Fut,
        Fut: Future<Output = (Connection, std::result::Result<T, McError>)>,
    {
        let node = &self.nodes[node];
        let at = Instant::now() + self.timeout;
        let mut conn = within_at(&node.name, op, at, self.timeout, node.pool.get())
            .await?
            .map_err(|error| pool_error(&node.name, op, error))?;
        let mut deadline = conn.lend_deadline();
        let (mut conn, answer) = deadline
            .run(&node.name, op, at, self.timeout, work(conn))
            .await?;
        match &answer {
            Err(error) if breaks_connection(error) => drop(Connection::take(conn)),
            _ => conn.return_deadline(deadline),
        }
        Ok(answer)
    }

    /// The error for a failed command on node `node`.
    pub(crate) fn fail(&self, node: usize, op: &'static str, error: McError) -> CacheError {
        to_cache_error(&self.nodes[node].name, op, error)
    }

    fn lifetime(&self, ttl: Option<Duration>) -> Lifetime {
        Lifetime::resolve(ttl, self.default_ttl)
    }

    /// Deletes one store key; `true` when it held a live entry.
    async fn delete_store_key(&self, store_key: &str, op: &'static str) -> Result<bool> {
        let node = self.node_of(store_key);
        match self
            .run(node, op, |mut c| async move {
                let answer = c.delete(store_key).await;
                (c, answer)
            })
            .await?
        {
            Ok(()) => Ok(true),
            Err(McError::Protocol(Status::NotFound)) => Ok(false),
            Err(error) => Err(self.fail(node, op, error)),
        }
    }

    /// Store keys grouped by node, each with its position in the request.
    fn by_node<'k>(&self, store_keys: &'k [String]) -> HashMap<usize, Vec<(usize, &'k str)>> {
        let mut groups: HashMap<usize, Vec<(usize, &str)>> = HashMap::new();
        for (at, key) in store_keys.iter().enumerate() {
            groups
                .entry(self.node_of(key))
                .or_default()
                .push((at, key.as_str()));
        }
        groups
    }

    /// Stores one value; a value the server refuses as too large is `ValueTooLarge`, after the
    /// key's old value is removed.
    async fn store(&self, key: &str, store_key: &str, value: &[u8], exptime: i64) -> Result<()> {
        let node = self.node_of(store_key);
        let answer = self
            .run(node, "set", |mut c| async move {
                let answer = c.set(store_key, value, Some(exptime), None).await;
                (c, answer)
            })
            .await?;
        match answer {
            Ok(()) => Ok(()),
            Err(error) if is_too_large(&error) => Err(remove_after_refusal(
                refused_by_server(key, value.len()),
                || self.delete_store_key(store_key, "set"),
            )
            .await),
            Err(error) => Err(self.fail(node, "set", error)),
        }
    }
}

#[async_trait]
impl BaseCache for MemcachedCache {
    async fn get_bytes(&self, key: &str) -> Result<Option<Bytes>> {
        validate_cache_key(key)?;
        let prefix = self.key_prefix("get").await?;
        let store_key = prefix.store_key(key);
        let node = self.node_of(&store_key);
        let store_key = &*store_key;
        match self
            .run(node, "get", |mut c| async move {
                let answer = c.get(store_key).await;
                (c, answer)
            })
            .await?
        {
            Ok(value) => Ok(value.map(|v| Bytes::from(v.data.unwrap_or_default()))),
            Err(error) => Err(self.fail(node, "get", error)),
        }
    }

    async fn set_bytes(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<()> {
        validate_cache_key(key)?;
        refuse_oversized(key, value.len(), Some(self.max_value_bytes), || {
            self.delete(key)
        })
        .await?;
        let prefix = self.key_prefix("set").await?;
        let store_key = prefix.store_key(key);
        match exptime(self.lifetime(ttl).expiry(TTL_RESOLUTION)) {
            None => self.delete_store_key(&store_key, "set").await.map(drop),
            Some(exptime) => self.store(key, &store_key, &value, exptime).await,
        }
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        validate_cache_key(key)?;
        let prefix = self.key_prefix("delete").await?;
        self.delete_store_key(&prefix.store_key(key), "delete")
            .await
    }

    async fn clear(&self) -> Result<()> {
        match &self.keys {
            Keys::Namespaced(namespace) => namespace.renew(self).await,
            Keys::Plain(_) => {
                for node in 0..self.nodes.len() {
                    self.run(node, "clear", |mut c| async move {
                        let answer = c.flush_all().await;
                        (c, answer)
                    })
                    .await?
                    .map_err(|error| self.fail(node, "clear", error))?;
                }
                Ok(())
            }
        }
    }

    async fn has_key(&self, key: &str) -> Result<bool> {
        validate_cache_key(key)?;
        let prefix = self.key_prefix("has_key").await?;
        let store_key = prefix.store_key(key);
        let node = self.node_of(&store_key);
        let store_key = &*store_key;
        // `mg <key> k`: the key back on a hit, no value sent.
        match self
            .run(node, "has_key", |mut c| async move {
                let answer = c.meta_get(store_key, false, None, Some(&["k"])).await;
                (c, answer)
            })
            .await?
        {
            Ok(answer) => Ok(hit(answer).is_some()),
            Err(error) => Err(self.fail(node, "has_key", error)),
        }
    }

    async fn close(&self) -> Result<()> {
        // Idle connections are closed; the pools stay usable, so a later call reconnects.
        for node in &self.nodes {
            node.pool.retain(|_, _| false);
        }
        Ok(())
    }

    async fn get_many_bytes(&self, keys: &[&str]) -> Result<Vec<Option<Bytes>>> {
        validate_cache_keys(keys.iter().copied())?;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let prefix = self.key_prefix("get_many").await?;
        let store_keys: Vec<String> = keys
            .iter()
            .map(|k| prefix.store_key(k).into_owned())
            .collect();
        let groups = self.by_node(&store_keys);
        // One multi-get per server, the servers at once.
        let answers = futures::future::join_all(groups.iter().map(|(&node, group)| async move {
            let wanted: Vec<&str> = group.iter().map(|(_, key)| *key).collect();
            let answer = self
                .run(node, "get_many", |mut c| async move {
                    let answer = c.get_multi(&wanted).await;
                    (c, answer)
                })
                .await;
            (node, answer)
        }))
        .await;
        let mut found: HashMap<Vec<u8>, Bytes> = HashMap::new();
        for (node, answer) in answers {
            match answer? {
                Ok(values) => found.extend(
                    values
                        .into_iter()
                        .map(|v| (v.key, Bytes::from(v.data.unwrap_or_default()))),
                ),
                // memcached answers a multi-get of nothing found with no values, which the
                // client reports as "not found".
                Err(McError::Protocol(Status::NotFound)) => {}
                Err(error) => return Err(self.fail(node, "get_many", error)),
            }
        }
        Ok(store_keys
            .iter()
            .map(|key| found.get(key.as_bytes()).cloned())
            .collect())
    }

    async fn set_many_bytes(&self, items: &[(&str, Bytes)], ttl: Option<Duration>) -> Result<()> {
        validate_cache_keys(items.iter().map(|(key, _)| *key))?;
        for (key, value) in items {
            refuse_oversized(key, value.len(), Some(self.max_value_bytes), || {
                self.delete(key)
            })
            .await?;
        }
        if items.is_empty() {
            return Ok(());
        }
        let Some(exptime) = exptime(self.lifetime(ttl).expiry(TTL_RESOLUTION)) else {
            let keys: Vec<&str> = items.iter().map(|(key, _)| *key).collect();
            return self.delete_many(&keys).await.map(drop);
        };
        let prefix = self.key_prefix("set_many").await?;
        let store_keys: Vec<String> = items
            .iter()
            .map(|(k, _)| prefix.store_key(k).into_owned())
            .collect();
        let groups = self.by_node(&store_keys);
        let answers = futures::future::join_all(groups.iter().map(|(&node, group)| async move {
            let batch: Vec<(&str, &[u8])> = group
                .iter()
                .map(|(at, key)| (*key, items[*at].1.as_ref()))
                .collect();
            let batch = &batch;
            let answer = self
                .run(node, "set_many", |mut c| async move {
                    let answer = c
                        .set_multi(batch, Some(exptime), None)
                        .await
                        .map(|per_key| {
                            per_key
                                .into_iter()
                                .filter_map(|(key, result)| {
                                    result.err().map(|e| (key.to_string(), e))
                                })
                                .collect::<Vec<_>>()
                        });
                    (c, answer)
                })
                .await;
            (node, answer)
        }))
        .await;
        let mut first_error = None;
        for (node, answer) in answers {
            let failed = match answer {
                Ok(Ok(failed)) => failed,
                Ok(Err(error)) => {
                    first_error.get_or_insert(self.fail(node, "set_many", error));
                    continue;
                }
                Err(error) => {
                    first_error.get_or_insert(error);
                    continue;
                }
            };
            for (store_key, error) in failed {
                let at = store_keys.iter().position(|k| *k == store_key).unwrap_or(0);
                let (key, value) = &items[at];
                let refusal = if is_too_large(&error) {
                    remove_after_refusal(refused_by_server(key, value.len()), || {
                        self.delete_store_key(&store_key, "set_many")
                    })
                    .await
                } else {
                    self.fail(node, "set_many", error)
                };
                first_error.get_or_insert(refusal);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    async fn delete_many(&self, keys: &[&str]) -> Result<u64> {
        validate_cache_keys(keys.iter().copied())?;
        if keys.is_empty() {
            return Ok(0);
        }
        let prefix = self.key_prefix("delete_many").await?;
        let store_keys: Vec<String> = keys
            .iter()
            .map(|k| prefix.store_key(k).into_owned())
            .collect();
        let groups = self.by_node(&store_keys);
        // One connection per server, its deletes in a row (memcached answers each), the
        // servers at once.
        let answers = futures::future::join_all(groups.iter().map(|(&node, group)| async move {
            let answer = self
                .run(node, "delete_many", |mut c| async move {
                    let mut removed = 0u64;
                    for (_, key) in group {
                        match c.delete(*key).await {
                            Ok(()) => removed += 1,
                            Err(McError::Protocol(Status::NotFound)) => {}
                            Err(error) => return (c, Err(error)),
                        }
                    }
                    (c, Ok(removed))
                })
                .await;
            (node, answer)
        }))
        .await;
        let mut removed = 0;
        for (node, answer) in answers {
            removed += answer?.map_err(|error| self.fail(node, "delete_many", error))?;
        }
        Ok(removed)
    }

    async fn add_bytes(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<bool> {
        validate_cache_key(key)?;
        // An add never replaces a value, so a refused one leaves the old value alone.
        check_value_size(key, value.len(), Some(self.max_value_bytes))?;
        let Some(exptime) = exptime(self.lifetime(ttl).expiry(TTL_RESOLUTION)) else {
            return Ok(!self.has_key(key).await?);
        };
        let prefix = self.key_prefix("add").await?;
        let store_key = prefix.store_key(key);
        let node = self.node_of(&store_key);
        let (store_key, value) = (&*store_key, &*value);
        match self
            .run(node, "add", |mut c| async move {
                let answer = c.add(store_key, value, Some(exptime), None).await;
                (c, answer)
            })
            .await?
        {
            Ok(()) => Ok(true),
            Err(McError::Protocol(Status::NotStored)) => Ok(false),
            Err(error) if is_too_large(&error) => Err(refused_by_server(key, value.len())),
            Err(error) => Err(self.fail(node, "add", error)),
        }
    }

    async fn incr(&self, key: &str, delta: i64) -> Result<i64> {
        validate_cache_key(key)?;
        let prefix = self.key_prefix("incr").await?;
        let store_key = prefix.store_key(key);
        let node = self.node_of(&store_key);
        let store_key = &*store_key;
        let created_exptime = exptime(self.lifetime(None).expiry(TTL_RESOLUTION)).unwrap_or(0);
        for _ in 0..INCR_ATTEMPTS {
            // `mg <key> v c t`: the value, its CAS token and its remaining TTL.
            let current = self
                .run(node, "incr", |mut c| async move {
                    let answer = c
                        .meta_get(store_key, false, None, Some(&["v", "c", "t"]))
                        .await;
                    (c, answer)
                })
                .await?
                .map_err(|error| self.fail(node, "incr", error))?;
            let Some(current) = hit(current) else {
                // Missing: created as `delta` with the alias default TTL, unless another writer
                // created it first.
                let stored = format_counter(next_counter(key, None, delta)?);
                let stored = &*stored;
                match self
                    .run(node, "incr", |mut c| async move {
                        let answer = c.add(store_key, stored, Some(created_exptime), None).await;
                        (c, answer)
                    })
                    .await?
                {
                    Ok(()) => return Ok(delta),
                    Err(McError::Protocol(Status::NotStored)) => continue,
                    Err(error) => return Err(self.fail(node, "incr", error)),
                }
            };
            let next = next_counter(
                key,
                Some(current.data.as_deref().unwrap_or_default()),
                delta,
            )?;
            let Some(cas) = current.cas else {
                return Err(self.fail(
                    node,
                    "incr",
                    McError::Protocol(Status::Error(async_memcached::ErrorKind::Protocol(Some(
                        "mg answered without the CAS token asked for".into(),
                    )))),
                ));
            };
            // The key keeps its TTL: what is left of it, in whole seconds (-1: none).
            let keep = match current.ttl_remaining {
                Some(secs) if secs >= 0 => {
                    exptime(Expiry::After(Duration::from_secs(secs.max(1) as u64))).unwrap_or(0)
                }
                _ => 0,
            };
            let flags = [format!("C{cas}"), format!("T{keep}")];
            let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
            let stored = format_counter(next);
            let (stored, flags) = (&*stored, &flags[..]);
            match self
                .run(node, "incr", |mut c| async move {
                    let answer = c
                        .meta_set(store_key, stored, false, None, Some(flags))
                        .await;
                    (c, answer)
                })
                .await?
            {
                Ok(_) => return Ok(next),
                // Another writer changed (or removed) it since the read: read again.
                Err(McError::Protocol(Status::Exists | Status::NotFound)) => continue,
                Err(error) => return Err(self.fail(node, "incr", error)),
            }
        }
        Err(CacheError::backend(
            self.nodes[node].name.clone(),
            "incr",
            format!("{INCR_ATTEMPTS} compare-and-swap attempts all lost to other writers"),
        ))
    }

    async fn touch(&self, key: &str, ttl: Option<Duration>) -> Result<bool> {
        validate_cache_key(key)?;
        let prefix = self.key_prefix("touch").await?;
        let store_key = prefix.store_key(key);
        let Some(exptime) = exptime(self.lifetime(ttl).expiry(TTL_RESOLUTION)) else {
            return self.delete_store_key(&store_key, "touch").await;
        };
        let node = self.node_of(&store_key);
        let store_key = &*store_key;
        // `mg <key> k T<exptime>`: a new TTL for a live entry, the key back on a hit.
        let flags = ["k".to_owned(), format!("T{exptime}")];
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let flags = &flags[..];
        match self
            .run(node, "touch", |mut c| async move {
                let answer = c.meta_get(store_key, false, None, Some(flags)).await;
                (c, answer)
            })
            .await?
        {
            Ok(answer) => Ok(hit(answer).is_some()),
            Err(error) => Err(self.fail(node, "touch", error)),
        }
    }

    async fn ttl(&self, key: &str) -> Result<Option<Duration>> {
        validate_cache_key(key)?;
        let prefix = self.key_prefix("ttl").await?;
        let store_key = prefix.store_key(key);
        let node = self.node_of(&store_key);
        let store_key = &*store_key;
        // `mg <key> t`: the seconds left (-1: no expiry), no value sent.
        let answer = self
            .run(node, "ttl", |mut c| async move {
                let answer = c.meta_get(store_key, false, None, Some(&["t"])).await;
                (c, answer)
            })
            .await?
            .map_err(|error| self.fail(node, "ttl", error))?;
        Ok(hit(answer).map(|value| match value.ttl_remaining {
            Some(secs) if secs >= 0 => Duration::from_secs(secs.unsigned_abs()),
            _ => openviper_cache_core::FOREVER,
        }))
    }

    /// Connections open to every server, and those an operation holds now.
    fn gauges(&self) -> Gauges {
        self.nodes
            .iter()
            .map(|node| {
                let status = node.pool.status();
                let open = status.size as u64;
                Gauges::default()
                    .with_connections(open, Some(open.saturating_sub(status.available as u64)))
            })
            .reduce(Gauges::plus)
            .unwrap_or_default()
    }

    fn capabilities(&self) -> Capabilities {
        let clear = match self.keys {
            Keys::Plain(_) => ClearScope::WholeStore,
            Keys::Namespaced(_) => ClearScope::Namespace,
        };
        Capabilities::default()
            .with_remaining_ttl(true)
            .with_clear(clear)
            .with_atomic_add(true)
            .with_atomic_incr(true)
            .with_shared(true)
            .with_max_value_bytes(Some(self.max_value_bytes))
            .with_ttl_resolution(TTL_RESOLUTION)
    }
}

/// The exptime memcached is sent for `expiry`: whole seconds, past 30 days an absolute Unix
/// time (memcached's rule), 0 for never; `None` for "delete" (never sent as 0, which memcached
/// reads as "never").
pub(crate) fn exptime(expiry: Expiry) -> Option<i64> {
    let secs = match expiry {
        Expiry::Delete => return None,
        Expiry::Never => return Some(0),
        Expiry::After(_) => expiry.as_secs().unwrap_or(1),
    };
    let sent = if secs > LONGEST_RELATIVE_EXPTIME {
        expiry.unix_time_secs(SystemTime::now()).unwrap_or(secs)
    } else {
        secs
    };
    Some(i64::try_from(sent).unwrap_or(i64::MAX))
}

/// A meta get's answer as a hit: memcached answers a miss `EN`, with the flags asked for that
/// it can return, which the client hands back as a value whose status is "not found".
fn hit(answer: Option<MetaValue>) -> Option<MetaValue> {
    answer.filter(|value| value.status != Some(Status::NotFound))
}

/// `ValueTooLarge` for a value the server itself refused: its limit is below the value's size.
fn refused_by_server(key: &str, size: usize) -> CacheError {
    CacheError::ValueTooLarge {
        key: key.to_owned(),
        size,
        limit: size.saturating_sub(1),
    }
}

fn pool_error(
    name: &str,
    op: &'static str,
    error: deadpool::managed::PoolError<McError>,
) -> CacheError {
    match error {
        deadpool::managed::PoolError::Backend(error) => to_cache_error(name, op, error),
        other => CacheError::unavailable(name, op, other.to_string()),
    }
}

fn list(servers: &[crate::options::Server]) -> String {
    servers
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_map_to_memcached_exptimes() {
        let s = Duration::from_secs(1);
        assert_eq!(exptime(Lifetime::Expired.expiry(s)), None);
        assert_eq!(exptime(Lifetime::Forever.expiry(s)), Some(0));
        assert_eq!(
            exptime(Lifetime::For(Duration::from_millis(1)).expiry(s)),
            Some(1)
        );
        assert_eq!(
            exptime(Lifetime::For(Duration::from_millis(1500)).expiry(s)),
            Some(2)
        );
        let thirty_days = Duration::from_secs(LONGEST_RELATIVE_EXPTIME);
        assert_eq!(
            exptime(Lifetime::For(thirty_days).expiry(s)),
            Some(LONGEST_RELATIVE_EXPTIME as i64)
        );
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let absolute = exptime(Lifetime::For(thirty_days + s).expiry(s)).unwrap();
        assert!((absolute - (now + LONGEST_RELATIVE_EXPTIME as i64 + 1)).abs() <= 2);
        // Past 100 years: never.
        assert_eq!(
            exptime(Lifetime::For(Duration::from_secs(u64::MAX / 2)).expiry(s)),
            Some(0)
        );
    }
}
