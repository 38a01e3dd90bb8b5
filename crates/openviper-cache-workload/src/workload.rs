//! The workload itself: keys, value, mixes, the tasks that drive a [`Target`], and what a run
//! measured.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Operations per run of the standard workload: 2 000 000 on an in-process store, 60 000
/// on one behind a network or a disk (what `cargo xtask bench` runs, rounds of a second or
/// so each).
///
/// ```
/// assert_eq!(openviper_cache_workload::standard_ops(false), 60_000);
/// ```
pub fn standard_ops(in_process: bool) -> u64 {
    if in_process { 2_000_000 } else { 60_000 }
}

/// Keys in the working set.
pub const KEYS: usize = 10_000;
/// Bytes per value.
pub const VALUE_BYTES: usize = 100;
/// Concurrent tasks in the concurrent mode.
pub const TASKS: usize = 64;
/// One operation in this many has its latency recorded (timing every one would add the
/// clock's own cost to every operation of the fastest backends).
const SAMPLE_EVERY: u64 = 8;

/// A store driven by the workload: one of ours, or a raw client.
pub trait Target: Send + Sync + 'static {
    /// Reads `key`; `true` on a hit.
    fn get(&self, key: &str) -> impl Future<Output = Result<bool, String>> + Send;
    /// Writes `value` (100 bytes) under `key`.
    fn set(&self, key: &str, value: &str) -> impl Future<Output = Result<(), String>> + Send;
}

/// What one run measured.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// Operations done.
    pub ops: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// The latency of every 8th operation, in nanoseconds.
    pub latencies_ns: Vec<u64>,
}

impl Measurement {
    /// Throughput of the run.
    pub fn ops_per_sec(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
    }
}

/// Several rounds of one mode, summed up as `cargo xtask bench` reports them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// The median of the rounds' throughputs.
    pub ops_per_sec: f64,
    /// The median latency of the sampled operations of every round, in microseconds.
    pub p50_us: f64,
    /// The 99th percentile of the same samples, in microseconds.
    pub p99_us: f64,
}

impl Summary {
    /// The summary of `rounds`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use openviper_cache_workload::{Measurement, Summary};
    /// let round = |ops| Measurement { ops, elapsed: Duration::from_secs(1), latencies_ns: vec![1_000, 3_000] };
    /// let summary = Summary::of(&[round(10), round(30), round(20)]);
    /// assert_eq!(summary.ops_per_sec, 20.0);
    /// assert_eq!((summary.p50_us, summary.p99_us), (3.0, 3.0));
    /// ```
    pub fn of(rounds: &[Measurement]) -> Self {
        let mut latencies: Vec<u64> = rounds
            .iter()
            .flat_map(|m| m.latencies_ns.iter().copied())
            .collect();
        latencies.sort_unstable();
        Self {
            ops_per_sec: median(rounds.iter().map(Measurement::ops_per_sec).collect()),
            p50_us: percentile(&latencies, 0.50),
            p99_us: percentile(&latencies, 0.99),
        }
    }
}

/// The median of `values` (the upper one of an even count; 0 for none).
///
/// ```
/// assert_eq!(openviper_cache_workload::median(vec![3.0, 1.0, 2.0]), 2.0);
/// ```
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// The `p` quantile of sorted nanoseconds, in microseconds.
fn percentile(sorted: &[u64], p: f64) -> f64 {
    let Some(last) = sorted.len().checked_sub(1) else {
        return 0.0;
    };
    let index = ((last as f64) * p).round() as usize;
    sorted[index.min(last)] as f64 / 1_000.0
}

/// The working set's keys, under `prefix`.
pub fn keys(prefix: &str) -> Arc<Vec<String>> {
    Arc::new((0..KEYS).map(|i| format!("{prefix}{i}")).collect())
}

/// The value every set writes.
pub fn value() -> Arc<String> {
    Arc::new("v".repeat(VALUE_BYTES))
}

/// Writes every key once, so that gets hit.
pub async fn prefill<T: Target>(target: &T, keys: &[String], value: &str) -> Result<(), String> {
    for key in keys {
        target.set(key, value).await?;
    }
    Ok(())
}

/// What the operations are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mix {
    /// 90 % get, 10 % set: the workload.
    GetSet,
    /// Gets only: the read path alone.
    GetOnly,
}

/// `ops` operations from one task.
async fn drive<T: Target>(
    target: &T,
    keys: &[String],
    value: &str,
    ops: u64,
    seed: u64,
    mix: Mix,
) -> Result<Vec<u64>, String> {
    let mut rng = seed | 1;
    let mut samples = Vec::with_capacity((ops / SAMPLE_EVERY) as usize + 1);
    for n in 0..ops {
        // xorshift64: cheap, deterministic, and the same sequence for ours and raw.
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let key = &keys[(rng % keys.len() as u64) as usize];
        let timed = n.is_multiple_of(SAMPLE_EVERY);
        let started = timed.then(Instant::now);
        if mix == Mix::GetSet && rng.is_multiple_of(10) {
            target.set(key, value).await?;
        } else {
            target.get(key).await?;
        }
        if let Some(started) = started {
            samples.push(started.elapsed().as_nanos() as u64);
        }
    }
    Ok(samples)
}

/// `task_count` tasks sharing `ops` operations (1 task: the sequential mode), on the caller's
/// tokio runtime; the first error of any task ends the run.
pub async fn run_tasks<T: Target>(
    target: Arc<T>,
    keys: Arc<Vec<String>>,
    value: Arc<String>,
    ops: u64,
    (task_count, mix): (usize, Mix),
) -> Result<Measurement, String> {
    let task_count = task_count.max(1) as u64;
    let per_task = ops / task_count;
    let started = Instant::now();
    let tasks: Vec<_> = (0..task_count)
        .map(|t| {
            let (target, keys, value) =
                (Arc::clone(&target), Arc::clone(&keys), Arc::clone(&value));
            tokio::spawn(async move {
                drive(
                    &*target,
                    &keys,
                    &value,
                    per_task,
                    t.wrapping_mul(0x2545_F491_4F6C_DD1D) + 7,
                    mix,
                )
                .await
            })
        })
        .collect();
    let mut latencies_ns = Vec::new();
    for task in tasks {
        latencies_ns.extend(task.await.map_err(|e| e.to_string())??);
    }
    Ok(Measurement {
        ops: per_task * task_count,
        elapsed: started.elapsed(),
        latencies_ns,
    })
}
