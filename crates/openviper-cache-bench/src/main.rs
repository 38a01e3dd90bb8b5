//! `cargo xtask bench`: every backend beside the raw client beneath it, in one run, on one
//! workload, with the ratio ours/raw. Writes the table to docs/performance.md (`--out`).
//!
//! `--quick` runs a tenth of the operations (a smoke run; its figures are not for the docs).
#![allow(clippy::print_stdout, clippy::print_stderr, missing_docs)]

mod memory;
mod report;
mod workload;

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use openviper_cache::{CacheManager, CacheSettings};

use crate::report::Table;
use crate::workload::{Measurement, Mix, Target, concurrent, keys, prefill, sequential, value};

/// Each (target, mode) runs this many times, interleaved with the others; the median counts.
const ROUNDS: usize = 3;

struct Args {
    out: Option<PathBuf>,
    quick: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        out: None,
        quick: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--out" => args.out = Some(it.next().ok_or("--out needs a path")?.into()),
            "--quick" => args.quick = true,
            other => {
                return Err(format!(
                    "unknown argument {other:?} (use --out PATH, --quick)"
                ));
            }
        }
    }
    Ok(args)
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let scale = if args.quick { 10 } else { 1 };
    let mut table = Table::default();

    let (growth, rss) = runtime.block_on(memory::resident_bytes_of_100k())?;
    table.notes.push(format!(
        "InMemoryCache resident memory: 100 000 entries of 100 bytes grew RSS by {:.1} MB (process RSS {:.1} MB).",
        growth as f64 / 1e6,
        rss as f64 / 1e6
    ));

    let memory_ops = 2_000_000 / scale;
    runtime.block_on(bench_memory(&mut table, memory_ops))?;

    let text = table.render(&args);
    println!("{text}");
    if let Some(path) = &args.out {
        if args.quick {
            println!("--quick: not writing {}", path.display());
        } else {
            std::fs::write(path, report::document(&text))
                .map_err(|e| format!("{}: {e}", path.display()))?;
            println!("wrote {}", path.display());
        }
    }
    Ok(())
}

/// A named target of a backend group.
struct Entry<T> {
    client: &'static str,
    raw: bool,
    target: Arc<T>,
}

async fn measure<T: Target>(
    entry: &Entry<T>,
    keys: &Arc<Vec<String>>,
    value: &Arc<String>,
    ops: u64,
    (concurrent_mode, mix): (bool, Mix),
) -> Result<Measurement, String> {
    if concurrent_mode {
        concurrent(
            Arc::clone(&entry.target),
            Arc::clone(keys),
            Arc::clone(value),
            ops,
            mix,
        )
        .await
    } else {
        sequential(
            Arc::clone(&entry.target),
            Arc::clone(keys),
            Arc::clone(value),
            ops,
            mix,
        )
        .await
    }
}

/// Runs one backend group: every target, both modes, [`ROUNDS`] interleaved rounds.
macro_rules! group {
    ($table:expr, $backend:expr, $ops:expr, $modes:expr, [$($entry:expr),+ $(,)?]) => {{
        let keys = keys("bench:");
        let value = value();
        $( prefill(&*$entry.target, &keys, &value).await?; )+
        for mode in $modes {
            let mut runs: Vec<(&'static str, bool, Vec<Measurement>)> =
                vec![$( ($entry.client, $entry.raw, Vec::new()) ),+];
            for _ in 0..ROUNDS {
                let mut i = 0;
                $(
                    let m = measure(&$entry, &keys, &value, $ops, mode).await?;
                    runs[i].2.push(m);
                    i += 1;
                )+
                let _ = i;
            }
            $table.add_group($backend, mode, runs);
        }
    }};
}

async fn bench_memory(table: &mut Table, ops: u64) -> Result<(), String> {
    let manager = CacheManager::new(
        CacheSettings::from_toml_str(
            "[CACHES.default]\nBACKEND = \"openviper.cache.InMemoryCache\"\n\
             [CACHES.bytes]\nBACKEND = \"openviper.cache.InMemoryCache\"\n",
        )
        .map_err(|e| e.to_string())?,
    );
    let ours = manager.get("default").map_err(|e| e.to_string())?;
    let ours_bytes = manager.get("bytes").map_err(|e| e.to_string())?;
    let bytes = Bytes::from(value().as_bytes().to_vec());
    let quick = quick_cache::sync::Cache::new(100_000);
    let moka = moka::sync::Cache::new(100_000);
    let typed = Entry {
        client: "InMemoryCache get/set::<String>",
        raw: false,
        target: Arc::new(memory::OursTyped(ours)),
    };
    let raw_bytes = Entry {
        client: "InMemoryCache get_bytes/set_bytes",
        raw: false,
        target: Arc::new(memory::OursBytes(ours_bytes, bytes.clone())),
    };
    let quick = Entry {
        client: "quick_cache 0.7 (raw, beneath)",
        raw: true,
        target: Arc::new(memory::RawQuickCache(quick, bytes.clone())),
    };
    let moka = Entry {
        client: "moka 0.12 sync (raw, candidate)",
        raw: false,
        target: Arc::new(memory::RawMoka(moka, bytes)),
    };
    let modes = [
        (false, Mix::GetSet),
        (true, Mix::GetSet),
        (true, Mix::GetOnly),
    ];
    group!(table, "memory", ops, modes, [quick, typed, raw_bytes, moka]);
    Ok(())
}
