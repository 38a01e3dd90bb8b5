//! `cargo xtask bench`: every backend beside the raw client beneath it, in one run, on one
//! workload, with the ratio ours/raw. Writes the table to docs/performance.md (`--out`).
//!
//! `--quick` runs a tenth of the operations (a smoke run; its figures are not for the docs).
#![allow(clippy::print_stdout, clippy::print_stderr, missing_docs)]

mod beside;
mod database;
mod file;
mod memcached;
mod memory;
mod placement;
mod redis;
mod report;

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use openviper_cache::{CacheManager, CacheSettings};

use crate::report::Table;
use openviper_cache_workload::{
    CacheTarget, Measurement, Mix, TASKS, Target, keys, prefill, run_tasks, standard_ops, value,
};

/// Each (target, mode) runs this many times, interleaved with the others; the median counts.
const ROUNDS: usize = 9;

struct Args {
    out: Option<PathBuf>,
    quick: bool,
    /// `--only memory|redis|memcached|file|database`: one backend's rows (not written to the docs).
    only: Option<String>,
}

impl Args {
    fn runs(&self, backend: &str) -> bool {
        self.only.as_deref().is_none_or(|only| only == backend)
    }
}

/// The backends `--only` takes.
const BACKENDS: [&str; 5] = ["memory", "redis", "memcached", "file", "database"];

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        out: None,
        quick: false,
        only: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--out" => args.out = Some(it.next().ok_or("--out needs a path")?.into()),
            "--quick" => args.quick = true,
            "--only" => {
                let backend = it.next().ok_or("--only needs a backend")?;
                if !BACKENDS.contains(&backend.as_str()) {
                    return Err(format!(
                        "--only {backend:?}: one of {}",
                        BACKENDS.join(", ")
                    ));
                }
                args.only = Some(backend);
            }
            other => {
                return Err(format!(
                    "unknown argument {other:?} (use --out PATH, --quick, --only {})",
                    BACKENDS.join("|")
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

    if args.runs("memory") {
        let (growth, rss) = runtime.block_on(memory::resident_bytes_of_100k())?;
        table.notes.push(format!(
            "InMemoryCache resident memory: 100 000 entries of 100 bytes grew RSS by {:.1} MB (process RSS {:.1} MB).",
            growth as f64 / 1e6,
            rss as f64 / 1e6
        ));
        let memory_ops = standard_ops(true) / scale;
        runtime.block_on(bench_memory(&mut table, memory_ops))?;
    }

    if BACKENDS.iter().any(|&b| b != "memory" && args.runs(b)) {
        placement::keep_to_client_cpus(&mut table)?;
    }

    match std::env::var("OPENVIPER_TEST_REDIS_URL") {
        _ if !args.runs("redis") => {}
        Ok(url) => runtime.block_on(bench_redis(&mut table, &url, standard_ops(false) / scale))?,
        Err(_) => table.notes.push(
            "Redis and Dragonfly: skipped, OPENVIPER_TEST_REDIS_URL is not set (run `cargo xtask bench`).".to_owned(),
        ),
    }

    match std::env::var("OPENVIPER_TEST_MEMCACHED") {
        _ if !args.runs("memcached") => {}
        Ok(servers) => {
            let server = servers.split(',').next().unwrap_or_default().to_owned();
            runtime.block_on(bench_memcached(
                &mut table,
                &server,
                standard_ops(false) / scale,
            ))?;
        }
        Err(_) => table.notes.push(
            "Memcached: skipped, OPENVIPER_TEST_MEMCACHED is not set (run `cargo xtask bench`)."
                .to_owned(),
        ),
    }

    if args.runs("file") {
        runtime.block_on(bench_file(&mut table, standard_ops(false) / scale))?;
    }

    if args.runs("database") {
        runtime.block_on(bench_database(&mut table, 20_000 / scale))?;
    }

    let text = table.render(&args);
    println!("{text}");
    if let Some(path) = &args.out {
        if args.quick || args.only.is_some() {
            println!("--quick or --only: not writing {}", path.display());
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
    let tasks = if concurrent_mode { TASKS } else { 1 };
    run_tasks(
        Arc::clone(&entry.target),
        Arc::clone(keys),
        Arc::clone(value),
        ops,
        (tasks, mix),
    )
    .await
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
             [CACHES.bytes]\nBACKEND = \"openviper.cache.InMemoryCache\"\n\
             [CACHES.bare]\nBACKEND = \"openviper.cache.InMemoryCache\"\nOPTIONS = { instrument = false }\n\
             [CACHES.recorded]\nBACKEND = \"openviper.cache.InMemoryCache\"\n",
        )
        .map_err(|e| e.to_string())?,
    );
    let ours = manager.get("default").map_err(|e| e.to_string())?;
    let ours_bytes = manager.get("bytes").map_err(|e| e.to_string())?;
    let bare = manager.get("bare").map_err(|e| e.to_string())?;
    // This one cache's metric handles bind to a recorder (they do at build time), so that the
    // other rows and groups keep the no-op handles of a service without an exporter.
    let recorder = metrics_util::debugging::DebuggingRecorder::new();
    let recorded = metrics::with_local_recorder(&recorder, || manager.get("recorded"))
        .map_err(|e| e.to_string())?;
    let layer_off = Entry {
        client: LAYER_OFF_CLIENT,
        raw: false,
        target: Arc::new(CacheTarget(bare)),
    };
    let layer_recorded = Entry {
        client: LAYER_RECORDED_CLIENT,
        raw: false,
        target: Arc::new(CacheTarget(recorded)),
    };
    let typed = Entry {
        client: TYPED_CLIENT,
        raw: false,
        target: Arc::new(CacheTarget(ours)),
    };
    let raw_bytes = Entry {
        client: "InMemoryCache get_bytes/set_bytes",
        raw: false,
        target: Arc::new(memory::OursBytes(ours_bytes)),
    };
    let quick = Entry {
        client: "quick_cache 0.7 holding Bytes (raw, beneath)",
        raw: true,
        target: Arc::new(memory::RawQuickCache::<false>(
            quick_cache::sync::Cache::new(100_000),
        )),
    };
    let quick_typed = Entry {
        client: TYPED_REFERENCE_CLIENT,
        raw: false,
        target: Arc::new(memory::RawQuickCacheTyped(quick_cache::sync::Cache::new(
            100_000,
        ))),
    };
    let quick_decoded = Entry {
        client: TYPED_FLOOR_CLIENT,
        raw: false,
        target: Arc::new(memory::RawQuickCacheDecoded(quick_cache::sync::Cache::new(
            100_000,
        ))),
    };
    let quick_copied = Entry {
        client: COPY_FLOOR_CLIENT,
        raw: false,
        target: Arc::new(memory::RawQuickCache::<true>(
            quick_cache::sync::Cache::new(100_000),
        )),
    };
    let moka = Entry {
        client: "moka 0.12 sync holding Bytes (raw, candidate)",
        raw: false,
        target: Arc::new(memory::RawMoka(moka::sync::Cache::new(100_000))),
    };
    let modes = [
        (false, Mix::GetSet),
        (true, Mix::GetSet),
        (true, Mix::GetOnly),
    ];
    group!(
        table,
        "memory",
        ops,
        modes,
        [
            // Ours right after the raw client: the closer in time, the fairer each round's ratio.
            quick,
            typed,
            layer_off,
            layer_recorded,
            raw_bytes,
            quick_typed,
            quick_copied,
            quick_decoded,
            moka
        ]
    );
    let options = serde_json::json!({});
    let row = ("memory", TYPED_CLIENT);
    beside::run(table, row, "openviper.cache.InMemoryCache", &options, ops)?;
    let mut layer = Vec::new();
    for (mode, name) in [
        ((false, Mix::GetSet), "sequential"),
        ((true, Mix::GetSet), "64 tasks"),
        ((true, Mix::GetOnly), "64 tasks get only"),
    ] {
        if let (Some(on), Some(off), Some(recorded)) = (
            table.ratio(TYPED_CLIENT, mode),
            table.ratio(LAYER_OFF_CLIENT, mode),
            table.ratio(LAYER_RECORDED_CLIENT, mode),
        ) {
            layer.push(format!(
                "{name}: {:.2}x with no recorder, {:.2}x with one",
                on / off,
                recorded / off
            ));
        }
    }
    table.notes.push(format!(
        "Instrumentation layer (on by default), InMemoryCache typed get/set against the same cache with instrument = false, in the same rounds: {}.",
        layer.join("; ")
    ));
    let get_only = (true, Mix::GetOnly);
    if let (Some(typed), Some(typed_reference), Some(copied), Some(decoded)) = (
        table.ratio(TYPED_CLIENT, get_only),
        table.ratio(TYPED_REFERENCE_CLIENT, get_only),
        table.ratio(COPY_FLOOR_CLIENT, get_only),
        table.ratio(TYPED_FLOOR_CLIENT, get_only),
    ) {
        table.notes.push(format!(
            "InMemoryCache typed get, 64 tasks, get only: {typed:.2}x raw quick_cache's get of the same keys holding Bytes (a lookup and a reference-count bump). For scale, in the same rounds: raw quick_cache holding String (a copy into an owned String, what a typed get returns) {typed_reference:.2}x; raw + a copy of the hit into a Vec {copied:.2}x; raw + our codec's decode {decoded:.2}x.",
        ));
    }
    Ok(())
}

/// The typed row without the instrumentation layer (`instrument = false`).
const LAYER_OFF_CLIENT: &str = "InMemoryCache get/set::<String>, instrument = false";
/// The typed row with its metrics bound to a recorder (metrics-util's, atomic handles).
const LAYER_RECORDED_CLIENT: &str = "InMemoryCache get/set::<String>, metrics recorder installed";

/// The row of the typed-get target.
const TYPED_CLIENT: &str = "InMemoryCache get/set::<String>";
/// Raw quick_cache handing out owned values, as a typed get does.
const TYPED_REFERENCE_CLIENT: &str = "quick_cache 0.7 holding String (raw, typed reference)";

/// Raw quick_cache plus our decode: what a typed get costs before any of our own code.
const TYPED_FLOOR_CLIENT: &str = "quick_cache 0.7 holding Bytes + codec::decode (raw + decode)";

/// Raw quick_cache plus a copy of each hit: owning the value, before any decoding.
const COPY_FLOOR_CLIENT: &str = "quick_cache 0.7 holding Bytes + copy to a Vec (raw + copy)";

/// Pool size of every Redis client in the comparison.
const REDIS_POOL: usize = 4;

/// The options of every RedisCache and DragonflyCache of the bench.
fn redis_options(url: &str, key_prefix: &str) -> serde_json::Value {
    serde_json::json!({ "url": url, "pool_size": REDIS_POOL, "key_prefix": key_prefix, "timeout_ms": 5_000 })
}

async fn bench_redis(table: &mut Table, url: &str, ops: u64) -> Result<(), String> {
    let value = Bytes::from(value().as_bytes().to_vec());
    let options = |prefix: &str| redis_options(url, prefix);
    let redis =
        openviper_cache::build_backend("bench", "openviper.cache.RedisCache", options("bench:ov:"))
            .map_err(|e| e.to_string())?;
    let dragonfly = openviper_cache::build_backend(
        "bench",
        "openviper.cache.DragonflyCache",
        options("bench:df:"),
    )
    .map_err(|e| e.to_string())?;
    let raw = redis::RawFred::connect(url, REDIS_POOL, "bench:raw:", value.clone(), None).await?;
    let raw_t = redis::RawFred::connect(
        url,
        REDIS_POOL,
        "bench:rawt:",
        value,
        Some(std::time::Duration::from_secs(5)),
    )
    .await?;
    let raw_t = Entry {
        client: "fred 10 Pool + 5 s command timeout (raw, reference)",
        raw: false,
        target: Arc::new(raw_t),
    };
    let raw = Entry {
        client: "fred 10 Pool (raw, beneath)",
        raw: true,
        target: Arc::new(raw),
    };
    let ours = Entry {
        client: "RedisCache get/set::<String>",
        raw: false,
        target: Arc::new(CacheTarget(Arc::clone(&redis))),
    };
    let df = Entry {
        client: "DragonflyCache get/set::<String> (on redis-server)",
        raw: false,
        target: Arc::new(CacheTarget(Arc::clone(&dragonfly))),
    };
    let modes = [(false, Mix::GetSet), (true, Mix::GetSet)];
    group!(table, "redis", ops, modes, [raw, raw_t, ours, df]);
    let options = options("bench:ovcli:");
    let row = ("redis", "RedisCache get/set::<String>");
    beside::run(table, row, "openviper.cache.RedisCache", &options, ops)?;
    redis.clear().await.map_err(|e| e.to_string())?;
    dragonfly.clear().await.map_err(|e| e.to_string())?;
    table.notes.push(format!(
        "Redis: redis-server {} on loopback, pool_size {REDIS_POOL} for every client, {ops} operations per run. DragonflyCache runs against the same redis-server: Dragonfly cannot be installed here.",
        redis_version(),
    ));
    Ok(())
}

fn redis_version() -> String {
    std::process::Command::new("redis-server")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .find_map(|w| w.strip_prefix("v=").map(str::to_owned))
        })
        .unwrap_or_else(|| "(version unknown)".into())
}

