//! `bench`: the standard workload of `cargo xtask bench`, on the alias's cache.

use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use openviper_cache_workload::{
    CacheTarget, KEYS, Mix, Summary, TASKS, VALUE_BYTES, keys, prefill, run_tasks, standard_ops,
    value,
};
use serde_json::json;

use super::Ctx;
use crate::error::CliError;

/// Every key of the workload starts with this (after the backend's own `key_prefix`).
pub(crate) const BENCH_PREFIX: &str = "ovcache:bench:";

/// The modes, as `cargo xtask bench` names them: (tasks, name).
const MODES: [(usize, &str); 2] = [(1, "sequential"), (TASKS, "64 tasks")];

pub(crate) async fn bench(ctx: &Ctx, ops: Option<u64>, rounds: u64) -> Result<(), CliError> {
    let (backend, _) = ctx.backend_and_options();
    let cache = ctx.cache()?;
    let ops = ops.unwrap_or_else(|| standard_ops(cache.capabilities().sync_read));
    let target = Arc::new(CacheTarget(Arc::clone(&cache)));
    let (keys, value) = (keys(BENCH_PREFIX), value());
    let failed = |what: &str, error: String| {
        CliError::Other(format!("alias {:?}: bench {what}: {error}", ctx.alias))
    };

    let progress = ProgressBar::new(MODES.len() as u64 * rounds + 1);
    progress.set_style(
        ProgressStyle::with_template("{msg:<40} [{bar:30}] {pos}/{len} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    progress.set_message(format!("prefilling {KEYS} keys"));
    let outcome = async {
        prefill(&*target, &keys, &value)
            .await
            .map_err(|e| failed("prefill", e))?;
        progress.inc(1);
        let mut results = Vec::new();
        for (tasks, mode) in MODES {
            progress.set_message(format!("{mode}: {ops} operations a round"));
            let mut runs = Vec::new();
            for _ in 0..rounds {
                let run = run_tasks(
                    Arc::clone(&target),
                    Arc::clone(&keys),
                    Arc::clone(&value),
                    ops,
                    (tasks, Mix::GetSet),
                )
                .await
                .map_err(|e| failed(mode, e))?;
                runs.push(run);
                progress.inc(1);
            }
            results.push((mode, Summary::of(&runs)));
        }
        Ok::<_, CliError>(results)
    }
    .await;
    progress.finish_and_clear();
    // The workload's keys go, whatever happened: a bench leaves nothing behind.
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    for chunk in refs.chunks(500) {
        cache.delete_many(chunk).await.map_err(|e| ctx.fail(e))?;
    }
    let results = outcome?;

    if ctx.out.json {
        let modes: Vec<serde_json::Value> = results
            .iter()
            .map(|(mode, s)| {
                json!({ "mode": mode, "ops_per_sec": s.ops_per_sec, "p50_us": s.p50_us, "p99_us": s.p99_us })
            })
            .collect();
        return ctx.out.json_value(&json!({
            "alias": ctx.alias,
            "backend": backend,
            "keys": KEYS,
            "value_bytes": VALUE_BYTES,
            "ops_per_round": ops,
            "rounds": rounds,
            "results": modes,
        }));
    }
    if ctx.out.terminal {
        ctx.out.line(&format!(
            "alias {:?} ({backend}): {KEYS} keys, {VALUE_BYTES}-byte values, 90 % get / 10 % set; {ops} operations a round, median of {rounds} rounds",
            ctx.alias
        ))?;
    }
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|(mode, s)| {
            vec![
                (*mode).to_owned(),
                format!("{:.0}", s.ops_per_sec),
                format!("{:.2}", s.p50_us),
                format!("{:.2}", s.p99_us),
            ]
        })
        .collect();
    ctx.out.table(&["mode", "ops/s", "p50 µs", "p99 µs"], &rows)
}
