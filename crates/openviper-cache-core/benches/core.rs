//! Micro-benchmarks of the per-call work every backend shares: key validation and the codec.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use openviper_cache_core::codec::{decode, encode};
use openviper_cache_core::validate_cache_key;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Profile {
    id: u64,
    name: String,
    tags: Vec<String>,
}

fn validation(c: &mut Criterion) {
    let short = "user:12345:profile";
    let long = "k".repeat(250);
    let unicode = "ключ:".repeat(40);
    c.bench_function("validate/short_ascii", |b| {
        b.iter(|| validate_cache_key(black_box(short)))
    });
    c.bench_function("validate/250_ascii", |b| {
        b.iter(|| validate_cache_key(black_box(&long)))
    });
    c.bench_function("validate/200_unicode", |b| {
        b.iter(|| validate_cache_key(black_box(&unicode)))
    });
}

fn codec(c: &mut Criterion) {
    let text = "x".repeat(100);
    let profile = Profile {
        id: 7,
        name: "Ada Lovelace".into(),
        tags: vec!["math".into(), "engines".into()],
    };
    let text_bytes = encode("k", &text).unwrap_or_default();
    let profile_bytes = encode("k", &profile).unwrap_or_default();
    c.bench_function("codec/encode_i64", |b| {
        b.iter(|| encode("k", black_box(&1_234_567i64)))
    });
    c.bench_function("codec/decode_i64", |b| {
        b.iter(|| decode::<i64>("k", black_box(b"1234567")))
    });
    c.bench_function("codec/encode_string100", |b| {
        b.iter(|| encode("k", black_box(&text)))
    });
    c.bench_function("codec/decode_string100", |b| {
        b.iter(|| decode::<String>("k", black_box(&text_bytes)))
    });
    c.bench_function("codec/encode_struct", |b| {
        b.iter(|| encode("k", black_box(&profile)))
    });
    c.bench_function("codec/decode_struct", |b| {
        b.iter(|| decode::<Profile>("k", black_box(&profile_bytes)))
    });
}

criterion_group!(benches, validation, codec);
criterion_main!(benches);
