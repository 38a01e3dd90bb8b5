//! Values: typed round trips with exact types, the stored form, empty and large values.

use std::collections::BTreeMap;
use std::time::Duration;

use openviper_cache_core::codec::{self, MSGPACK_MARKER};
use openviper_cache_core::{BaseCache, Bytes, CacheError, CacheExt};
use serde::{Deserialize, Serialize};

use super::{ensure, ensure_eq};
use crate::context::{CheckResult, Ctx};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Profile {
    id: u64,
    name: String,
    tags: Vec<String>,
    score: Option<f64>,
    nested: BTreeMap<String, (i32, bool)>,
}

async fn round_trip<T>(cache: &dyn BaseCache, key: &str, value: T) -> CheckResult
where
    T: Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug + Send + Sync,
{
    cache.set(key, &value, None).await?;
    let back: Option<T> = cache.get(key).await?;
    ensure_eq!(
        back,
        Some(value),
        "round trip of {}",
        std::any::type_name::<T>()
    );
    Ok(())
}

/// Strings, integers at their limits, floats, booleans, options, vectors, maps and structs come
/// back with their exact type and value.
pub async fn test_round_trip_types(ctx: &Ctx) -> CheckResult {
    let cache = ctx.cache();
    round_trip(cache, &ctx.key("str"), "hello, world".to_string()).await?;
    round_trip(cache, &ctx.key("digits"), "123".to_string()).await?;
    round_trip(cache, &ctx.key("i64min"), i64::MIN).await?;
    round_trip(cache, &ctx.key("i64max"), i64::MAX).await?;
    round_trip(cache, &ctx.key("u64max"), u64::MAX).await?;
    round_trip(cache, &ctx.key("neg"), -42i32).await?;
    round_trip(cache, &ctx.key("f64"), 3.25f64).await?;
    round_trip(cache, &ctx.key("bool"), true).await?;
    round_trip(cache, &ctx.key("some"), Some(7u8)).await?;
    round_trip(cache, &ctx.key("none"), None::<u8>).await?;
    round_trip(cache, &ctx.key("vec"), vec![1u16, 2, 3]).await?;
    round_trip(cache, &ctx.key("unit"), ()).await?;
    let profile = Profile {
        id: 9,
        name: "Ada Lovelace".into(),
        tags: vec!["math".into(), "engines".into()],
        score: Some(99.5),
        nested: BTreeMap::from([("a".into(), (-1, true))]),
    };
    round_trip(cache, &ctx.key("struct"), profile).await
}

/// A key never written reads as `None` (bytes and typed), and `get_or` gives the default.
pub async fn test_missing_key(ctx: &Ctx) -> CheckResult {
    let key = ctx.key("missing");
    ensure_eq!(
        ctx.cache().get_bytes(&key).await?,
        None,
        "get_bytes of a missing key"
    );
    ensure_eq!(
        ctx.cache().get::<String>(&key).await?,
        None,
        "get of a missing key"
    );
    ensure_eq!(
        ctx.cache().get_or(&key, 5u8).await?,
        5,
        "get_or of a missing key"
    );
    Ok(())
}

/// A second `set` replaces the first value, even with another type.
pub async fn test_overwrite(ctx: &Ctx) -> CheckResult {
    let key = ctx.key("over");
    ctx.cache().set(&key, "first", None).await?;
    ctx.cache().set(&key, "second", None).await?;
    ensure_eq!(
        ctx.cache().get::<String>(&key).await?.as_deref(),
        Some("second"),
        "after overwrite"
    );
    ctx.cache().set(&key, &12u32, None).await?;
    ensure_eq!(
        ctx.cache().get::<u32>(&key).await?,
        Some(12),
        "after overwrite with an integer"
    );
    Ok(())
}

/// Integers are stored as ASCII decimal and other values as `0xC1 0x01` + MessagePack; a
/// stored string is never read as a number.
pub async fn test_stored_form(ctx: &Ctx) -> CheckResult {
    let cache = ctx.cache();
    let int_key = ctx.key("int");
    cache.set(&int_key, &-1234i64, None).await?;
    ensure_eq!(
        cache.get_bytes(&int_key).await?,
        Some(Bytes::from_static(b"-1234")),
        "stored form of an integer"
    );
    let str_key = ctx.key("str");
    cache.set(&str_key, "123", None).await?;
    let raw = cache.get_bytes(&str_key).await?.ok_or("string vanished")?;
    ensure!(
        raw.starts_with(&MSGPACK_MARKER),
        "stored form of a string: {raw:?}"
    );
    ensure_eq!(
        cache.get::<String>(&str_key).await?.as_deref(),
        Some("123"),
        "string \"123\""
    );
    match cache.get::<u64>(&str_key).await {
        Err(CacheError::Deserialize { key, .. }) => ensure_eq!(key, str_key, "error names the key"),
        other => return Err(format!("get::<u64> of a stored string gave {other:?}").into()),
    }
    // ASCII decimal written by another client reads as an integer.
    cache
        .set_bytes(&int_key, Bytes::from_static(b"77"), None)
        .await?;
    ensure_eq!(
        cache.get::<i32>(&int_key).await?,
        Some(77),
        "ASCII decimal from another client"
    );
    Ok(())
}

