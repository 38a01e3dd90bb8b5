//! TTL: expiry with a bound on every read path, sub-second TTLs, `Duration::ZERO`, `FOREVER`,
//! and the alias default TTL.
//!
//! "Gone" is checked once, by a read that starts after [`gone_by`](super::gone_by) (the TTL
//! rounded up to the store's `ttl_resolution`, plus one resolution, plus 250 ms), never by
//! polling: a backend that keeps serving an entry past that fails, and a slow machine only
//! makes the read later. "Present" is checked only by reads that end before the TTL can have
//! run out.

use std::time::Duration;

use openviper_cache_core::{BaseCache, Bytes, CacheExt, FOREVER};
use tokio::time::Instant;

use super::{ensure, ensure_eq, must_be_present, wait_until_gone};
use crate::context::{CheckResult, Ctx};

/// Fails unless `key` is there, when the read ended early enough that it must be.
async fn present_if_early(
    ctx: &Ctx,
    cache: &dyn BaseCache,
    key: &str,
    write_started: Instant,
    ttl: Duration,
) -> CheckResult {
    let present = cache.has_key(key).await?;
    ensure!(
        present || !must_be_present(ctx, write_started, ttl, Instant::now()),
        "an entry with a {ttl:?} TTL is missing before its TTL ran out"
    );
    Ok(())
}

