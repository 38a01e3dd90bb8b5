//! What this build and these settings offer: backends, aliases, shell completions.

use clap::CommandFactory;
use openviper_cache::{DEFAULT_BACKEND, Gauges, registered_backends};
use serde_json::json;

use super::Ctx;
use crate::cli::Cli;
use crate::error::CliError;
use crate::output::Out;

pub(crate) fn backends(out: Out) -> Result<(), CliError> {
    let names = registered_backends();
    if out.json {
        return out.json_value(&json!(names));
    }
    for name in names {
        out.line(name)?;
    }
    Ok(())
}

pub(crate) fn aliases(ctx: &Ctx) -> Result<(), CliError> {
    let settings = ctx.manager.settings();
    let rows: Vec<(String, String, serde_json::Value)> = ctx
        .manager
        .aliases()
        .into_iter()
        .map(|alias| match settings.alias(alias) {
            Some(entry) => (
                alias.to_owned(),
                entry.backend.clone(),
                entry.redacted_options(),
            ),
            // Always there: `get_cache("default")` builds it when the settings do not.
            None => (alias.to_owned(), DEFAULT_BACKEND.to_owned(), json!({})),
        })
        .collect();
    if ctx.out.json {
        let listed: Vec<serde_json::Value> = rows
            .into_iter()
            .map(|(alias, backend, options)| {
                json!({ "alias": alias, "backend": backend, "options": options })
            })
            .collect();
        return ctx.out.json_value(&json!(listed));
    }
    if ctx.out.terminal {
        ctx.out.line(&format!("settings: {}", ctx.source))?;
    }
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|(alias, backend, options)| vec![alias, backend, options.to_string()])
        .collect();
    ctx.out.table(&["alias", "backend", "options"], &rows)
}

/// Each gauge by the name `stats` prints, and its value where the backend knows it.
pub(crate) fn gauge_values(gauges: &Gauges) -> [(&'static str, Option<u64>); 4] {
    [
        ("entries", gauges.entries),
        ("bytes", gauges.bytes),
        ("connections", gauges.connections),
        ("in use", gauges.connections_in_use),
    ]
}

pub(crate) fn stats(ctx: &Ctx) -> Result<(), CliError> {
    let (backend, _) = ctx.backend_and_options();
    ctx.cache()?;
    let stats = ctx.manager.stats(&ctx.alias).map_err(|e| ctx.fail(e))?;
    let gauges = stats.gauges;
    if ctx.out.json {
        return ctx.out.json_value(&json!({
            "alias": ctx.alias,
            "backend": backend,
            "hits": stats.hits,
            "misses": stats.misses,
            "errors": stats.errors,
            "operations": stats.operations,
            "hit_ratio": stats.hit_ratio(),
            "entries": gauges.entries,
            "bytes": gauges.bytes,
            "connections": gauges.connections,
            "connections_in_use": gauges.connections_in_use,
        }));
    }
    if ctx.out.terminal {
        ctx.out.line(&format!(
            "alias {:?} ({backend}); counters are this process's: a service reads its own with \
             CacheManager::stats or its metrics",
            ctx.alias
        ))?;
    }
    let counters = [
        ("hits", stats.hits),
        ("misses", stats.misses),
        ("errors", stats.errors),
        ("operations", stats.operations),
    ];
    let rows: Vec<Vec<String>> = counters
        .into_iter()
        .map(|(name, value)| vec![name.to_owned(), value.to_string()])
        .chain(gauge_values(&gauges).into_iter().map(|(name, value)| {
            vec![
                name.to_owned(),
                value.map_or_else(|| "unknown".to_owned(), |v| v.to_string()),
            ]
        }))
        .collect();
    ctx.out.table(&["stat", "value"], &rows)
}

pub(crate) fn completions(shell: clap_complete::Shell) -> Result<(), CliError> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "ovcache", &mut script);
    Out::new(false).bytes(&script)
}
