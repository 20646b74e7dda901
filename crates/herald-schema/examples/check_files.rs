//! Runs one BACKWARD check of two schema files N times, for profilers:
//! `cargo run --release -p herald-schema --example check_files -- OLD NEW [N]`.

use herald_schema::{CompatibilityLevel, NoReferences, Policy, check_json};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [old, new, rest @ ..] = args.as_slice() else {
        eprintln!("usage: check_files OLD NEW [N]");
        std::process::exit(2);
    };
    let n: usize = rest.first().map_or(1, |n| n.parse().expect("N"));
    let old = std::fs::read_to_string(old).expect("OLD");
    let new = std::fs::read_to_string(new).expect("NEW");
    let mut differences = 0;
    for _ in 0..n {
        let report = check_json(
            CompatibilityLevel::Backward,
            Policy::Strict,
            &new,
            &[&old],
            &NoReferences,
        )
        .expect("check");
        differences += report.differences.len();
    }
    println!("{differences} differences over {n} checks");
}
