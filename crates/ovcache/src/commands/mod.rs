//! One module per group of commands; [`dispatch`] runs the one the command line names.

mod bench;
mod check;
mod conformance;
mod entries;
mod info;

use std::sync::Arc;

use openviper_cache::{BaseCache, CacheError, CacheManager, DEFAULT_BACKEND};

use crate::cli::{Cli, Command};
use crate::error::CliError;
use crate::output::Out;
use crate::settings::{self, Source};

/// What every command works with: the settings, the alias and the output.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) alias: String,
    pub(crate) manager: CacheManager,
    pub(crate) source: Source,
    pub(crate) out: Out,
}

impl Ctx {
    /// The alias's cache, built on first use.
    pub(crate) fn cache(&self) -> Result<Arc<dyn BaseCache>, CliError> {
        self.manager.get(&self.alias).map_err(|e| self.fail(e))
    }

    /// `error` of an operation on the alias.
    pub(crate) fn fail(&self, error: CacheError) -> CliError {
        CliError::Cache {
            alias: self.alias.clone(),
            source: error,
        }
    }

    /// The alias's backend name and `OPTIONS` (not redacted: for building, never printing).
    pub(crate) fn backend_and_options(&self) -> (String, serde_json::Value) {
        match self.manager.settings().alias(&self.alias) {
            Some(entry) => (entry.backend.clone(), entry.options.clone()),
            None => (DEFAULT_BACKEND.to_owned(), serde_json::json!({})),
        }
    }
}

/// Runs the command of `cli`.
pub(crate) async fn dispatch(cli: Cli) -> Result<(), CliError> {
    let out = Out::new(cli.json);
    // Commands that need no settings.
    match &cli.command {
        Command::Completions { shell } => return info::completions(*shell),
        Command::Backends => return info::backends(out),
        _ => {}
    }
    let (settings, source) = settings::load(cli.settings.as_deref())?;
    let ctx = Ctx {
        alias: cli.alias,
        manager: CacheManager::new(settings),
        source,
        out,
    };
    let outcome = run(&ctx, cli.command).await;
    if cli.stats {
        print_stats(&ctx)?;
    }
    let closed = ctx.manager.close_all().await;
    outcome?;
    closed.map_err(|e| ctx.fail(e))
}

async fn run(ctx: &Ctx, command: Command) -> Result<(), CliError> {
    match command {
        Command::Get { key, raw } => entries::get(ctx, &key, raw).await,
        Command::Set {
            key,
            value,
            ttl,
            string,
            raw,
        } => entries::set(ctx, &key, &value, ttl, (string, raw)).await,
        Command::Delete { keys } => entries::delete(ctx, &keys).await,
        Command::Has { key } => entries::has(ctx, &key).await,
        Command::Keys { prefix } => entries::keys(ctx, &prefix).await,
        Command::Clear { yes } => entries::clear(ctx, yes).await,
        Command::Incr { key, delta } => entries::incr(ctx, &key, delta).await,
        Command::Ttl { key } => entries::ttl(ctx, &key).await,
        Command::Aliases => info::aliases(ctx),
        Command::Check => check::check(ctx).await,
        Command::Conformance {
            allow_flush,
            prefix_option,
            ttl_option,
        } => conformance::conformance(ctx, allow_flush, prefix_option, &ttl_option).await,
        Command::Bench { ops, rounds } => bench::bench(ctx, ops, rounds).await,
        Command::Stats => info::stats(ctx),
        Command::Backends | Command::Completions { .. } => Ok(()),
    }
}

/// The alias's counters of this run, from the instrumentation layer, on stderr.
fn print_stats(ctx: &Ctx) -> Result<(), CliError> {
    use std::io::Write;
    let stats = ctx.manager.stats(&ctx.alias).map_err(|e| ctx.fail(e))?;
    let ratio = stats.hit_ratio().map_or_else(
        || "no reads".to_owned(),
        |r| format!("hit ratio {:.1} %", r * 100.0),
    );
    let known: Vec<String> = info::gauge_values(&stats.gauges)
        .into_iter()
        .filter_map(|(name, value)| Some(format!("{} {name}", value?)))
        .collect();
    let now = if known.is_empty() {
        String::new()
    } else {
        format!("; now {}", known.join(", "))
    };
    let _ = writeln!(
        std::io::stderr().lock(),
        "stats of alias {:?} in this run: {} hits, {} misses, {} errors, {} operations \
         ({ratio}){now}",
        ctx.alias,
        stats.hits,
        stats.misses,
        stats.errors,
        stats.operations
    );
    Ok(())
}