/// Bytes in neither stored form are a `Deserialize` error naming the key, and the entry is kept.
pub async fn test_foreign_bytes_are_kept(ctx: &Ctx) -> CheckResult {
    let key = ctx.key("foreign");
    let foreign = Bytes::from_static(b"\x00not ours\xff");
    ctx.cache().set_bytes(&key, foreign.clone(), None).await?;
    match ctx.cache().get::<String>(&key).await {
        Err(CacheError::Deserialize { key: named, .. }) => {
            ensure_eq!(named, key, "error names the key")
        }
        other => return Err(format!("typed get of foreign bytes gave {other:?}").into()),
    }
    ensure_eq!(
        ctx.cache().get_bytes(&key).await?,
        Some(foreign),
        "foreign entry after a failed get"
    );
    Ok(())
}

/// An empty value is stored and read back as empty, not as a miss.
pub async fn test_empty_value(ctx: &Ctx) -> CheckResult {
    let key = ctx.key("empty");
    ctx.cache().set_bytes(&key, Bytes::new(), None).await?;
    ensure_eq!(
        ctx.cache().get_bytes(&key).await?,
        Some(Bytes::new()),
        "empty value"
    );
    ensure!(
        ctx.cache().has_key(&key).await?,
        "has_key of an empty value"
    );
    ctx.cache().set(&key, "", None).await?;
    ensure_eq!(
        ctx.cache().get::<String>(&key).await?.as_deref(),
        Some(""),
        "empty string"
    );
    Ok(())
}

/// A 1 MiB value (or the largest the store takes, when that is less) round-trips byte for byte.
pub async fn test_one_mebibyte_value(ctx: &Ctx) -> CheckResult {
    let key = ctx.key("big");
    let mut size = 1024 * 1024;
    if let Some(limit) = ctx.cache().capabilities().max_value_bytes {
        size = size.min(limit.saturating_sub(key.len() + 1024));
    }
    let value: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let value = Bytes::from(value);
    ctx.cache().set_bytes(&key, value.clone(), None).await?;
    let back = ctx
        .cache()
        .get_bytes(&key)
        .await?
        .ok_or("large value vanished")?;
    ensure!(
        back == value,
        "large value of {size} bytes came back as {} different bytes",
        back.len()
    );
    Ok(())
}

