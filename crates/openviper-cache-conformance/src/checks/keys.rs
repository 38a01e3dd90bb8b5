//! Keys: validation before any I/O, the longest and Unicode keys, delete, has_key, keys().

use std::time::Duration;

use openviper_cache_core::{Bytes, CACHE_KEY_MAX_LEN, CacheError, CacheExt, Result};

use super::{ensure, ensure_eq};
use crate::context::{CheckResult, Ctx};

/// Keys every backend must refuse, with why.
pub fn invalid_keys() -> Vec<(String, &'static str)> {
    vec![
        (String::new(), "empty"),
        ("k".repeat(CACHE_KEY_MAX_LEN + 1), "251 characters"),
        ("a b".into(), "space"),
        ("a\tb".into(), "tab"),
        ("a\nb".into(), "newline"),
        ("a\rb".into(), "carriage return"),
        ("a\u{2003}b".into(), "em space"),
        ("a\u{a0}b".into(), "no-break space"),
        ("a\u{1f}b".into(), "unit separator"),
        ("a\0b".into(), "NUL"),
        ("a\u{7f}b".into(), "DEL"),
    ]
}

fn invalid<T: std::fmt::Debug>(result: Result<T>, what: &str) -> CheckResult {
    match result {
        Err(CacheError::InvalidKey { .. }) => Ok(()),
        other => Err(format!("{what}: expected InvalidKey, got {other:?}").into()),
    }
}

/// Every operation refuses an invalid key with `InvalidKey`, and writes nothing.
pub async fn test_invalid_keys_rejected_before_io(ctx: &Ctx) -> CheckResult {
    let cache = ctx.cache();
    let good = ctx.key("good");
    for (key, why) in invalid_keys() {
        let key = key.as_str();
        let v = || Bytes::from_static(b"1");
        invalid(cache.get_bytes(key).await, &format!("get_bytes({why})"))?;
        invalid(
            cache.set_bytes(key, v(), None).await,
            &format!("set_bytes({why})"),
        )?;
        invalid(cache.delete(key).await, &format!("delete({why})"))?;
        invalid(cache.has_key(key).await, &format!("has_key({why})"))?;
        invalid(
            cache.add_bytes(key, v(), None).await,
            &format!("add_bytes({why})"),
        )?;
        invalid(cache.incr(key, 1).await, &format!("incr({why})"))?;
        invalid(cache.touch(key, None).await, &format!("touch({why})"))?;
        invalid(cache.get::<String>(key).await, &format!("get({why})"))?;
        invalid(cache.set(key, "v", None).await, &format!("set({why})"))?;
        invalid(cache.add(key, "v", None).await, &format!("add({why})"))?;
        invalid(
            cache.get_many_bytes(&[good.as_str(), key]).await,
            &format!("get_many_bytes({why})"),
        )?;
        invalid(
            cache
                .set_many_bytes(&[(good.as_str(), v()), (key, v())], None)
                .await,
            &format!("set_many_bytes({why})"),
        )?;
        invalid(
            cache.delete_many(&[good.as_str(), key]).await,
            &format!("delete_many({why})"),
        )?;
        ensure!(
            !cache.has_key(&good).await?,
            "a batch with an invalid key ({why}) wrote its valid key"
        );
    }
    Ok(())
}

/// A key of exactly 250 characters works, in ASCII and in multi-byte characters (which the
/// backend must map onto its store's own limits, e.g. by hashing).
pub async fn test_longest_keys(ctx: &Ctx) -> CheckResult {
    let base = ctx.key("");
    let pad = CACHE_KEY_MAX_LEN - base.chars().count();
    let ascii = ctx.track(format!("{base}{}", "a".repeat(pad)));
    let wide = ctx.track(format!("{base}{}", "é".repeat(pad - 1) + "🙂"));
    for key in [&ascii, &wide] {
        ensure_eq!(key.chars().count(), CACHE_KEY_MAX_LEN, "test key length");
        ctx.cache().set(key, key.as_str(), None).await?;
        ensure_eq!(
            ctx.cache().get::<String>(key).await?.as_deref(),
            Some(key.as_str()),
            "value under a 250-character key"
        );
        ensure!(
            ctx.cache().delete(key).await?,
            "delete of a 250-character key"
        );
    }
    // Two long keys differing only in the last character stay apart.
    let other = ctx.track(format!("{}b", &ascii[..ascii.len() - 1]));
    ctx.cache().set(&ascii, "one", None).await?;
    ctx.cache().set(&other, "two", None).await?;
    ensure_eq!(
        ctx.cache().get::<String>(&ascii).await?.as_deref(),
        Some("one"),
        "long key one"
    );
    ensure_eq!(
        ctx.cache().get::<String>(&other).await?.as_deref(),
        Some("two"),
        "long key two"
    );
    Ok(())
}

/// Keys in any script, with emoji and punctuation, are distinct and work.
pub async fn test_unicode_keys(ctx: &Ctx) -> CheckResult {
    let names = [
        "ключ",
        "键",
        "مفتاح",
        "🙂🙃",
        "a/b\\c",
        "../etc/passwd",
        "%2e%2e",
        "x:y@z",
    ];
    for (i, name) in names.iter().enumerate() {
        ctx.cache().set(&ctx.key(name), &i, None).await?;
    }
    for (i, name) in names.iter().enumerate() {
        ensure_eq!(
            ctx.cache().get::<usize>(&ctx.key(name)).await?,
            Some(i),
            "value of {name:?}"
        );
    }
    Ok(())
}

