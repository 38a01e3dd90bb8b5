//! Micro-benchmarks of InMemoryCache's hot paths.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use openviper_cache_core::{BaseCache, Bytes, CacheExt};
use openviper_cache_memory::{InMemoryCache, InMemoryOptions};

fn memory(c: &mut Criterion) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().build() else {
        return;
    };
    let cache = InMemoryCache::new(InMemoryOptions::default());
    let keys: Vec<String> = (0..10_000).map(|i| format!("bench:{i}")).collect();
    let value = "v".repeat(100);
    runtime.block_on(async {
        for key in &keys {
            let _ = cache.set(key, &value, None).await;
        }
    });
    let mut i = 0;
    c.bench_function("memory/get_bytes_hit", |b| {
        b.iter(|| {
            i = (i + 1) % keys.len();
            runtime.block_on(cache.get_bytes(black_box(&keys[i])))
        })
    });
    c.bench_function("memory/get_typed_hit", |b| {
        b.iter(|| {
            i = (i + 1) % keys.len();
            runtime.block_on(cache.get::<String>(black_box(&keys[i])))
        })
    });
    let bytes = Bytes::from(value.clone());
    c.bench_function("memory/set_bytes", |b| {
        b.iter(|| {
            i = (i + 1) % keys.len();
            runtime.block_on(cache.set_bytes(black_box(&keys[i]), bytes.clone(), None))
        })
    });
    c.bench_function("memory/incr", |b| {
        b.iter(|| runtime.block_on(cache.incr("counter", 1)))
    });
    c.bench_function("memory/get_miss", |b| {
        b.iter(|| runtime.block_on(cache.get_bytes(black_box("missing:key"))))
    });
}

criterion_group!(benches, memory);
criterion_main!(benches);
