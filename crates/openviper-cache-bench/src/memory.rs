//! The in-memory backend beside the crate beneath it (quick_cache) and the other candidate
//! measured for it (moka).

use std::sync::Arc;

use bytes::Bytes;
use openviper_cache::BaseCache;

use openviper_cache_workload::Target;

/// Ours on raw bytes: `get_bytes` / `set_bytes`, no codec.
pub(crate) struct OursBytes(pub(crate) Arc<dyn BaseCache>);

impl Target for OursBytes {
    async fn get(&self, key: &str) -> Result<bool, String> {
        Ok(self
            .0
            .get_bytes(key)
            .await
            .map_err(|e| e.to_string())?
            .is_some())
    }
    async fn set(&self, key: &str, value: &str) -> Result<(), String> {
        self.0
            .set_bytes(key, fresh_bytes(value), None)
            .await
            .map_err(|e| e.to_string())
    }
}

/// A value as an application caches it: its own allocation, as each of ours gets from the
/// codec. (One `Bytes` shared by every key would make every hit bump the same reference count,
/// a contention no real cache has.)
fn fresh_bytes(value: &str) -> Bytes {
    Bytes::copy_from_slice(value.as_bytes())
}

/// Raw quick_cache, the crate InMemoryCache wraps, holding the values as `Bytes`: a hit is a
/// lookup and a reference-count bump. With `COPY_HIT`, each hit is also copied into an owned
/// buffer and not decoded: what owning a hit's value costs before any decoding, whatever the
/// decoder. (A const parameter, so the plain raw row carries no branch of the other.)
pub(crate) struct RawQuickCache<const COPY_HIT: bool>(
    pub(crate) quick_cache::sync::Cache<String, Bytes>,
);

impl<const COPY_HIT: bool> Target for RawQuickCache<COPY_HIT> {
    async fn get(&self, key: &str) -> Result<bool, String> {
        let hit = self.0.get(key);
        Ok(if COPY_HIT {
            hit.map(|bytes| bytes.to_vec()).is_some()
        } else {
            hit.is_some()
        })
    }
    async fn set(&self, key: &str, value: &str) -> Result<(), String> {
        self.0.insert(key.to_owned(), fresh_bytes(value));
        Ok(())
    }
}

/// Raw quick_cache holding the values as `String`: a hit is a lookup and a copy into an owned
/// `String`, what a typed get hands back too. The reference for the typed row.
pub(crate) struct RawQuickCacheTyped(pub(crate) quick_cache::sync::Cache<String, String>);

impl Target for RawQuickCacheTyped {
    async fn get(&self, key: &str) -> Result<bool, String> {
        Ok(self.0.get(key).is_some())
    }
    async fn set(&self, key: &str, value: &str) -> Result<(), String> {
        self.0.insert(key.to_owned(), value.to_owned());
        Ok(())
    }
}

/// `value` in the stored form, as the typed `set` writes it.
fn stored_form(key: &str, value: &str) -> Result<Bytes, String> {
    openviper_cache::codec::encode(key, value).map_err(|e| e.to_string())
}

/// Decodes a hit as the typed `get::<String>` does; `true` on a hit.
fn decode_hit(key: &str, hit: Option<&[u8]>) -> Result<bool, String> {
    let value: Option<String> = hit
        .map(|bytes| openviper_cache::codec::decode(key, bytes))
        .transpose()
        .map_err(|e| e.to_string())?;
    Ok(value.is_some())
}

/// Raw quick_cache holding values in our stored form, and our codec around it: the floor of a
/// typed get on these values (no key check, no TTL, no trait object).
pub(crate) struct RawQuickCacheDecoded(pub(crate) quick_cache::sync::Cache<String, Bytes>);

impl Target for RawQuickCacheDecoded {
    async fn get(&self, key: &str) -> Result<bool, String> {
        decode_hit(key, self.0.get(key).as_deref())
    }
    async fn set(&self, key: &str, value: &str) -> Result<(), String> {
        self.0.insert(key.to_owned(), stored_form(key, value)?);
        Ok(())
    }
}

/// Raw moka (sync), the other candidate.
pub(crate) struct RawMoka(pub(crate) moka::sync::Cache<String, Bytes>);

impl Target for RawMoka {
    async fn get(&self, key: &str) -> Result<bool, String> {
        Ok(self.0.get(key).is_some())
    }
    async fn set(&self, key: &str, value: &str) -> Result<(), String> {
        self.0.insert(key.to_owned(), fresh_bytes(value));
        Ok(())
    }
}

/// Resident memory of 100 000 entries of 100 bytes in a fresh InMemoryCache, in bytes:
/// (RSS growth, RSS after).
pub(crate) async fn resident_bytes_of_100k() -> Result<(u64, u64), String> {
    let before = rss_bytes()?;
    // Room for all of them: the bound is enforced per shard, so a full-size cache evicts a little early.
    let cache = openviper_cache::InMemoryCache::new(openviper_cache::InMemoryOptions {
        max_entries: std::num::NonZeroU64::new(200_000).ok_or("zero")?,
        ..openviper_cache::InMemoryOptions::default()
    });
    let value = "v".repeat(100);
    for i in 0..100_000 {
        cache
            .set_bytes(
                &format!("resident:{i:06}"),
                Bytes::from(value.clone()),
                None,
            )
            .await
            .map_err(|e| e.to_string())?;
    }
    let after = rss_bytes()?;
    if cache.len() != 100_000 {
        return Err(format!(
            "expected 100000 entries, the cache holds {}",
            cache.len()
        ));
    }
    drop(cache);
    Ok((after.saturating_sub(before), after))
}

fn rss_bytes() -> Result<u64, String> {
    let status = std::fs::read_to_string("/proc/self/status").map_err(|e| e.to_string())?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map(|kb| kb * 1024)
        .ok_or_else(|| "no VmRSS in /proc/self/status".to_owned())
}