/// An entry is there before its TTL and gone after it: not returned by `get_bytes`,
/// `has_key`, `get_many` or `keys`.
pub async fn test_expiry(ctx: &Ctx) -> CheckResult {
    let cache = ctx.cache();
    let key = ctx.key("ttl");
    let ttl = Duration::from_secs(1);
    let started = Instant::now();
    cache.set(&key, "v", Some(ttl)).await?;
    let written = Instant::now();
    present_if_early(ctx, cache, &key, started, ttl).await?;
    wait_until_gone(ctx, written, ttl).await;
    ensure_eq!(
        cache.get_bytes(&key).await?,
        None,
        "get_bytes of an expired entry"
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

/// Once an entry's TTL (rounded up to `ttl_resolution`) plus one resolution plus 250 ms has
/// passed, every read path treats it as gone: `get`, `get_bytes`, `has_key`, `get_many`,
/// `keys`, `read_now` (where it answers); `add` succeeds, `incr` starts from 0, `touch` is
/// `false`.
pub async fn test_expired_means_gone(ctx: &Ctx) -> CheckResult {
    let cache = ctx.cache();
    let ttl = Duration::from_secs(1);
    let paths = [
        "get",
        "get_bytes",
        "has_key",
        "get_many",
        "keys",
        "read_now",
        "add",
        "incr",
        "touch",
    ];
    let keys: Vec<String> = paths
        .iter()
        .map(|p| ctx.key(&format!("gone:{p}")))
        .collect();
    for key in &keys {
        cache.set(key, &40i64, Some(ttl)).await?;
    }
    let written = Instant::now();
    wait_until_gone(ctx, written, ttl).await;
    let key = |path: &str| {
        let i = paths.iter().position(|p| *p == path).unwrap_or(0);
        keys[i].as_str()
    };
    ensure_eq!(
        cache.get::<i64>(key("get")).await?,
        None,
        "get of an expired entry"
    );
    ensure_eq!(
        cache.get_bytes(key("get_bytes")).await?,
        None,
        "get_bytes of an expired entry"
    );
    ensure!(
        !cache.has_key(key("has_key")).await?,
        "has_key of an expired entry"
    );
    ensure_eq!(
        cache.get_many_bytes(&[key("get_many")]).await?,
        vec![None::<Bytes>],
        "get_many of an expired entry"
    );
    if cache.capabilities().list_keys {
        let listed = cache.keys(key("keys")).await?;
        ensure!(
            listed.is_empty(),
            "keys() lists an expired entry: {listed:?}"
        );
    }
    if let Some(answer) = cache.read_now(key("read_now"), &mut |_| {}) {
        ensure!(!answer?, "read_now lends an expired entry");
    }
    ensure!(
        cache.add(key("add"), "new", None).await?,
        "add over an expired entry was refused"
    );
    ensure_eq!(
        cache.get::<String>(key("add")).await?.as_deref(),
        Some("new"),
        "value of an add over an expired entry"
    );
    ensure_eq!(
        cache.incr(key("incr"), 2).await?,
        2,
        "incr of an expired counter (must start from 0)"
    );
    ensure!(
        !cache.touch(key("touch"), Some(FOREVER)).await?,
        "touch of an expired entry"
    );
    ensure!(
        !cache.has_key(key("touch")).await?,
        "touch brought an expired entry back"
    );
    Ok(())
}

/// A sub-second TTL expires (honoured in milliseconds, or rounded up where the store counts
/// seconds), and is never taken as "no expiry".
pub async fn test_sub_second_ttl(ctx: &Ctx) -> CheckResult {
    let cache = ctx.cache();
    let key = ctx.key("ms");
    let tiny = ctx.key("us");
    let (ms, us) = (Duration::from_millis(300), Duration::from_micros(1));
    cache.set(&key, "v", Some(ms)).await?;
    cache.set(&tiny, "v", Some(us)).await?;
    wait_until_gone(ctx, Instant::now(), ms).await;
    ensure_eq!(
        cache.get_bytes(&key).await?,
        None,
        "an entry with a 300 ms TTL, after it"
    );
    ensure_eq!(
        cache.get_bytes(&tiny).await?,
        None,
        "an entry with a 1 µs TTL, after it"
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
    let started = Instant::now();
    cache.set(&default, "v", None).await?;
    // Past a 1 s TTL on every store (memcached included): a TTL taken as 1 s would show.
    wait_until_gone(ctx, Instant::now(), Duration::from_secs(1)).await;
    ensure!(
        cache.has_key(&forever).await?,
        "an entry with FOREVER expired"
    );
    ensure!(
        cache.has_key(&huge).await?,
        "an entry with a huge TTL expired"
    );
    // The alias default is 300 s on InMemoryCache, no expiry elsewhere.
    present_if_early(ctx, cache, &default, started, Duration::from_secs(300)).await?;
    ensure!(cache.touch(&huge, Some(FOREVER)).await?, "touch(FOREVER)");
    ensure!(
        cache.has_key(&huge).await?,
        "an entry touched with FOREVER is gone"
    );
    Ok(())
}

/// The default TTL option (`OPTIONS.ttl`) is the default for writes, counters and
/// `touch(key, None)`: each such entry is gone within the bound of a 1 s TTL.
pub async fn test_alias_default_ttl(ctx: &Ctx) -> CheckResult {
    let Some(cache) = ctx.build_with_default_ttl(1.0) else {
        return Err("the subject has no default TTL option".into());
    };
    let cache = cache?;
    let set_key = ctx.key("set");
    let incr_key = ctx.key("incr");
    let touched = ctx.key("touched");
    cache.set(&touched, "v", Some(FOREVER)).await?;
    cache.set(&set_key, "v", None).await?;
    cache.incr(&incr_key, 3).await?;
    ensure!(cache.touch(&touched, None).await?, "touch of a present key");
    let written = Instant::now();
    wait_until_gone(ctx, written, Duration::from_secs(1)).await;
    for key in [&set_key, &incr_key, &touched] {
        ensure_eq!(
            cache.get_bytes(key).await?,
            None,
            "{key} after the alias ttl of 1 s"
        );
    }
    Ok(())
}

/// `ttl()` tells what a key has left: `None` for a missing key or one written with
/// `Duration::ZERO`, `Some(FOREVER)` for one written with `FOREVER`, at most the TTL given
/// (rounded up to `ttl_resolution`) and more than half of it right after a write, the new TTL
/// after `touch`; an invalid key is `InvalidKey`.
pub async fn test_remaining_ttl(ctx: &Ctx) -> CheckResult {
    let cache = ctx.cache();
    let resolution = cache.capabilities().ttl_resolution;
    let (missing, forever, timed, zero) = (
        ctx.key("missing"),
        ctx.key("forever"),
        ctx.key("timed"),
        ctx.key("zero"),
    );
    ensure_eq!(cache.ttl(&missing).await?, None, "ttl() of a missing key");
    cache.set(&forever, "v", Some(FOREVER)).await?;
    ensure_eq!(
        cache.ttl(&forever).await?,
        Some(FOREVER),
        "ttl() of a key written with FOREVER"
    );
    let ttl = Duration::from_secs(600);
    cache.set(&timed, "v", Some(ttl)).await?;
    let Some(left) = cache.ttl(&timed).await? else {
        return Err("ttl() of a key written with a 600 s TTL is None".into());
    };
    ensure!(
        left <= ttl + resolution && left > ttl / 2,
        "ttl() right after a write with a 600 s TTL is {left:?}"
    );
    ensure!(
        cache.touch(&timed, Some(ttl * 2)).await?,
        "touch of a live key"
    );
    let left = cache.ttl(&timed).await?.unwrap_or_default();
    ensure!(
        left > ttl && left <= ttl * 2 + resolution,
        "ttl() after touch to 1200 s is {left:?}"
    );
    cache.set(&zero, "v", Some(Duration::ZERO)).await?;
    ensure_eq!(
        cache.ttl(&zero).await?,
        None,
        "ttl() of a key written with Duration::ZERO"
    );
    ensure!(
        matches!(
            cache.ttl("has space").await,
            Err(openviper_cache_core::CacheError::InvalidKey { .. })
        ),
        "ttl() of an invalid key is not InvalidKey"
    );
    Ok(())
}
