//! The one benchmark workload of openviper-cache: 10 000 keys, 100-byte values, 90 % get /
//! 10 % set, sequentially and from 64 concurrent tasks.
//!
//! `cargo xtask bench` runs it on every backend beside the raw client beneath it, and
//! `ovcache bench` runs it on a configured alias: both drive the cache through
//! [`CacheTarget`] and [`run_tasks`], so their figures are of the same code path.
//!
//! ```
//! use std::sync::Arc;
//! use openviper_cache_core::{CacheManager, CacheSettings};
//! use openviper_cache_workload::{CacheTarget, Mix, Summary, keys, prefill, run_tasks, value};
//! # use openviper_cache_memory as _;
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), String> {
//! let cache = CacheManager::new(CacheSettings::default()).get("default").map_err(|e| e.to_string())?;
//! let target = Arc::new(CacheTarget(cache));
//! let (keys, value) = (keys("bench:"), value());
//! prefill(&*target, &keys, &value).await?;
//! let run = run_tasks(target, keys, value, 20_000, (64, Mix::GetSet)).await?;
//! let summary = Summary::of(&[run]);
//! assert!(summary.ops_per_sec > 0.0 && summary.p50_us <= summary.p99_us);
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod target;
mod workload;

pub use target::CacheTarget;
pub use workload::{
    KEYS, Measurement, Mix, Summary, TASKS, Target, VALUE_BYTES, keys, median, prefill, run_tasks,
    standard_ops, value,
};