/// Pool size of every memcached client in the comparison.
const MEMCACHED_POOL: usize = 8;

fn memcached_options(server: &str, key_prefix: &str) -> serde_json::Value {
    serde_json::json!({ "servers": [server], "pool_size": MEMCACHED_POOL, "key_prefix": key_prefix, "timeout_ms": 5_000 })
}

async fn bench_memcached(table: &mut Table, server: &str, ops: u64) -> Result<(), String> {
    let ours = openviper_cache::build_backend(
        "bench",
        "openviper.cache.MemcachedCache",
        memcached_options(server, "bench:ov:"),
    )
    .map_err(|e| e.to_string())?;
    let value = value();
    let raw = Entry {
        client: "async-memcached 0.9, deadpool without ping (raw, beneath)",
        raw: true,
        target: Arc::new(memcached::RawMemcached::new(
            server,
            MEMCACHED_POOL,
            "bench:raw:",
            &value,
        )?),
    };
    let pinging = Entry {
        client: "deadpool-memcached 0.5 (async-memcached 0.7, ping per checkout; reference)",
        raw: false,
        target: Arc::new(memcached::DeadpoolMemcached::new(
            server,
            MEMCACHED_POOL,
            "bench:dp:",
            &value,
        )?),
    };
    let ours_entry = Entry {
        client: "MemcachedCache get/set::<String>",
        raw: false,
        target: Arc::new(CacheTarget(Arc::clone(&ours))),
    };
    let modes = [(false, Mix::GetSet), (true, Mix::GetSet)];
    group!(table, "memcached", ops, modes, [raw, ours_entry, pinging]);
    let options = memcached_options(server, "bench:ovcli:");
    let name = "openviper.cache.MemcachedCache";
    let row = ("memcached", "MemcachedCache get/set::<String>");
    beside::run(table, row, name, &options, ops)?;
    ours.clear().await.map_err(|e| e.to_string())?;
    table.notes.push(format!(
        "Memcached: memcached {} on loopback, pool_size {MEMCACHED_POOL} for every client, {ops} operations per run.",
        memcached_version(),
    ));
    Ok(())
}

