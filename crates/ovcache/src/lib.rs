//! `ovcache`: the command-line tool for any configured openviper-cache.
//!
//! It reads the same settings as the library (`--settings PATH`, else `OPENVIPER_SETTINGS`,
//! else `./settings.toml` when present, else the in-memory default) and works on one alias
//! (`--alias`, default `default`): `get`, `set`, `delete`, `has`, `keys`, `clear`, `incr`,
//! `ttl`, `backends`, `aliases`, `check`, `conformance`, `bench` and `completions`. Every
//! command takes `--json`; errors are one line naming the alias, key or option, with the
//! [`exit`] codes.
//!
//! A team whose services use a backend of their own builds their own `ovcache`, linking that
//! crate, with [`run`] as its `main`:
//!
//! ```no_run
//! use std::process::ExitCode;
//! // use myapp_cache as _; // keeps "myapp.cache.MyCustomCache" registered
//!
//! fn main() -> ExitCode {
//!     ovcache::run(std::env::args_os())
//! }
//! ```
#![deny(missing_docs)]

mod cli;
mod commands;
mod error;
pub mod exit;
mod output;
mod settings;
mod stored;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::error::CliError;

/// Runs `ovcache` with `args` (the program name first, as `std::env::args_os()` gives them)
/// and returns its exit code: 0 on success, else one of [`exit`]'s codes after one line on
/// stderr.
///
/// ```
/// use std::process::ExitCode;
/// assert_eq!(ovcache::run(["ovcache", "backends"]), ExitCode::SUCCESS);
/// assert_eq!(ovcache::run(["ovcache", "no-such-command"]), ExitCode::from(ovcache::exit::USAGE));
/// ```
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    // Keeps every built-in backend of this build, and so its registration, linked.
    let _ = openviper_cache::builtin_backends();
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(usage) => {
            let _ = usage.print();
            return ExitCode::from(u8::try_from(usage.exit_code()).unwrap_or(exit::USAGE));
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return report(&CliError::Other(format!("cannot start tokio: {error}"))),
    };
    let outcome = runtime.block_on(commands::dispatch(cli));
    // Backends' background tasks (reconnects, culling) must not hold the exit.
    runtime.shutdown_background();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => report(&error),
    }
}

/// Prints `error` as one line on stderr and gives its exit code.
fn report(error: &CliError) -> ExitCode {
    use std::io::Write;
    if matches!(error, CliError::Answered) {
        return ExitCode::from(error.exit_code());
    }
    let stderr = std::io::stderr();
    let label = output::paint("error:", anstyle::AnsiColor::Red, &stderr);
    let _ = writeln!(stderr.lock(), "ovcache: {label} {error}");
    ExitCode::from(error.exit_code())
}
