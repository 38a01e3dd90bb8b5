//! `add`, `incr`, `touch` and single-flight `get_or_set_with`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use openviper_cache_core::{Bytes, CacheError, CacheExt, FOREVER};

use tokio::time::Instant;

use super::{ensure, ensure_eq, must_be_present, wait_until_gone};
use crate::context::{CheckResult, Ctx};

/// `add` stores only when the key is absent (or expired) and says whether it did.
pub async fn test_add(ctx: &Ctx) -> CheckResult {
    let key = ctx.key("add");
    ensure!(
        ctx.cache().add(&key, "first", None).await?,
        "add of an absent key"
    );
    ensure!(
        !ctx.cache().add(&key, "second", None).await?,
        "add of a present key"
    );
    ensure_eq!(
        ctx.cache().get::<String>(&key).await?.as_deref(),
        Some("first"),
        "value after a losing add"
    );
    let short = ctx.key("short");
    let ttl = Duration::from_millis(200);
    ctx.cache().set(&short, "old", Some(ttl)).await?;
    wait_until_gone(ctx, Instant::now(), ttl).await;
    ensure!(
        ctx.cache().add(&short, "new", None).await?,
        "add over an expired entry"
    );
    ensure_eq!(
        ctx.cache().get::<String>(&short).await?.as_deref(),
        Some("new"),
        "value after add over expired"
    );
    Ok(())
}

/// Of 32 concurrent `add`s of one key, exactly one wins.
pub async fn test_add_concurrent(ctx: &Ctx) -> CheckResult {
    let key = ctx.key("race");
    let mut tasks = Vec::new();
    for i in 0..32u32 {
        let cache = ctx.shared_cache();
        let key = key.clone();
        tasks.push(tokio::spawn(async move { cache.add(&key, &i, None).await }));
    }
    let mut winners = Vec::new();
    for (i, task) in tasks.into_iter().enumerate() {
        if task.await?? {
            winners.push(i as u32);
        }
    }
    ensure_eq!(
        winners.len(),
        1,
        "winners of 32 concurrent adds: {winners:?}"
    );
    ensure_eq!(
        ctx.cache().get::<u32>(&key).await?,
        Some(winners[0]),
        "the stored value is the winner's"
    );
    Ok(())
}

/// `incr` starts a missing key at 0, adds and subtracts, works on typed integers, and refuses
/// non-integers and overflow without touching the value.
pub async fn test_incr(ctx: &Ctx) -> CheckResult {
    let cache = ctx.cache();
    let key = ctx.key("n");
    ensure_eq!(cache.incr(&key, 5).await?, 5, "incr of a missing key");
    ensure_eq!(cache.incr(&key, 10).await?, 15, "incr");
    ensure_eq!(cache.decr(&key, 20).await?, -5, "decr");
    ensure_eq!(
        cache.get::<i64>(&key).await?,
        Some(-5),
        "typed get of a counter"
    );
    let typed = ctx.key("typed");
    cache.set(&typed, &41u64, None).await?;
    ensure_eq!(
        cache.incr(&typed, 1).await?,
        42,
        "incr of a value set as u64"
    );
    let text = ctx.key("text");
    cache.set(&text, "12", None).await?;
    let before = cache.get_bytes(&text).await?;
    match cache.incr(&text, 1).await {
        Err(CacheError::NotAnInteger { key }) => ensure_eq!(key, text, "error names the key"),
        other => return Err(format!("incr of a string gave {other:?}").into()),
    }
    ensure_eq!(
        cache.get_bytes(&text).await?,
        before,
        "value after a refused incr"
    );
    let max = ctx.key("max");
    cache.set(&max, &i64::MAX, None).await?;
    match cache.incr(&max, 1).await {
        Err(CacheError::Overflow { .. }) => {}
        other => return Err(format!("incr past i64::MAX gave {other:?}").into()),
    }
    // Exact past 2^53, where a double would round.
    let big = ctx.key("big");
    let near_max = i64::MAX - 10;
    cache.set(&big, &(near_max - 1), None).await?;
    ensure_eq!(cache.incr(&big, 1).await?, near_max, "incr near i64::MAX");
    ensure_eq!(
        cache.get::<i64>(&big).await?,
        Some(near_max),
        "stored counter near i64::MAX"
    );
    ensure_eq!(
        cache.get::<i64>(&max).await?,
        Some(i64::MAX),
        "value after an overflowing incr"
    );
    let min = ctx.key("min");
    cache.set(&min, &i64::MIN, None).await?;
    ensure!(
        cache.decr(&min, 1).await.is_err(),
        "decr past i64::MIN succeeded"
    );
    ensure_eq!(
        cache.get::<i64>(&min).await?,
        Some(i64::MIN),
        "value after an underflowing decr"
    );
    // One integer grammar on every backend: canonical ASCII decimal of an i64 only.
    for foreign in ["1.5", "007", "-0", "00", "+5", " 5", "5 ", "0x10", ""] {
        cache
            .set_bytes(&text, Bytes::copy_from_slice(foreign.as_bytes()), None)
            .await?;
        match cache.incr(&text, 1).await {
            Err(CacheError::NotAnInteger { .. }) => {}
            other => return Err(format!("incr of {foreign:?} gave {other:?}").into()),
        }
        ensure_eq!(
            cache.get_bytes(&text).await?.as_deref(),
            Some(foreign.as_bytes()),
            "{foreign:?} after a refused incr"
        );
    }
    Ok(())
}

