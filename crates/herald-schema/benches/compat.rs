//! Compatibility-check speed, timed from the JSON texts to the report (parsing included).
//!
//! - `backward/{small,medium,large}`: the benchmark pairs (tests/support/generated_pairs.rs,
//!   generated at bench time), BACKWARD, STRICT. `bench/karapace_baseline.py` times Karapace's
//!   checker on the same pairs for the ratios in the README.
//! - `backward_value/large`: the same from already-parsed `serde_json::Value`s.
//! - `transitive_50`: BACKWARD_TRANSITIVE of a version against its 50 predecessors (the medium
//!   schema, each version adding an optional property to a closed object).
//! - `size_sweep/N`: N properties in nested closed objects, to show linear growth.
//!
//! Run: `cargo bench -p herald-schema --bench compat -- --quick`

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use herald_schema::{CompatibilityLevel, NoReferences, Policy, check, check_json};
use serde_json::{Value, json};

#[path = "../tests/support/generated_pairs.rs"]
mod generated_pairs;

use generated_pairs::generated_pair;

fn backward(c: &mut Criterion) {
    let mut group = c.benchmark_group("backward");
    for size in ["small", "medium", "large"] {
        let (old, new) = generated_pair(size);
        // The pair differs by an integer -> string change: incompatible.
        let report = check_json(
            CompatibilityLevel::Backward,
            Policy::Strict,
            &new,
            &[&old],
            &NoReferences,
        )
        .expect("bench schemas check");
        assert!(!report.is_compatible);
        group.throughput(Throughput::Bytes((old.len() + new.len()) as u64));
        group.bench_function(size, |b| {
            b.iter(|| {
                check_json(
                    CompatibilityLevel::Backward,
                    Policy::Strict,
                    black_box(&new),
                    &[black_box(&old)],
                    &NoReferences,
                )
            })
        });
    }
    group.finish();

    let (old, new) = generated_pair("large");
    let (old, new): (Value, Value) = (
        serde_json::from_str(&old).expect("json"),
        serde_json::from_str(&new).expect("json"),
    );
    c.bench_function("backward_value/large", |b| {
        b.iter(|| {
            check(
                CompatibilityLevel::Backward,
                Policy::Strict,
                black_box(&new),
                std::slice::from_ref(&old),
                &NoReferences,
            )
        })
    });
}

fn transitive(c: &mut Criterion) {
    let (old, _) = generated_pair("medium");
    let base: Value = serde_json::from_str(&old).expect("json");
    // Version k: the medium schema, closed at the root, with k optional properties added.
    let versions: Vec<String> = (0..=50)
        .map(|k| {
            let mut v = base.clone();
            v["additionalProperties"] = json!(false);
            for i in 0..k {
                v["properties"][format!("added_{i}")] = json!({"type": "string", "maxLength": 64});
            }
            serde_json::to_string(&v).expect("serialise")
        })
        .collect();
    let newest = &versions[50];
    let previous: Vec<&str> = versions[..50].iter().rev().map(String::as_str).collect();
    let report = check_json(
        CompatibilityLevel::BackwardTransitive,
        Policy::Strict,
        newest,
        &previous,
        &NoReferences,
    )
    .expect("transitive check");
    assert!(
        report.is_compatible,
        "{:?}",
        report.incompatibilities().next()
    );
    c.bench_function("transitive_50", |b| {
        b.iter(|| {
            check_json(
                CompatibilityLevel::BackwardTransitive,
                Policy::Strict,
                black_box(newest),
                black_box(&previous),
                &NoReferences,
            )
        })
    });
}

/// `n` properties: objects of ten members nested under each other, closed.
fn sweep_schema(n: usize, changed: bool) -> String {
    fn build(n: usize, next: &mut usize, changed: bool) -> Value {
        let mut props = serde_json::Map::new();
        let here = n.min(10);
        for _ in 0..here {
            let i = *next;
            *next += 1;
            let max = if changed && i == 0 { 128 } else { 64 };
            props.insert(format!("p{i}"), json!({"type": "string", "maxLength": max}));
        }
        let rest = n - here;
        // Split the rest among up to three children.
        let children = rest.div_ceil(10).min(3);
        for c in 0..children {
            let share = rest / children + usize::from(c < rest % children);
            props.insert(format!("child{c}"), build(share, next, changed));
        }
        json!({"type": "object", "properties": props, "additionalProperties": false})
    }
    let mut next = 0;
    serde_json::to_string(&build(n, &mut next, changed)).expect("serialise")
}

fn size_sweep(c: &mut Criterion) {
    let mut group = c.benchmark_group("size_sweep");
    for n in [1_000usize, 2_000, 4_000, 8_000, 16_000] {
        let (old, new) = (sweep_schema(n, false), sweep_schema(n, true));
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                check_json(
                    CompatibilityLevel::Backward,
                    Policy::Strict,
                    black_box(&new),
                    &[black_box(&old)],
                    &NoReferences,
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, backward, transitive, size_sweep);
criterion_main!(benches);
