//! Writes the benchmark pairs to a directory, for checkers outside Rust (bench/karapace_baseline.py)
//! and for profilers (examples/check_files.rs):
//! `cargo run -p herald-schema --example bench_pairs -- DIR [SIZE...]` writes
//! DIR/<size>/old.json and DIR/<size>/new.json (every size by default) and prints one JSON line
//! a size saying what the pair holds.

#[path = "../tests/support/generated_pairs.rs"]
mod generated_pairs;

use std::path::PathBuf;

use serde_json::json;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((dir, sizes)) = args.split_first() else {
        eprintln!("usage: bench_pairs DIR [small|medium|large ...]");
        std::process::exit(2);
    };
    let sizes: Vec<&str> = if sizes.is_empty() {
        generated_pairs::SIZES.to_vec()
    } else {
        sizes.iter().map(String::as_str).collect()
    };
    if let Some(bad) = sizes.iter().find(|s| !generated_pairs::SIZES.contains(s)) {
        eprintln!("unknown size {bad:?}: small, medium or large");
        std::process::exit(2);
    }
    for size in sizes {
        let pair = generated_pairs::generate(size);
        let (old, new) = generated_pairs::texts(&pair);
        let out = PathBuf::from(dir).join(size);
        let write = |name: &str, text: &str| {
            let path = out.join(name);
            std::fs::write(&path, text).unwrap_or_else(|e| {
                eprintln!("cannot write {}: {e}", path.display());
                std::process::exit(2);
            })
        };
        if let Err(e) = std::fs::create_dir_all(&out) {
            eprintln!("cannot create {}: {e}", out.display());
            std::process::exit(2);
        }
        write("old.json", &old);
        write("new.json", &new);
        let changes: Vec<_> = pair
            .changes
            .iter()
            .map(|(what, at)| json!({"change": what, "path": at}))
            .collect();
        println!(
            "{}",
            json!({
                "size": size,
                "dir": out,
                "properties": pair.properties,
                "max_object_depth": pair.max_object_depth,
                "refs": pair.refs,
                "anyOf_oneOf": pair.combinators,
                "bytes_old": old.len(),
                "bytes_new": new.len(),
                "changes": changes,
            })
        );
    }
}
