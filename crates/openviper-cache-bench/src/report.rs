//! The table `cargo xtask bench` prints and writes to docs/performance.md.

use crate::beside::Beside;
use crate::{Args, ROUNDS};
use openviper_cache_workload::{KEYS, Measurement, Mix, Summary, TASKS, VALUE_BYTES, median};

/// One line of the table.
pub(crate) struct Row {
    backend: &'static str,
    client: &'static str,
    mode: (bool, Mix),
    ops_per_sec: f64,
    p50_us: f64,
    p99_us: f64,
    ratio: Option<f64>,
    /// The lowest and highest of the rounds' paired ratios.
    spread: Option<(f64, f64)>,
}

#[derive(Default)]
pub(crate) struct Table {
    rows: Vec<Row>,
    pub(crate) notes: Vec<String>,
    /// `ovcache bench` beside some rows.
    pub(crate) beside: Vec<Beside>,
}

impl Table {
    /// Adds one backend's runs in one mode; ratios are against the group's raw client.
    pub(crate) fn add_group(
        &mut self,
        backend: &'static str,
        (concurrent, mix): (bool, Mix),
        runs: Vec<(&'static str, bool, Vec<Measurement>)>,
    ) {
        let summarize = |measurements: &[Measurement]| {
            let summary = Summary::of(measurements);
            (summary.ops_per_sec, summary.p50_us, summary.p99_us)
        };
        let raw_runs = runs.iter().find(|(_, raw, _)| *raw).map(|(_, _, m)| m);
        // Paired: each round's ratio is taken between runs a moment apart, so that a slow phase
        // of the machine (they last seconds on a shared VM) skews one round, not the ratio.
        let paired_ratios = |measurements: &[Measurement]| -> Option<Vec<f64>> {
            raw_runs.map(|raw| {
                measurements
                    .iter()
                    .zip(raw)
                    .map(|(ours, raw)| ours.ops_per_sec() / raw.ops_per_sec())
                    .collect()
            })
        };
        for (client, raw, measurements) in &runs {
            let (ops, p50, p99) = summarize(measurements);
            let ratios = paired_ratios(measurements).filter(|_| !*raw);
            let spread = ratios.as_ref().and_then(|ratios| {
                let low = ratios.iter().copied().reduce(f64::min)?;
                let high = ratios.iter().copied().reduce(f64::max)?;
                Some((low, high))
            });
            self.rows.push(Row {
                backend,
                client,
                mode: (concurrent, mix),
                ops_per_sec: ops,
                p50_us: p50,
                p99_us: p99,
                ratio: ratios.map(median),
                spread,
            });
        }
    }

    /// The ratio ours/raw of `client` in `mode`, once its group is added.
    pub(crate) fn ratio(&self, client: &str, mode: (bool, Mix)) -> Option<f64> {
        self.rows
            .iter()
            .find(|row| row.client == client && row.mode == mode)
            .and_then(|row| row.ratio)
    }

    /// The median ops/s and the p50 (µs) of `client` in `mode`, once its group is added.
    pub(crate) fn summary(&self, client: &str, mode: (bool, Mix)) -> Option<(f64, f64)> {
        self.rows
            .iter()
            .find(|row| row.client == client && row.mode == mode)
            .map(|row| (row.ops_per_sec, row.p50_us))
    }

    /// The markdown table and notes.
    pub(crate) fn render(&self, args: &Args) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "Workload: {KEYS} keys, {VALUE_BYTES}-byte values, 90 % get / 10 % set, prefilled; sequential = 1 task, concurrent = {TASKS} tasks on a 2-worker tokio runtime. ops/s is the median of {ROUNDS} interleaved rounds, ours/raw the median of the {ROUNDS} rounds' ratios, each taken between runs a moment apart, and spread the lowest and highest of them; p50/p99 from every 8th operation of all rounds.{}\n\n",
            if args.quick { " QUICK RUN (a tenth of the operations)." } else { "" }
        ));
        out.push_str("| backend | client | mode | ops/s | p50 µs | p99 µs | ours/raw | spread |\n");
        out.push_str("|---|---|---|---:|---:|---:|---:|---:|\n");
        for row in &self.rows {
            out.push_str(&format!(
                "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {} | {} |\n",
                row.backend,
                row.client,
                mode_name(row.mode),
                row.ops_per_sec,
                row.p50_us,
                row.p99_us,
                row.ratio
                    .map_or_else(|| "raw".to_owned(), |r| format!("{r:.2}x")),
                row.spread
                    .map_or_else(String::new, |(low, high)| format!("{low:.2}–{high:.2}")),
            ));
        }
        if !self.beside.is_empty() {
            out.push_str(&format!(
                "\n`ovcache bench` beside the rows above: the release binary, `ovcache --json bench --ops N --rounds {ROUNDS}`, run right after the row's group on an alias with the row's backend and options (the same workload code; the alias built by the manager, instrumentation layer on). It inherits the bench's CPUs (the placement note below): unpinned, a sequential network figure is bimodal on a VM, a p50 near 8 µs when the client's and the server's threads shared a CPU and near 60 µs when each wake-up crossed CPUs (see docs/cli.md), so compare rows whose p50 agree:\n\n"
            ));
            out.push_str("| backend | bench row | mode | bench ops/s | bench p50 µs | ovcache ops/s | ovcache p50 µs | ovcache/bench |\n");
            out.push_str("|---|---|---|---:|---:|---:|---:|---:|\n");
            for row in &self.beside {
                let ((bench, bench_p50), (ovcache, ovcache_p50)) = (row.bench, row.ovcache);
                out.push_str(&format!(
                    "| {} | {} | {} | {bench:.0} | {bench_p50:.2} | {ovcache:.0} | {ovcache_p50:.2} | {:.2}x |\n",
                    row.backend,
                    row.client,
                    mode_name(row.mode),
                    ovcache / bench,
                ));
            }
        }
        for note in &self.notes {
            out.push_str(&format!("\n{note}\n"));
        }
        out
    }
}

fn mode_name(mode: (bool, Mix)) -> &'static str {
    match mode {
        (false, Mix::GetSet) => "sequential",
        (true, Mix::GetSet) => "64 tasks",
        (false, Mix::GetOnly) => "sequential, get only",
        (true, Mix::GetOnly) => "64 tasks, get only",
    }
}

/// docs/performance.md around the table.
pub(crate) fn document(table: &str) -> String {
    format!(
        "# Performance\n\n\
         Measured by `cargo xtask bench` (the crate `openviper-cache-bench`, release build), which\n\
         starts the servers, runs every backend and, in the same run, the raw client beneath it on\n\
         the same server and keys, then `ovcache bench` beside some rows (the second table), and\n\
         rewrites this file. Figures are from one run on the machine below; rerun it on yours\n\
         before relying on them. Analyses measured by hand beside it live with what they\n\
         measure: the instrumentation layer's cost in instructions in\n\
         [observability.md](observability.md#cost), `ovcache bench` and the CPU placement of a\n\
         sequential round trip in [cli.md](cli.md#bench---ops-n---rounds-n), each backend's costs\n\
         in its page under [backends/](backends/).\n\n\
         Machine: {}\n\n\
         {table}",
        machine()
    )
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map_or_else(
            || "unknown CPU".to_owned(),
            |rest| rest.trim_start_matches([' ', '\t', ':']).to_owned(),
        );
    // The machine's, not this process's: the bench has pinned itself by now (`placement`).
    let cores = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!("{cpu}, {cores} cores, Linux; {rustc}")
}
