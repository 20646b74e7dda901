//! The macros work when the user renames the `herald` dependency: builds and tests the
//! crate in `tests/renamed/` (which only knows herald as `events`) with cargo.

use std::path::PathBuf;
use std::process::Command;

mod support;
use support::copy_dir;

#[test]
fn a_renamed_herald_dependency_works() {
    let herald = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("renamed-check");
    let project = work.join("project");
    let _ = std::fs::remove_dir_all(&project);
    copy_dir(&herald.join("tests/renamed"), &project);

    let manifest = project.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).expect("fixture manifest");
    let herald_path = herald.to_str().expect("UTF-8 path").replace('\\', "/");
    std::fs::write(&manifest, text.replace("@HERALD_PATH@", &herald_path)).expect("write manifest");
    // The workspace's lock file, so the same versions are used and nothing is fetched.
    let lock = herald.join("../../Cargo.lock");
    std::fs::copy(&lock, project.join("Cargo.lock")).expect("copy Cargo.lock");

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["test", "--offline", "--quiet", "--manifest-path"])
        .arg(&manifest)
        // Its own target dir: the outer `cargo test` holds the lock on ours.
        .env("CARGO_TARGET_DIR", work.join("target"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_TMPDIR")
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the crate that renames herald failed to build or test:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("1 passed"),
        "its test did not run:\n{stdout}\n{stderr}"
    );
}
