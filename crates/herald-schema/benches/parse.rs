//! Parsing speed of the generated old.json (small, medium, large) from text to a DOM, dropped:
//!
//! - `herald`: the crate's own parser into a bump arena, reset after each parse (what
//!   `check_json` does);
//! - `simd_json`: `simd_json::to_borrowed_value` on a copy of the text (it parses in place), the
//!   parser `check_json` used before;
//! - `serde_json`: `serde_json::from_str::<serde_json::Value>`.
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

/// old.json written by gen_schemas.py for `size`.
fn generated_old(size: &str) -> String {
    generated_pairs::generated_pair(size).0
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    for size in ["small", "medium", "large"] {
        let text = generated_old(size);
        group.throughput(Throughput::Bytes(text.len() as u64));
        let mut arena = Bump::new();
        group.bench_function(format!("herald/{size}"), |b| {
            b.iter(|| {
                let parsed = text::parse(black_box(&text), &arena).map(|v| black_box(v).len());
                arena.reset();
                parsed
            })
        });
        group.bench_function(format!("simd_json/{size}"), |b| {
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
