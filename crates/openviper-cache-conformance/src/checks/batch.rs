//! Batches: order, counts, and validation of every key before the first write.

use openviper_cache_core::{Bytes, CacheExt};

use super::{ensure, ensure_eq};
use crate::context::{CheckResult, Ctx};

/// `get_many` answers in the order of the keys given, with `None` for the missing ones.
pub async fn test_get_many_order(ctx: &Ctx) -> CheckResult {
    let (a, b, c) = (ctx.key("a"), ctx.key("b"), ctx.key("c"));
    ctx.cache().set(&a, "A", None).await?;
    ctx.cache().set(&c, "C", None).await?;
    let got: Vec<Option<String>> = ctx.cache().get_many(&[&c, &b, &a, &c]).await?;
    ensure_eq!(
        got,
        vec![
            Some("C".to_string()),
            None,
            Some("A".to_string()),
            Some("C".to_string())
        ],
        "get_many order"
    );
    ensure_eq!(
        ctx.cache().get_many_bytes(&[]).await?,
        Vec::<Option<Bytes>>::new(),
        "empty batch"
    );
    Ok(())
}

/// `set_many` stores every item; `delete_many` counts only the live entries it removed.
pub async fn test_set_many_delete_many(ctx: &Ctx) -> CheckResult {
    let keys: Vec<String> = (0..20).map(|i| ctx.key(&format!("m{i}"))).collect();
    let items: Vec<(&str, u32)> = keys.iter().zip(0..).map(|(k, i)| (k.as_str(), i)).collect();
    ctx.cache().set_many(&items, None).await?;
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let got: Vec<Option<u32>> = ctx.cache().get_many(&refs).await?;
    ensure_eq!(
        got,
        (0..20).map(Some).collect::<Vec<_>>(),
        "values after set_many"
    );
    let missing = ctx.key("missing");
    let mut to_delete = refs[..10].to_vec();
    to_delete.push(&missing);
    ensure_eq!(
        ctx.cache().delete_many(&to_delete).await?,
        10,
        "delete_many count"
    );
    let got: Vec<Option<u32>> = ctx.cache().get_many(&refs).await?;
    ensure!(
        got[..10].iter().all(Option::is_none),
        "deleted keys remain: {got:?}"
    );
    ensure!(
        got[10..].iter().all(Option::is_some),
        "undeleted keys vanished: {got:?}"
    );
    ensure_eq!(
        ctx.cache().delete_many(&[]).await?,
        0,
        "delete_many of nothing"
    );
    ctx.cache().set_many_bytes(&[], None).await?;
    Ok(())
}

/// A batch with one invalid key fails before any I/O: nothing is written or removed.
pub async fn test_batch_validates_before_io(ctx: &Ctx) -> CheckResult {
    let good = ctx.key("good");
    ctx.cache().set(&good, "kept", None).await?;
    let fresh = ctx.key("fresh");
    let result = ctx
        .cache()
        .set_many(&[(fresh.as_str(), "x"), ("bad key", "y")], None)
        .await;
    ensure!(result.is_err(), "set_many with an invalid key succeeded");
    ensure!(
        !ctx.cache().has_key(&fresh).await?,
        "set_many wrote before validating"
    );
    ensure!(
        ctx.cache()
            .delete_many(&[good.as_str(), "bad key"])
            .await
            .is_err(),
        "delete_many with an invalid key succeeded"
    );
    ensure!(
        ctx.cache().has_key(&good).await?,
        "delete_many removed before validating"
    );
    Ok(())
}