/// With an alias default TTL (the path that must also set the TTL of a key it creates),
/// `incr` still answers the exact stored `i64`: past 2^53, where a double rounds, and at
/// `i64::MAX`/`i64::MIN`, past which it is `Overflow` with the value untouched.
pub async fn test_incr_exact_with_default_ttl(ctx: &Ctx) -> CheckResult {
    let Some(cache) = ctx.build_with_default_ttl(300.0) else {
        return Err("the subject has no default TTL option".into());
    };
    let cache = cache?;
    let fresh = ctx.key("exact-fresh");
    let big = (1i64 << 53) + 1;
    ensure_eq!(
        cache.incr(&fresh, big).await?,
        big,
        "incr of a missing key by 2^53 + 1"
    );
    ensure_eq!(cache.incr(&fresh, 2).await?, big + 2, "incr past 2^53");
    ensure_eq!(
        cache.get::<i64>(&fresh).await?,
        Some(big + 2),
        "stored counter past 2^53"
    );
    let max = ctx.key("exact-max");
    cache.set(&max, &(i64::MAX - 1), None).await?;
    ensure_eq!(cache.incr(&max, 1).await?, i64::MAX, "incr up to i64::MAX");
    match cache.incr(&max, 1).await {
        Err(CacheError::Overflow { .. }) => {}
        other => return Err(format!("incr past i64::MAX gave {other:?}").into()),
    }
    ensure_eq!(
        cache.get::<i64>(&max).await?,
        Some(i64::MAX),
        "value after the overflow"
    );
    let min = ctx.key("exact-min");
    cache.set(&min, &(i64::MIN + 1), None).await?;
    ensure_eq!(
        cache.decr(&min, 1).await?,
        i64::MIN,
        "decr down to i64::MIN"
    );
    match cache.decr(&min, 1).await {
        Err(CacheError::Overflow { .. }) => {}
        other => return Err(format!("decr past i64::MIN gave {other:?}").into()),
    }
    ensure_eq!(
        cache.get::<i64>(&min).await?,
        Some(i64::MIN),
        "value after the underflow"
    );
    Ok(())
}

/// 32 tasks x 100 concurrent `incr`s lose nothing.
pub async fn test_incr_concurrent(ctx: &Ctx) -> CheckResult {
    let key = ctx.key("counter");
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let cache = ctx.shared_cache();
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..100 {
                cache.incr(&key, 1).await?;
            }
            Ok::<_, CacheError>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    ensure_eq!(
        ctx.cache().get::<i64>(&key).await?,
        Some(3200),
        "32 x 100 increments"
    );
    Ok(())
}

