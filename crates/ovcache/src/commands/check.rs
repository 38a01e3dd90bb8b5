//! `check`: is the store there and does it keep what it is given?

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use openviper_cache::{CacheExt, Capabilities, ClearScope};
use serde_json::json;

use super::Ctx;
use crate::error::CliError;

/// Every probe key starts with this; nothing else of `ovcache` or the library writes there.
pub(crate) const PROBE_PREFIX: &str = "ovcache:check:";

/// How long a probe lives if `check` dies before deleting it.
const PROBE_TTL: Duration = Duration::from_secs(60);

pub(crate) async fn check(ctx: &Ctx) -> Result<(), CliError> {
    let (backend, _) = ctx.backend_and_options();
    let started = Instant::now();
    let cache = ctx.cache()?;
    let caps = cache.capabilities();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let key = format!("{PROBE_PREFIX}{}-{nanos:x}", std::process::id());
    let probe = format!("ovcache check {nanos:x}");

    let timed = Instant::now();
    cache
        .set(&key, &probe, Some(PROBE_TTL))
        .await
        .map_err(|e| ctx.fail(e))?;
    let set = timed.elapsed();
    let timed = Instant::now();
    let read: Option<String> = cache.get(&key).await.map_err(|e| ctx.fail(e))?;
    let get = timed.elapsed();
    let timed = Instant::now();
    let removed = cache.delete(&key).await.map_err(|e| ctx.fail(e))?;
    let delete = timed.elapsed();
    let total = started.elapsed();

    if read.as_deref() != Some(probe.as_str()) || !removed {
        return Err(CliError::ChecksFailed(format!(
            "alias {:?} ({backend}): probe key {key:?} was written, but read back {read:?} and delete found it: {removed}",
            ctx.alias
        )));
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    if ctx.out.json {
        return ctx.out.json_value(&json!({
            "alias": ctx.alias,
            "backend": backend,
            "ok": true,
            "set_ms": ms(set),
            "get_ms": ms(get),
            "delete_ms": ms(delete),
            "total_ms": ms(total),
            "capabilities": capabilities_json(&caps),
        }));
    }
    let row = |step: &str, d: Duration| vec![step.to_owned(), format!("{:.3}", ms(d))];
    ctx.out.line(&format!(
        "alias {:?} ({backend}): ok, probe written, read back and deleted",
        ctx.alias
    ))?;
    ctx.out.table(
        &["step", "ms"],
        &[
            row("set", set),
            row("get", get),
            row("delete", delete),
            row("total (with connecting)", total),
        ],
    )
}

/// What the backend says it does, as JSON.
pub(crate) fn capabilities_json(caps: &Capabilities) -> serde_json::Value {
    json!({
        "list_keys": caps.list_keys,
        "clear": match caps.clear {
            ClearScope::Namespace => "namespace",
            _ => "whole_store",
        },
        "atomic_add": caps.atomic_add,
        "atomic_incr": caps.atomic_incr,
        "shared": caps.shared,
        "max_value_bytes": caps.max_value_bytes,
        "sync_read": caps.sync_read,
        "sync_write": caps.sync_write,
        "remaining_ttl": caps.remaining_ttl,
        "ttl_resolution_ms": caps.ttl_resolution.as_secs_f64() * 1e3,
    })
}
