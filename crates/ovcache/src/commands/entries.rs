//! The commands on entries: get, set, delete, has, keys, clear, incr, ttl.

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use openviper_cache::{ClearScope, FOREVER};
use serde_json::json;

use super::Ctx;
use crate::error::CliError;
use crate::stored::{Input, decode_value, encode_value};

pub(crate) async fn get(ctx: &Ctx, key: &str, raw: bool) -> Result<(), CliError> {
    let cache = ctx.cache()?;
    let Some(bytes) = cache.get_bytes(key).await.map_err(|e| ctx.fail(e))? else {
        return Err(not_found(ctx, key));
    };
    if raw {
        return ctx.out.bytes(&bytes);
    }
    ctx.out.json_value(&decode_value(key, &bytes)?)
}

pub(crate) async fn set(
    ctx: &Ctx,
    key: &str,
    value: &str,
    ttl: Option<Duration>,
    (string, raw): (bool, bool),
) -> Result<(), CliError> {
    let input = match (string, raw) {
        (_, true) => Input::Raw,
        (true, _) => Input::String,
        _ => Input::Json,
    };
    let stored = encode_value(key, value, input)?;
    let cache = ctx.cache()?;
    cache
        .set_bytes(key, stored, ttl)
        .await
        .map_err(|e| ctx.fail(e))?;
    if ctx.out.json {
        return ctx.out.json_value(&json!({ "key": key, "stored": true }));
    }
    ctx.out.line(&format!("stored {key:?}"))
}

pub(crate) async fn delete(ctx: &Ctx, keys: &[String]) -> Result<(), CliError> {
    let cache = ctx.cache()?;
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let removed = cache.delete_many(&refs).await.map_err(|e| ctx.fail(e))?;
    if ctx.out.json {
        return ctx.out.json_value(&json!({ "removed": removed }));
    }
    ctx.out
        .line(&format!("removed {removed} of {}", keys.len()))
}

pub(crate) async fn has(ctx: &Ctx, key: &str) -> Result<(), CliError> {
    let cache = ctx.cache()?;
    let exists = cache.has_key(key).await.map_err(|e| ctx.fail(e))?;
    if ctx.out.json {
        ctx.out
            .json_value(&json!({ "key": key, "exists": exists }))?;
    } else {
        ctx.out.line(if exists { "true" } else { "false" })?;
    }
    if exists {
        Ok(())
    } else {
        Err(CliError::Answered)
    }
}

pub(crate) async fn keys(ctx: &Ctx, prefix: &str) -> Result<(), CliError> {
    let cache = ctx.cache()?;
    if !cache.capabilities().list_keys {
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(
            stderr,
            "ovcache: note: the backend of alias {:?} cannot list its keys (keys() returns [])",
            ctx.alias
        );
    }
    let keys = cache.keys(prefix).await.map_err(|e| ctx.fail(e))?;
    if ctx.out.json {
        return ctx.out.json_value(&json!(keys));
    }
    for key in keys {
        ctx.out.line(&key)?;
    }
    Ok(())
}

pub(crate) async fn clear(ctx: &Ctx, yes: bool) -> Result<(), CliError> {
    let cache = ctx.cache()?;
    let (backend, _) = ctx.backend_and_options();
    let scope = match cache.capabilities().clear {
        ClearScope::Namespace => "this cache's entries only",
        _ => "the WHOLE store, other programs' data included",
    };
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(CliError::Refused(format!(
                "refusing to clear alias {:?} without --yes: stdin is not a terminal to confirm on",
                ctx.alias
            )));
        }
        if !confirm(&format!(
            "Clear alias {:?} ({backend}): {scope}? [y/N] ",
            ctx.alias
        ))? {
            return Err(CliError::Refused(format!(
                "clear of alias {:?} not confirmed: nothing was removed",
                ctx.alias
            )));
        }
    }
    cache.clear().await.map_err(|e| ctx.fail(e))?;
    if ctx.out.json {
        return ctx
            .out
            .json_value(&json!({ "alias": ctx.alias, "cleared": true }));
    }
    ctx.out.line(&format!("cleared alias {:?}", ctx.alias))
}

/// Asks `question` on stderr; `true` for an answer of y or yes.
fn confirm(question: &str) -> Result<bool, CliError> {
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "{question}");
    let _ = stderr.flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| CliError::Other(format!("reading the answer: {e}")))?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

pub(crate) async fn incr(ctx: &Ctx, key: &str, delta: i64) -> Result<(), CliError> {
    let cache = ctx.cache()?;
    let value = cache.incr(key, delta).await.map_err(|e| ctx.fail(e))?;
    if ctx.out.json {
        return ctx.out.json_value(&json!({ "key": key, "value": value }));
    }
    ctx.out.line(&value.to_string())
}

pub(crate) async fn ttl(ctx: &Ctx, key: &str) -> Result<(), CliError> {
    let cache = ctx.cache()?;
    let Some(left) = cache.ttl(key).await.map_err(|e| ctx.fail(e))? else {
        return Err(not_found(ctx, key));
    };
    let seconds = (left != FOREVER).then_some(left.as_secs_f64());
    if ctx.out.json {
        return ctx.out.json_value(&json!({
            "key": key,
            "expires": seconds.is_some(),
            "ttl_seconds": seconds,
        }));
    }
    ctx.out
        .line(&seconds.map_or_else(|| "forever".to_owned(), |s| format!("{s:.3}")))
}

fn not_found(ctx: &Ctx, key: &str) -> CliError {
    CliError::NotFound {
        alias: ctx.alias.clone(),
        key: key.to_owned(),
    }
}
