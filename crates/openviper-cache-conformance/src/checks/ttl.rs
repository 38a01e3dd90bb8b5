//! TTL: expiry, sub-second TTLs, `Duration::ZERO`, `FOREVER`, and the alias default TTL.

use std::time::Duration;

use openviper_cache_core::{BaseCache, CacheExt, FOREVER};

use super::{ensure, ensure_eq, eventually};
use crate::context::{CheckResult, Ctx};

/// How long a check waits for an entry to expire before calling it a failure.
const EXPIRY_PATIENCE: Duration = Duration::from_secs(6);

async fn expires(cache: &dyn BaseCache, key: &str) -> Result<bool, crate::Failure> {
    eventually(EXPIRY_PATIENCE, || async {
        Ok(cache.get_bytes(key).await?.is_none())
    })
    .await
}

/// An entry is there before its TTL and gone after it: not returned by `get`, `has_key`,
/// `get_many` or `keys`.
pub async fn test_expiry(ctx: &Ctx) -> CheckResult {
    let cache = ctx.cache();
    let key = ctx.key("ttl");
    cache.set(&key, "v", Some(Duration::from_secs(2))).await?;
    ensure!(
        cache.has_key(&key).await?,
        "an entry with a 2 s TTL is missing at once"
    );
    ensure!(
        expires(cache, &key).await?,
        "an entry with a 2 s TTL never expired"
    );
    ensure!(!cache.has_key(&key).await?, "has_key of an expired entry");
    ensure_eq!(
        cache.get_many_bytes(&[key.as_str()]).await?,
        vec![None],
        "get_many of an expired entry"
    );
    if cache.capabilities().list_keys {
        ensure!(
            cache.keys(ctx.namespace()).await?.is_empty(),
            "keys() lists an expired entry"
        );
    }
    Ok(())
}

/// A sub-second TTL expires (honoured in milliseconds, or rounded up where the store counts
/// seconds), and is never taken as "no expiry".
pub async fn test_sub_second_ttl(ctx: &Ctx) -> CheckResult {
    let key = ctx.key("ms");
    ctx.cache()
        .set(&key, "v", Some(Duration::from_millis(300)))
        .await?;
    ensure!(
        expires(ctx.cache(), &key).await?,
        "an entry with a 300 ms TTL never expired"
    );
    let tiny = ctx.key("us");
    ctx.cache()
        .set(&tiny, "v", Some(Duration::from_micros(1)))
        .await?;
    ensure!(
        expires(ctx.cache(), &tiny).await?,
        "an entry with a 1 µs TTL never expired"
    );
    Ok(())
}

/// `Duration::ZERO` is already expired: `set` stores nothing and removes the old value, `add`
/// stores nothing and says whether the key was absent, `touch` expires the key.
pub async fn test_zero_ttl(ctx: &Ctx) -> CheckResult {
    let cache = ctx.cache();
    let key = ctx.key("zero");
    cache.set(&key, "old", None).await?;
    cache.set(&key, "new", Some(Duration::ZERO)).await?;
    ensure_eq!(cache.get_bytes(&key).await?, None, "set with a zero TTL");
    ensure!(
        cache.add(&key, "v", Some(Duration::ZERO)).await?,
        "add(ZERO) of an absent key"
    );
    ensure_eq!(
        cache.get_bytes(&key).await?,
        None,
        "add with a zero TTL stored something"
    );
    cache.set(&key, "kept", None).await?;
    ensure!(
        !cache.add(&key, "v", Some(Duration::ZERO)).await?,
        "add(ZERO) of a present key"
    );
    ensure_eq!(
        cache.get::<String>(&key).await?.as_deref(),
        Some("kept"),
        "add(ZERO) changed a present key"
    );
    ensure!(
        cache.touch(&key, Some(Duration::ZERO)).await?,
        "touch(ZERO) of a present key"
    );
    ensure_eq!(cache.get_bytes(&key).await?, None, "touch with a zero TTL");
    Ok(())
}

/// `FOREVER` and huge TTLs never expire and never panic; without an alias TTL, `None` keeps the
/// entry too (on backends whose default is "no expiry").
pub async fn test_no_ttl_persists(ctx: &Ctx) -> CheckResult {
    let cache = ctx.cache();
    let forever = ctx.key("forever");
    let huge = ctx.key("huge");
    let default = ctx.key("default");
    cache.set(&forever, "v", Some(FOREVER)).await?;
    cache
        .set(&huge, "v", Some(Duration::from_secs(u64::MAX / 2)))
        .await?;
    cache.set(&default, "v", None).await?;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    ensure!(
        cache.has_key(&forever).await?,
        "an entry with FOREVER expired"
    );
    ensure!(
        cache.has_key(&huge).await?,
        "an entry with a huge TTL expired"
    );
    ensure!(
        cache.has_key(&default).await?,
        "an entry with the default TTL expired within 2 s"
    );
    ensure!(cache.touch(&huge, Some(FOREVER)).await?, "touch(FOREVER)");
    ensure!(
        cache.has_key(&huge).await?,
        "an entry touched with FOREVER is gone"
    );
    Ok(())
}

/// `OPTIONS.ttl` is the default for writes, counters and `touch(key, None)`.
pub async fn test_alias_default_ttl(ctx: &Ctx) -> CheckResult {
    let cache = ctx.build(serde_json::json!({ "ttl": 1 }))?;
    let set_key = ctx.key("set");
    let incr_key = ctx.key("incr");
    let touched = ctx.key("touched");
    cache.set(&set_key, "v", None).await?;
    cache.incr(&incr_key, 3).await?;
    cache.set(&touched, "v", Some(FOREVER)).await?;
    ensure!(cache.touch(&touched, None).await?, "touch of a present key");
    for key in [&set_key, &incr_key, &touched] {
        ensure!(
            expires(&*cache, key).await?,
            "{key} outlived the alias ttl of 1 s"
        );
    }
    cache.close().await?;
    Ok(())
}
