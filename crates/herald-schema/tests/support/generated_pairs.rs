//! The benchmark pairs of `shared/bench/gen_schemas.py`, generated on demand with python3.
//! Shared by tests and benches (included with `#[path]`).
#![allow(dead_code)] // each includer uses part of it

use std::path::PathBuf;
use std::process::Command;

/// The shared directory: `HERALD_SHARED`, else `../shared` beside the repository.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("HERALD_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}

/// (old, new) texts written by gen_schemas.py for `size` (small, medium or large).
pub fn generated_pair(size: &str) -> (String, String) {
    let script = shared_dir().join("bench/gen_schemas.py");
    let out = std::env::temp_dir().join(format!(
        "herald-schema-pair-{}-{size}-{}",
        std::process::id(),
        unique_suffix()
    ));
    let status = Command::new("python3")
        .arg(&script)
        .args(["--size", size, "--out"])
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("cannot run python3 {}: {e}", script.display()));
    assert!(status.success(), "gen_schemas.py failed for {size}");
    let read = |f: &str| std::fs::read_to_string(out.join(f)).expect("generated schema");
    let pair = (read("old.json"), read("new.json"));
    let _ = std::fs::remove_dir_all(&out);
    pair
}

/// Tests of one process may generate the same size at once: each gets its own directory.
fn unique_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
