//! Registration, `close`, `clear` and prefix isolation.

use openviper_cache_core::{CacheError, CacheExt, ClearScope, build_backend, registered_backends};

use super::{ensure, ensure_eq};
use crate::context::{CheckResult, Ctx};

/// The backend is registered under its dotted name, builds from `OPTIONS`, and refuses an
/// unknown option, and a default TTL that is negative, zero or not a number, with a `Config`
/// error naming the alias and the option.
pub async fn test_registered_by_name(ctx: &Ctx) -> CheckResult {
    let name = ctx.subject().backend.as_str();
    ensure!(
        registered_backends().contains(&name),
        "{name} is not in registered_backends()"
    );
    match ctx.build(serde_json::json!({ "no_such_option": 1 })) {
        Err(err @ CacheError::Config { .. }) => {
            let text = err.to_string();
            ensure!(
                text.contains("conformance") && text.contains("no_such_option"),
                "the error does not name the alias and the option: {text}"
            );
        }
        other => return Err(format!("an unknown option gave {other:?}").into()),
    }
    if let Some(ttl_option) = &ctx.subject().ttl_option {
        for bad in [
            serde_json::json!(-1),
            serde_json::json!(0),
            serde_json::json!("300"),
        ] {
            let mut options = match &ctx.subject().options {
                serde_json::Value::Object(map) => map.clone(),
                _ => serde_json::Map::new(),
            };
            options.insert(ttl_option.clone(), bad.clone());
            match build_backend("conformance", name, serde_json::Value::Object(options)) {
                Err(err @ CacheError::Config { .. }) => ensure!(
                    err.to_string().contains(ttl_option.as_str()),
                    "the error for {ttl_option} = {bad} does not name the option: {err}"
                ),
                other => return Err(format!("{ttl_option} = {bad} gave {other:?}").into()),
            }
        }
    }
    Ok(())
}

/// `close` can be called twice.
pub async fn test_close_twice(ctx: &Ctx) -> CheckResult {
    let cache = ctx.build(serde_json::json!({}))?;
    cache.set(&ctx.key("k"), "v", None).await?;
    cache.close().await?;
    cache.close().await?;
    Ok(())
}

/// `clear` removes this cache's entries.
pub async fn test_clear(ctx: &Ctx) -> CheckResult {
    let keys: Vec<String> = (0..10).map(|i| ctx.key(&format!("c{i}"))).collect();
    for key in &keys {
        ctx.cache().set(key, "v", None).await?;
    }
    ctx.cache().clear().await?;
    for key in &keys {
        ensure!(!ctx.cache().has_key(key).await?, "{key} survived clear()");
    }
    Ok(())
}

/// Two caches with different prefixes on one store neither see nor clear each other's keys.
pub async fn test_prefix_isolation(ctx: &Ctx) -> CheckResult {
    ensure_eq!(
        ctx.cache().capabilities().clear,
        ClearScope::Namespace,
        "clear scope"
    );
    let option = ctx
        .subject()
        .prefix_option
        .clone()
        .ok_or("no prefix option")?;
    let mut options = serde_json::Map::new();
    options.insert(option, format!("{}:other:", ctx.namespace()).into());
    let other = ctx.build(serde_json::Value::Object(options))?;
    let key = ctx.key("shared-name");
    ctx.cache().set(&key, "mine", None).await?;
    other.set(&key, "theirs", None).await?;
    ensure_eq!(
        ctx.cache().get::<String>(&key).await?.as_deref(),
        Some("mine"),
        "own value"
    );
    ensure_eq!(
        other.get::<String>(&key).await?.as_deref(),
        Some("theirs"),
        "other prefix's value"
    );
    ctx.cache().clear().await?;
    ensure!(!ctx.cache().has_key(&key).await?, "clear() kept own key");
    ensure_eq!(
        other.get::<String>(&key).await?.as_deref(),
        Some("theirs"),
        "other prefix after clear()"
    );
    if ctx.cache().capabilities().list_keys {
        ensure_eq!(
            other.keys(ctx.namespace()).await?,
            vec![key.clone()],
            "other prefix's keys()"
        );
    }
    other.clear().await?;
    other.close().await?;
    Ok(())
}
