//! `cargo xtask`: the project's own commands.
//!
//! - `services up | down | status`: the real servers the tests use, on loopback.
//! - `test`: services up, `cargo test --workspace --all-features` with
//!   `OPENVIPER_REQUIRE_SERVICES=1`, then down (only what this run started).
//! - `bench [--quick] [--only memory|redis|memcached|file|database]`: the side-by-side benchmark (the release
//!   `ovcache` built first, run beside some rows; the servers on the last CPU, the bench on the
//!   others, see `placement`); a full run writes docs/performance.md.
//! - `lint`: fmt check, clippy `-D warnings`, `cargo deny check licenses bans sources`.
//! - `ci`: lint, then test.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod databases;
mod placement;
mod services;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["services", "up"] => services::up().map(|started| {
            services::print_env(&started.env);
        }),
        ["services", "down"] => services::down_all(),
        ["services", "status"] => services::status(),
        ["test", rest @ ..] => test(rest),
        ["bench", rest @ ..] => bench(rest),
        ["lint"] => lint(),
        ["ci"] => lint().and_then(|()| test(&[])),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage: cargo xtask <services up|down|status | test [cargo test args] | bench [--quick] [--only memory|redis|memcached|file|database] | lint | ci>";

/// The workspace root (xtask lives one level below it).
///
/// `cargo run` tells the binary where its manifest is; that is preferred to the path compiled
/// in, because two checkouts sharing one target directory share one xtask binary.
fn root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest_dir
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(root());
    command
}

/// Runs `command`, echoing it, and fails with its exit status.
fn run(command: &mut Command) -> Result {
    eprintln!("$ {}", describe(command));
    let status = command
        .status()
        .map_err(|e| format!("cannot run {}: {e}", describe(command)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", describe(command)))
    }
}

fn describe(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|s| s.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn test(extra: &[&str]) -> Result {
    let started = services::up()?;
    let mut command = cargo();
    command
        .args(["test", "--workspace", "--all-features"])
        .args(extra)
        .env("OPENVIPER_REQUIRE_SERVICES", "1")
        .envs(started.env.iter().map(|(k, v)| (k, v)));
    let mut outcome = run_counting_tests(&mut command);
    if outcome.is_ok() && extra.is_empty() {
        // DatabaseCache without its server dialects: what a user who enables only
        // `database-sqlite` gets for a postgres:// or mysql:// URL.
        outcome = run_counting_tests(cargo().args([
            "test",
            "-p",
            "openviper-cache-database",
            "--no-default-features",
            "--features",
            "sqlite",
            "--test",
            "feature_off",
        ]));
    }
    let stopped = services::down(&started.ours);
    outcome.and(stopped)
}

/// Runs `cargo test`, passing its output through, and closes with the totals of every test
/// binary on one line (`tests: N passed, N failed, N skipped`): cargo's own last line is only the
/// last binary's, often a doc-test run of a crate without doc-tests.
fn run_counting_tests(command: &mut Command) -> Result {
    use std::io::{BufRead, BufReader};

    eprintln!("$ {}", describe(command));
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", describe(command)))?;
    let mut totals = [0u64; 3];
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| format!("reading cargo test output: {e}"))?;
            println!("{line}");
            if let Some(counts) = line.trim().strip_prefix("test result: ") {
                for (total, word) in totals.iter_mut().zip(["passed", "failed", "ignored"]) {
                    *total += count_before(counts, word);
                }
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for {}: {e}", describe(command)))?;
    println!(
        "tests: {} passed, {} failed, {} skipped",
        totals[0], totals[1], totals[2]
    );
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", describe(command)))
    }
}

/// The number just before `word` in `ok. 12 passed; 0 failed; 1 ignored; ...`.
fn count_before(text: &str, word: &str) -> u64 {
    text.split(';')
        .filter_map(|part| {
            part.trim()
                .trim_start_matches("ok. ")
                .trim_start_matches("FAILED. ")
                .split_once(' ')
        })
        .find(|(_, name)| *name == word)
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or(0)
}

fn bench(extra: &[&str]) -> Result {
    // One build of both binaries (one feature set, so nothing is built twice); the bench sets
    // `ovcache bench` beside its rows.
    run(cargo().args([
        "build",
        "--release",
        "-p",
        "openviper-cache-bench",
        "-p",
        "ovcache",
    ]))?;
    let release = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root().join("target"), |dir| root().join(dir))
        .join("release");
    let started = services::up()?;
    let mut command = Command::new(release.join("openviper-cache-bench"));
    command
        .current_dir(root())
        .arg("--out")
        .arg(root().join("docs/performance.md"))
        .args(extra)
        .env("OPENVIPER_BENCH_OVCACHE", release.join("ovcache"))
        .envs(started.env.iter().map(|(k, v)| (k, v)));
    let apart = placement::servers_apart();
    if let Some(apart) = &apart {
        command.env(placement::CLIENT_CPUS_ENV, &apart.client_cpus);
    }
    let outcome = run(&mut command);
    if let Some(apart) = &apart {
        apart.give_back();
    }
    let stopped = services::down(&started.ours);
    outcome.and(stopped)
}

fn lint() -> Result {
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ]))?;
    run(cargo().args([
        "deny",
        "--all-features",
        "check",
        "licenses",
        "bans",
        "sources",
    ]))
}
