//! `conformance`: the suite every backend runs, against the alias's store.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use openviper_cache::ClearScope;
use openviper_cache_conformance::{Outcome, Subject, run_suite};
use serde_json::json;

use super::Ctx;
use crate::error::CliError;

/// Built-in backends namespacing their keys with `key_prefix`: the suite gives each check a
/// private prefix of its own there.
const PREFIXED_BACKENDS: &[&str] = &[
    "openviper.cache.RedisCache",
    "openviper.cache.DragonflyCache",
    "openviper.cache.MemcachedCache",
    "openviper.cache.FileCache",
    "openviper.cache.DatabaseCache",
];

pub(crate) async fn conformance(
    ctx: &Ctx,
    allow_flush: bool,
    prefix_option: Option<String>,
    ttl_option: &str,
) -> Result<(), CliError> {
    let (backend, options) = ctx.backend_and_options();
    let cache = ctx.cache()?;
    if cache.capabilities().clear == ClearScope::WholeStore && !allow_flush {
        return Err(CliError::Refused(format!(
            "alias {:?} ({backend}): its clear() empties the whole store, other programs' data included, and the suite calls clear(): pass --allow-flush to run it anyway",
            ctx.alias
        )));
    }
    let prefix_option = prefix_option.or_else(|| {
        let has_one =
            PREFIXED_BACKENDS.contains(&backend.as_str()) || options.get("key_prefix").is_some();
        has_one.then(|| "key_prefix".to_owned())
    });
    let mut subject = Subject::new(backend.clone(), options);
    if let Some(option) = prefix_option {
        subject = subject.with_prefix_option(option);
    }
    subject = if ttl_option.eq_ignore_ascii_case("none") {
        subject.without_ttl_option()
    } else {
        subject.with_ttl_option(ttl_option)
    };

    let spinner = ProgressBar::new_spinner();
    spinner.set_style(
        ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    spinner.set_message(format!(
        "running the conformance suite on alias {:?} ({backend})",
        ctx.alias
    ));
    spinner.enable_steady_tick(Duration::from_millis(120));
    let started = Instant::now();
    let report = run_suite(&subject).await;
    let elapsed = started.elapsed();
    spinner.finish_and_clear();

    let count = |want: fn(&Outcome) -> bool| report.iter().filter(|(_, o)| want(o)).count();
    let passed = count(|o| matches!(o, Outcome::Passed));
    let failed = count(|o| matches!(o, Outcome::Failed(_)));
    let skipped = count(|o| matches!(o, Outcome::Skipped(_)));
    let summary = format!(
        "alias {:?} ({backend}): {passed} passed, {failed} failed, {skipped} skipped in {:.1} s",
        ctx.alias,
        elapsed.as_secs_f64()
    );
    if ctx.out.json {
        let checks: Vec<serde_json::Value> = report
            .iter()
            .map(|(name, outcome)| {
                let (result, detail) = describe(outcome);
                json!({ "name": name, "outcome": result, "detail": detail })
            })
            .collect();
        ctx.out.json_value(&json!({
            "alias": ctx.alias,
            "backend": backend,
            "passed": passed,
            "failed": failed,
            "skipped": skipped,
            "checks": checks,
        }))?;
    } else {
        let rows: Vec<Vec<String>> = report
            .iter()
            .map(|(name, outcome)| {
                let (result, detail) = describe(outcome);
                vec![(*name).to_owned(), result.to_owned(), detail.to_owned()]
            })
            .collect();
        ctx.out.table(&["check", "outcome", "detail"], &rows)?;
        let colour = if failed == 0 {
            anstyle::AnsiColor::Green
        } else {
            anstyle::AnsiColor::Red
        };
        ctx.out.line(&ctx.out.paint(&summary, colour))?;
    }
    if failed > 0 {
        return Err(CliError::ChecksFailed(summary));
    }
    Ok(())
}

fn describe(outcome: &Outcome) -> (&'static str, &str) {
    match outcome {
        Outcome::Passed => ("passed", ""),
        Outcome::Failed(why) => ("failed", why),
        Outcome::Skipped(why) => ("skipped", why),
    }
}