fn memcached_version() -> String {
    std::process::Command::new("memcached")
        .arg("-V")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .nth(1)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "(version unknown)".into())
}

/// The folder of the file rows: on the disk the project builds on (not a tmpfs /tmp).
fn file_bench_dir() -> Result<PathBuf, String> {
    Ok(std::env::current_dir()
        .map_err(|e| e.to_string())?
        .join("target")
        .join("bench-file"))
}

fn file_options(dir: &std::path::Path) -> serde_json::Value {
    serde_json::json!({ "cache_dir": dir, "max_entries": 1_000_000 })
}

async fn bench_file(table: &mut Table, ops: u64) -> Result<(), String> {
    let dir = file_bench_dir()?;
    let _ = std::fs::remove_dir_all(&dir);
    let ours = openviper_cache::build_backend(
        "bench",
        "openviper.cache.FileCache",
        file_options(&dir.join("ours")),
    )
    .map_err(|e| e.to_string())?;
    let value = value();
    let raw = Entry {
        client: "std::fs read / write-temp-and-rename on the blocking pool (raw, beneath)",
        raw: true,
        target: Arc::new(file::RawFiles::new(dir.join("raw"), &value)?),
    };
    let ours_entry = Entry {
        client: "FileCache get/set::<String>",
        raw: false,
        target: Arc::new(CacheTarget(Arc::clone(&ours))),
    };
    let modes = [(false, Mix::GetSet), (true, Mix::GetSet)];
    group!(table, "file", ops, modes, [raw, ours_entry]);
    let options = file_options(&dir.join("ovcache"));
    let row = ("file", "FileCache get/set::<String>");
    beside::run(table, row, "openviper.cache.FileCache", &options, ops)?;
    let _ = std::fs::remove_dir_all(&dir);
    table.notes.push(format!(
        "File: {} on the build disk (target/bench-file), {ops} operations per run; FileCache runs at most 8 file operations at once.",
        filesystem_of(&std::env::current_dir().map_err(|e| e.to_string())?),
    ));
    Ok(())
}

