//! Parsing speed of the generated old.json (small, medium, large) from text to a DOM, dropped:
//!
//! - `herald/warm`: the crate's own parser into a bump arena reset after each parse, so warm
//!   memory is reused (what `check_json` does);
//! - `herald/cold`: the same parser into a fresh arena each time;
//! - `simd_json/warm`: `simd_json::to_borrowed_value_with_buffers`, the parser `check_json` used
//!   before, on a copy of the text (it parses in place) made into a buffer kept across
//!   iterations, with its scratch `Buffers` kept too: the same warm treatment as herald's, the
//!   copy (a memcpy) counted;
//! - `simd_json/cold`: `simd_json::to_borrowed_value` on a freshly allocated copy each time;
//! - `serde_json`: `serde_json::from_str::<serde_json::Value>` (it has no reusable state).
//!
//! Compare warm with warm and cold with cold.
//!
//! The parser is crate-private, so this compiles its modules in through `#[path]`.
//!
//! Run: `cargo bench -p herald-schema --bench parse -- --quick`

use std::hint::black_box;

use bumpalo::Bump;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use json::Json;

// The crate's own modules, compiled into the bench (the parser is crate-private); the bench
// uses the parser only.
#[allow(dead_code, unused_imports)]
#[path = "../src/json.rs"]
mod json;
#[allow(dead_code)]
#[path = "../src/limits.rs"]
mod limits;
#[allow(dead_code, unused_imports)]
#[path = "../src/text/mod.rs"]
mod text;

#[path = "../tests/support/generated_pairs.rs"]
mod generated_pairs;

/// old.json of the generated benchmark pair for `size` (tests/support/generated_pairs.rs).
fn generated_old(size: &str) -> String {
    generated_pairs::generated_pair(size).0
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    for size in ["small", "medium", "large"] {
        let text = generated_old(size);
        group.throughput(Throughput::Bytes(text.len() as u64));
        let mut arena = Bump::new();
        group.bench_function(format!("herald/warm/{size}"), |b| {
            b.iter(|| {
                let parsed = text::parse(black_box(&text), &arena).map(|v| black_box(v).len());
                arena.reset();
                parsed
            })
        });
        group.bench_function(format!("herald/cold/{size}"), |b| {
            b.iter(|| {
                let arena = Bump::new();
                text::parse(black_box(&text), &arena).map(|v| black_box(v).len())
            })
        });
        let mut buffer: Vec<u8> = Vec::with_capacity(text.len());
        let mut buffers = simd_json::Buffers::new(text.len());
        group.bench_function(format!("simd_json/warm/{size}"), |b| {
            b.iter(|| {
                buffer.clear();
                buffer.extend_from_slice(black_box(&text).as_bytes());
                simd_json::to_borrowed_value_with_buffers(&mut buffer, &mut buffers)
                    .map(|v| matches!(black_box(v), simd_json::BorrowedValue::Object(_)))
            })
        });
        group.bench_function(format!("simd_json/cold/{size}"), |b| {
            b.iter(|| {
                let mut buffer = black_box(&text).as_bytes().to_vec();
                simd_json::to_borrowed_value(&mut buffer)
                    .map(|v| matches!(black_box(v), simd_json::BorrowedValue::Object(_)))
            })
        });
        group.bench_function(format!("serde_json/{size}"), |b| {
            b.iter(|| {
                serde_json::from_str::<serde_json::Value>(black_box(&text))
                    .map(|v| black_box(v).is_null())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