/// `delete` is `true` when it removed a live entry, `false` for a missing or expired one.
pub async fn test_delete(ctx: &Ctx) -> CheckResult {
    let key = ctx.key("del");
    ctx.cache().set(&key, "v", None).await?;
    ensure!(ctx.cache().delete(&key).await?, "delete of a present key");
    ensure_eq!(
        ctx.cache().get_bytes(&key).await?,
        None,
        "value after delete"
    );
    ensure!(!ctx.cache().delete(&key).await?, "second delete");
    ensure!(
        !ctx.cache().delete(&ctx.key("never")).await?,
        "delete of a missing key"
    );
    let short = ctx.key("short");
    let ttl = Duration::from_millis(200);
    ctx.cache().set(&short, "v", Some(ttl)).await?;
    super::wait_until_gone(ctx, tokio::time::Instant::now(), ttl).await;
    ensure!(
        !ctx.cache().delete(&short).await?,
        "delete of an expired key"
    );
    Ok(())
}

/// `has_key` tells present from missing.
pub async fn test_has_key(ctx: &Ctx) -> CheckResult {
    let key = ctx.key("has");
    ensure!(!ctx.cache().has_key(&key).await?, "has_key before set");
    ctx.cache().set(&key, &1u8, None).await?;
    ensure!(ctx.cache().has_key(&key).await?, "has_key after set");
    ctx.cache().delete(&key).await?;
    ensure!(!ctx.cache().has_key(&key).await?, "has_key after delete");
    Ok(())
}

/// `keys(prefix)` lists exactly the live keys under `prefix`, without the backend's own prefix.
pub async fn test_keys_prefix(ctx: &Ctx) -> CheckResult {
    let mut wanted = vec![ctx.key("list:a"), ctx.key("list:b"), ctx.key("list:c")];
    for key in &wanted {
        ctx.cache().set(key, "v", None).await?;
    }
    ctx.cache().set(&ctx.key("other"), "v", None).await?;
    let mut listed = ctx.cache().keys(&ctx.key("list:")).await?;
    listed.sort();
    wanted.sort();
    ensure_eq!(listed, wanted, "keys(prefix)");
    let all = ctx.cache().keys(ctx.namespace()).await?;
    ensure_eq!(all.len(), 4, "keys(namespace) = {all:?}");
    ctx.cache().delete(&wanted[0]).await?;
    let listed = ctx.cache().keys(&ctx.key("list:")).await?;
    ensure!(
        !listed.contains(&wanted[0]),
        "a deleted key is still listed: {listed:?}"
    );
    Ok(())
}

/// The prefix given to `keys()` is literal: glob characters match only themselves.
pub async fn test_keys_prefix_is_literal(ctx: &Ctx) -> CheckResult {
    let literal = ctx.key("a*[b]?\\:");
    let lookalike = ctx.key("aXbY\\:k");
    ctx.cache()
        .set(&ctx.track(format!("{literal}k")), "v", None)
        .await?;
    ctx.cache().set(&lookalike, "v", None).await?;
    let listed = ctx.cache().keys(&literal).await?;
    ensure_eq!(
        listed,
        vec![format!("{literal}k")],
        "keys() with glob characters"
    );
    Ok(())
}

/// Keys compare byte for byte: keys that differ only in case, Unicode normalisation, case
/// folding or a trailing dot are distinct entries, each reads back its own value, deleting one
/// leaves the others, and `keys(prefix)` (where it lists) is case-sensitive. (MySQL's default
/// collations fold case and accents; a backend that lower-cases keys fails here.)
pub async fn test_keys_are_exact(ctx: &Ctx) -> CheckResult {
    let cache = ctx.cache();
    let names = [
        "Key",
        "key",
        "KEY",
        "caf\u{e9}",   // é, NFC
        "cafe\u{301}", // e + combining acute, NFD
        "stra\u{df}e", // ß
        "strasse",
        "\u{130}",  // İ
        "i\u{307}", // i + combining dot above
        "dot",
        "dot.",
    ];
    let keys: Vec<String> = names
        .iter()
        .map(|n| ctx.key(&format!("exact:{n}")))
        .collect();
    for (i, key) in keys.iter().enumerate() {
        cache.set(key, &i, None).await?;
    }
    for (i, key) in keys.iter().enumerate() {
        ensure_eq!(cache.get::<usize>(key).await?, Some(i), "value of {key:?}");
    }
    ensure!(cache.delete(&keys[1]).await?, "delete of {:?}", keys[1]);
    for (i, key) in keys.iter().enumerate().filter(|(i, _)| *i != 1) {
        ensure_eq!(
            cache.get::<usize>(key).await?,
            Some(i),
            "{key:?} after deleting {:?}",
            keys[1]
        );
    }
    ensure_eq!(cache.get_bytes(&keys[1]).await?, None, "the deleted key");
    if cache.capabilities().list_keys {
        let mut upper = cache.keys(&ctx.key("exact:K")).await?;
        upper.sort();
        let mut expected = vec![keys[0].clone(), keys[2].clone()];
        expected.sort();
        ensure_eq!(upper, expected, "keys() of an upper-case prefix");
        let mut lower = cache.keys(&ctx.key("exact:k")).await?;
        lower.sort();
        ensure_eq!(
            lower,
            Vec::<String>::new(),
            "keys() of a lower-case prefix after its only key was deleted"
        );
        let mut dots = cache.keys(&ctx.key("exact:dot")).await?;
        dots.sort();
        ensure_eq!(
            dots,
            vec![keys[9].clone(), keys[10].clone()],
            "keys() of \"dot\""
        );
    }
    Ok(())
}
