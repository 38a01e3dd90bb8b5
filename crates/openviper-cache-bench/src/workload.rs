//! The one workload every backend runs: 10 000 keys, 100-byte values, 90 % get / 10 % set,
//! sequentially and from 64 concurrent tasks.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Keys in the working set.
pub(crate) const KEYS: usize = 10_000;
/// Bytes per value.
pub(crate) const VALUE_BYTES: usize = 100;
/// Concurrent tasks in the concurrent mode.
pub(crate) const TASKS: usize = 64;
/// One operation in this many has its latency recorded (timing every one would add the
/// clock's own cost to every operation of the fastest backends).
const SAMPLE_EVERY: u64 = 8;

/// A store driven by the workload: one of ours, or a raw client.
pub(crate) trait Target: Send + Sync + 'static {
    /// Reads `key`; `true` on a hit.
    fn get(&self, key: &str) -> impl Future<Output = Result<bool, String>> + Send;
    /// Writes `value` (100 bytes) under `key`.
    fn set(&self, key: &str, value: &str) -> impl Future<Output = Result<(), String>> + Send;
}

/// What one run measured.
#[derive(Debug, Clone)]
pub(crate) struct Measurement {
    pub(crate) ops: u64,
    pub(crate) elapsed: Duration,
    pub(crate) latencies_ns: Vec<u64>,
}

impl Measurement {
    pub(crate) fn ops_per_sec(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64()
    }
}

/// The working set's keys, under `prefix`.
pub(crate) fn keys(prefix: &str) -> Arc<Vec<String>> {
    Arc::new((0..KEYS).map(|i| format!("{prefix}{i}")).collect())
}

/// The value every set writes.
pub(crate) fn value() -> Arc<String> {
    Arc::new("v".repeat(VALUE_BYTES))
}

/// Writes every key once, so that gets hit.
pub(crate) async fn prefill<T: Target>(
    target: &T,
    keys: &[String],
    value: &str,
) -> Result<(), String> {
    for key in keys {
        target.set(key, value).await?;
    }
    Ok(())
}

/// What the operations are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mix {
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

/// `task_count` tasks sharing `ops` operations (1 task: the sequential mode).
pub(crate) async fn run_tasks<T: Target>(
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