/// `incr` keeps an existing key's TTL.
pub async fn test_incr_keeps_ttl(ctx: &Ctx) -> CheckResult {
    let key = ctx.key("ttl-counter");
    let ttl = Duration::from_secs(1);
    ctx.cache().set(&key, &1i64, Some(ttl)).await?;
    let written = Instant::now();
    ensure_eq!(ctx.cache().incr(&key, 1).await?, 2, "incr");
    wait_until_gone(ctx, written, ttl).await;
    ensure_eq!(
        ctx.cache().get_bytes(&key).await?,
        None,
        "a counter after its 1 s TTL (incr dropped the TTL)"
    );
    Ok(())
}

/// `touch` is `true` for a present key and gives it the new TTL, `false` for a missing one.
pub async fn test_touch(ctx: &Ctx) -> CheckResult {
    let key = ctx.key("touch");
    ensure!(
        !ctx.cache().touch(&key, Some(FOREVER)).await?,
        "touch of a missing key"
    );
    ensure!(!ctx.cache().has_key(&key).await?, "touch created a key");
    ctx.cache().set(&key, "v", Some(FOREVER)).await?;
    let ttl = Duration::from_millis(500);
    let touch_started = Instant::now();
    ensure!(
        ctx.cache().touch(&key, Some(ttl)).await?,
        "touch of a present key"
    );
    let touched = Instant::now();
    let value = ctx.cache().get::<String>(&key).await?;
    ensure!(
        value.as_deref() == Some("v")
            || value.is_none() && !must_be_present(ctx, touch_started, ttl, Instant::now()),
        "touch changed the value: {value:?}"
    );
    wait_until_gone(ctx, touched, ttl).await;
    ensure_eq!(
        ctx.cache().get_bytes(&key).await?,
        None,
        "a FOREVER entry after touch with 500 ms"
    );
    Ok(())
}

#[derive(Debug)]
struct LoaderFailed;
impl std::fmt::Display for LoaderFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the origin is down")
    }
}
impl std::error::Error for LoaderFailed {}

/// 100 concurrent `get_or_set_with` on a cold key run the loader once and all get its value.
pub async fn test_get_or_set_with_single_flight(ctx: &Ctx) -> CheckResult {
    let key = ctx.key("flight");
    let calls = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let cache = ctx.shared_cache();
        let key = key.clone();
        let calls = Arc::clone(&calls);
        tasks.push(tokio::spawn(async move {
            cache
                .get_or_set_with(&key, None, || async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    Ok::<_, LoaderFailed>(vec!["loaded".to_string()])
                })
                .await
        }));
    }
    for task in tasks {
        ensure_eq!(
            task.await??,
            vec!["loaded".to_string()],
            "value from get_or_set_with"
        );
    }
    ensure_eq!(calls.load(Ordering::SeqCst), 1, "loader runs");
    ensure_eq!(
        ctx.cache().get::<Vec<String>>(&key).await?,
        Some(vec!["loaded".to_string()]),
        "cached value"
    );
    Ok(())
}

/// A failing loader's error reaches every waiter and nothing is cached.
pub async fn test_get_or_set_with_loader_error(ctx: &Ctx) -> CheckResult {
    let key = ctx.key("failing");
    let calls = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let cache = ctx.shared_cache();
        let key = key.clone();
        let calls = Arc::clone(&calls);
        tasks.push(tokio::spawn(async move {
            cache
                .get_or_set_with::<String, _, _, _>(&key, None, || async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    Err(LoaderFailed)
                })
                .await
        }));
    }
    for task in tasks {
        match task.await? {
            Err(CacheError::Loader { source, .. }) => {
                ensure_eq!(source.to_string(), "the origin is down", "loader error")
            }
            other => return Err(format!("a waiter got {other:?}").into()),
        }
    }
    ensure!(calls.load(Ordering::SeqCst) >= 1, "the loader never ran");
    ensure!(
        !ctx.cache().has_key(&key).await?,
        "a failed load cached something"
    );
    Ok(())
}