/// The values the synchronous paths are checked with: small, empty, and 1 MiB (or 1 KiB under
/// the store's limit, where that is less).
fn lent_values(cache: &dyn BaseCache) -> [(&'static str, Bytes); 3] {
    let mut size = 1024 * 1024;
    if let Some(limit) = cache.capabilities().max_value_bytes {
        size = size.min(limit.saturating_sub(1024));
    }
    [
        ("small", Bytes::from_static(b"hello")),
        ("empty", Bytes::new()),
        (
            "big",
            Bytes::from((0..size).map(|i| (i % 251) as u8).collect::<Vec<u8>>()),
        ),
    ]
}

/// What `read_now(key)` lent: the answer and every slice the reader was given.
fn read_now_of(cache: &dyn BaseCache, key: &str) -> Result<(bool, Vec<Vec<u8>>), String> {
    let mut lent = Vec::new();
    match cache.read_now(key, &mut |bytes| lent.push(bytes.to_vec())) {
        Some(Ok(hit)) => Ok((hit, lent)),
        Some(Err(e)) => Err(format!("read_now({key:?}) failed: {e}")),
        None => Err(format!(
            "read_now({key:?}) gave None, but capabilities().sync_read says it answers"
        )),
    }
}

/// `read_now`, where the capabilities offer it, agrees with `get_bytes`: a hit lends the stored
/// bytes exactly once (small, empty and 1 MiB values alike), a missing, deleted or expired key
/// is a miss that lends nothing, and an invalid key is `InvalidKey`.
pub async fn test_read_now_agrees_with_get_bytes(ctx: &Ctx) -> CheckResult {
    let cache = ctx.cache();
    for (name, value) in &lent_values(cache) {
        let key = ctx.key(name);
        cache.set_bytes(&key, value.clone(), None).await?;
        let (hit, lent) = read_now_of(cache, &key)?;
        ensure!(hit, "read_now missed the {name} value get_bytes has");
        ensure_eq!(lent.len(), 1, "times the {name} value was lent");
        ensure!(
            lent[0] == value[..],
            "read_now lent {} bytes for the {name} value of {} bytes, or other bytes",
            lent[0].len(),
            value.len()
        );
        ensure_eq!(
            cache.get_bytes(&key).await?.as_deref(),
            Some(&lent[0][..]),
            "get_bytes beside read_now for the {name} value"
        );
    }
    let typed = ctx.key("typed");
    cache.set(&typed, "a string", None).await?;
    ensure_eq!(
        cache.get::<String>(&typed).await?.as_deref(),
        Some("a string"),
        "typed get through read_now"
    );
    ensure_eq!(
        read_now_of(cache, &ctx.key("missing"))?,
        (false, Vec::new()),
        "read_now of a missing key"
    );
    let deleted = ctx.key("small");
    cache.delete(&deleted).await?;
    ensure_eq!(
        read_now_of(cache, &deleted)?,
        (false, Vec::new()),
        "read_now after delete"
    );
    let short = ctx.key("short");
    let ttl = Duration::from_millis(200);
    cache
        .set_bytes(&short, Bytes::from_static(b"soon gone"), Some(ttl))
        .await?;
    super::wait_until_gone(ctx, tokio::time::Instant::now(), ttl).await;
    ensure_eq!(
        read_now_of(cache, &short)?,
        (false, Vec::new()),
        "read_now of an entry past its 200 ms TTL"
    );
    match cache.read_now("bad key", &mut |_| {}) {
        Some(Err(CacheError::InvalidKey { .. })) => Ok(()),
        other => Err(format!("read_now of an invalid key gave {other:?}").into()),
    }
}

/// `write_now(key, value, ttl)`, `None` being a failure where the capabilities say it writes.
fn write_now_of(
    cache: &dyn BaseCache,
    key: &str,
    value: &Bytes,
    ttl: Option<Duration>,
) -> Result<Result<(), CacheError>, String> {
    cache.write_now(key, value, ttl).ok_or_else(|| {
        format!("write_now({key:?}) gave None, but capabilities().sync_write says it writes")
    })
}

/// `write_now`, where the capabilities offer it, is `set_bytes` done at once: what it writes
/// (small, empty and 1 MiB values, over an old value) `get_bytes` reads back; a zero TTL removes
/// the key and a short one expires; the typed `set` through it stores the codec's stored form;
/// an invalid key is `InvalidKey`, and a value over the store's limit is `ValueTooLarge` with
/// the old value removed.
pub async fn test_write_now_agrees_with_set_bytes(ctx: &Ctx) -> CheckResult {
    let cache = ctx.cache();
    let limit = cache.capabilities().max_value_bytes;
    for (name, value) in &lent_values(cache) {
        let key = ctx.key(name);
        cache
            .set_bytes(&key, Bytes::from_static(b"old value"), None)
            .await?;
        write_now_of(cache, &key, value, None)?
            .map_err(|e| format!("write_now of the {name} value failed: {e}"))?;
        ensure_eq!(
            cache.get_bytes(&key).await?.as_deref(),
            Some(&value[..]),
            "get_bytes after write_now of the {name} value over an old one"
        );
    }
    let zero = ctx.key("small");
    write_now_of(
        cache,
        &zero,
        &Bytes::from_static(b"x"),
        Some(Duration::ZERO),
    )??;
    ensure!(
        !cache.has_key(&zero).await?,
        "write_now with a zero TTL left the key"
    );
    let short = ctx.key("short");
    let ttl = Duration::from_millis(200);
    write_now_of(cache, &short, &Bytes::from_static(b"soon gone"), Some(ttl))??;
    super::wait_until_gone(ctx, tokio::time::Instant::now(), ttl).await;
    ensure_eq!(
        cache.get_bytes(&short).await?,
        None,
        "get_bytes of a write_now entry past its 200 ms TTL"
    );
    let typed = ctx.key("typed");
    cache.set(&typed, "a string", None).await?;
    ensure_eq!(
        cache.get_bytes(&typed).await?,
        Some(codec::encode(&typed, "a string")?),
        "the stored form of a typed set through write_now"
    );
    match cache.write_now("bad key", &Bytes::from_static(b"x"), None) {
        Some(Err(CacheError::InvalidKey { .. })) => {}
        other => return Err(format!("write_now of an invalid key gave {other:?}").into()),
    }
    if let Some(limit) = limit {
        let key = ctx.key("too-big");
        cache.set(&key, "old", None).await?;
        let value = Bytes::from(vec![7u8; limit.saturating_add(1)]);
        match write_now_of(cache, &key, &value, None)? {
            Err(CacheError::ValueTooLarge { .. }) => {}
            other => {
                return Err(format!("write_now over the {limit}-byte limit gave {other:?}").into());
            }
        }
        ensure!(
            !cache.has_key(&key).await?,
            "the old value outlived a write_now refused as too large"
        );
    }
    Ok(())
}

/// A value over the store's limit is `ValueTooLarge`, nothing is written, and the key's old
/// value is removed.
pub async fn test_value_too_large(ctx: &Ctx) -> CheckResult {
    let limit = ctx
        .cache()
        .capabilities()
        .max_value_bytes
        .ok_or("no limit")?;
    let key = ctx.key("too-big");
    ctx.cache().set(&key, "old", None).await?;
    let value = Bytes::from(vec![7u8; limit.saturating_add(1)]);
    match ctx.cache().set_bytes(&key, value, None).await {
        Err(CacheError::ValueTooLarge { key: named, .. }) => {
            ensure_eq!(named, key, "error names the key")
        }
        other => return Err(format!("an oversized set gave {other:?}").into()),
    }
    ensure_eq!(
        ctx.cache().get_bytes(&key).await?,
        None,
        "old value after a refused write"
    );
    Ok(())
}