/// Connections of every database client in the comparison (DatabaseCache on SQLite uses one
/// connection on a thread of its own whatever `pool_size` says).
const DATABASE_POOL: usize = 8;

async fn bench_database(table: &mut Table, ops: u64) -> Result<(), String> {
    let value = value();
    let options = |url: &str| serde_json::json!({ "url": url, "pool_size": DATABASE_POOL, "table": "bench_ours", "timeout_ms": 10_000, "key_prefix": "bench:ov:" });
    let build = |url: &str| {
        openviper_cache::build_backend("bench", "openviper.cache.DatabaseCache", options(url))
            .map_err(|e| e.to_string())
    };
    let modes = [(false, Mix::GetSet), (true, Mix::GetSet)];

    // The target folder, on the disk the project builds on (not a tmpfs /tmp).
    let dir = std::env::current_dir()
        .map_err(|e| e.to_string())?
        .join("target")
        .join("bench-sqlite");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let ours = build(&format!("sqlite://{}", dir.join("ours.db").display()))?;
    let raw = Entry {
        client: "rusqlite 0.37, WAL + synchronous=NORMAL, blocking pool (raw, beneath)",
        raw: true,
        target: Arc::new(database::RawSqlite::open(
            &dir.join("raw.db"),
            DATABASE_POOL,
            &value,
        )?),
    };
    let ours_entry = Entry {
        client: "DatabaseCache (SQLite) get/set::<String>",
        raw: false,
        target: Arc::new(CacheTarget(Arc::clone(&ours))),
    };
    group!(table, "sqlite", ops, modes, [raw, ours_entry]);
    ours.close().await.map_err(|e| e.to_string())?;
    table.notes.push(format!(
        "SQLite: bundled SQLite {} in files on the build disk (target/bench-sqlite), {ops} operations per run; raw rusqlite uses {DATABASE_POOL} connections (each read and write on tokio's blocking pool), DatabaseCache one connection on a thread of its own.",
        rusqlite::version()
    ));

    match std::env::var("OPENVIPER_TEST_POSTGRES_URL") {
        Ok(url) => {
            let ours = build(&url)?;
            let raw = Entry {
                client: "tokio-postgres 0.7, deadpool, prepared statements (raw, beneath)",
                raw: true,
                target: Arc::new(database::RawPostgres::connect(&url, DATABASE_POOL, &value).await?),
            };
            let ours_entry = Entry {
                client: "DatabaseCache (PostgreSQL) get/set::<String>",
                raw: false,
                target: Arc::new(CacheTarget(Arc::clone(&ours))),
            };
            group!(table, "postgres", ops, modes, [raw, ours_entry]);
            ours.clear().await.map_err(|e| e.to_string())?;
            table.notes.push(format!(
                "PostgreSQL: PostgreSQL 15 on loopback (fsync off), pool_size {DATABASE_POOL} for both clients, {ops} operations per run."
            ));
        }
        Err(_) => table.notes.push("PostgreSQL: skipped, OPENVIPER_TEST_POSTGRES_URL is not set (run `cargo xtask bench`).".to_owned()),
    }

    match std::env::var("OPENVIPER_TEST_MYSQL_URL") {
        Ok(url) => {
            let ours = build(&url)?;
            let raw = Entry {
                client: "mysql_async 0.36, deadpool, statements cached (raw, beneath)",
                raw: true,
                target: Arc::new(database::RawMysql::connect(&url, DATABASE_POOL, &value).await?),
            };
            let ours_entry = Entry {
                client: "DatabaseCache (MariaDB) get/set::<String>",
                raw: false,
                target: Arc::new(CacheTarget(Arc::clone(&ours))),
            };
            group!(table, "mariadb", ops, modes, [raw, ours_entry]);
            ours.clear().await.map_err(|e| e.to_string())?;
            table.notes.push(format!(
                "MariaDB: MariaDB 10.11 on loopback, pool_size {DATABASE_POOL} for both clients, {ops} operations per run."
            ));
        }
        Err(_) => table.notes.push(
            "MariaDB: skipped, OPENVIPER_TEST_MYSQL_URL is not set (run `cargo xtask bench`)."
                .to_owned(),
        ),
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn filesystem_of(path: &std::path::Path) -> String {
    std::process::Command::new("df")
        .args(["--output=fstype"])
        .arg(path)
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .nth(1)
                .map(|l| l.trim().to_owned())
        })
        .unwrap_or_else(|| "(file system unknown)".into())
}
