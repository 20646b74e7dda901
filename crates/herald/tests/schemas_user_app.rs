//! The README's setup, as a new user follows it: `tests/fixtures/user-app` is an application
//! outside the workspace whose `src/lib.rs` is the README's "Events" code and whose
//! `tests/schemas.rs` is its drift test, word for word. Cargo builds and tests it here:
//! the drift test fails with no `schemas/`, `HERALD_UPDATE_SCHEMAS=1` writes the files, it
//! passes in sync (and with a doc comment changed, with a note) and fails on a struct changed
//! without a version bump, on a file no type defines, and in a test that forgets to link the
//! crate.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod support;
use support::copy_dir;

fn herald_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The fixture, copied to a fresh folder with herald's path filled in.
fn user_app() -> PathBuf {
    let project = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("user-app/project");
    let _ = std::fs::remove_dir_all(&project);
    copy_dir(&herald_dir().join("tests/fixtures/user-app"), &project);
    let manifest = project.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).expect("fixture manifest");
    let herald = herald_dir()
        .to_str()
        .expect("UTF-8 path")
        .replace('\\', "/");
    std::fs::write(&manifest, text.replace("@HERALD_PATH@", &herald)).expect("write manifest");
    // The workspace's lock file, so the same versions are used and nothing is fetched.
    std::fs::copy(
        herald_dir().join("../../Cargo.lock"),
        project.join("Cargo.lock"),
    )
    .expect("copy Cargo.lock");
    project
}

/// `cargo test --test TEST` in the project, with `HERALD_UPDATE_SCHEMAS` set to `update`.
fn cargo_test(project: &Path, test: &str, update: Option<&str>) -> (Output, String) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args(["test", "--offline", "--test", test, "--manifest-path"])
        .arg(project.join("Cargo.toml"))
        // Its own target dir: the outer `cargo test` holds the lock on ours.
        .env(
            "CARGO_TARGET_DIR",
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("user-app/target"),
        )
        .env("RUST_BACKTRACE", "0")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_TMPDIR");
    match update {
        Some(value) => command.env("HERALD_UPDATE_SCHEMAS", value),
        None => command.env_remove("HERALD_UPDATE_SCHEMAS"),
    };
    let output = command.output().expect("cargo runs");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output, text)
}

fn assert_fails_with(project: &Path, test: &str, expected: &[&str]) {
    let (output, text) = cargo_test(project, test, None);
    assert!(!output.status.success(), "the drift test passed:\n{text}");
    for expected in expected {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

/// The first ```rust block of the README after `heading`.
fn readme_block(heading: &str) -> String {
    let readme = std::fs::read_to_string(herald_dir().join("../../README.md")).expect("README");
    let section = &readme[readme.find(heading).expect("the README has the section")..];
    let start = section.find("```rust\n").expect("a rust block") + "```rust\n".len();
    let end = start + section[start..].find("```").expect("the block ends");
    section[start..end].to_owned()
}

#[test]
fn the_fixture_is_the_readme_code() {
    let fixture = herald_dir().join("tests/fixtures/user-app");
    assert_eq!(
        std::fs::read_to_string(fixture.join("src/lib.rs")).expect("lib.rs"),
        readme_block("## Events"),
        "src/lib.rs of the fixture must be the README's Events code"
    );
    assert_eq!(
        std::fs::read_to_string(fixture.join("tests/schemas.rs")).expect("tests/schemas.rs"),
        readme_block("## Keeping `schemas/` in step with the code"),
        "tests/schemas.rs of the fixture must be the README's drift test"
    );
}

#[test]
fn the_readme_drift_test_cannot_pass_on_a_broken_setup() {
    let project = user_app();
    let schemas = project.join("schemas");

    // No schemas/ at all: fails, naming each version and the command.
    assert_fails_with(
        &project,
        "schemas",
        &[
            "event `order.placed` v1 (`user_app::OrderPlacedV1`) has not been exported",
            "event `order.placed` v2 (`user_app::OrderPlaced`) has not been exported",
            "HERALD_UPDATE_SCHEMAS=1 cargo test",
        ],
    );
    assert!(!schemas.exists());

    // The update command writes the files, and the README's code builds without a warning.
    let (output, text) = cargo_test(&project, "schemas", Some("1"));
    assert!(output.status.success(), "{text}");
    assert!(
        !text.contains("warning:"),
        "the README's code warns:\n{text}"
    );
    assert!(
        text.contains("herald: wrote"),
        "the update says what it wrote:\n{text}"
    );
    for version in ["v1", "v2"] {
        let file = schemas.join(format!("order.placed/{version}.json"));
        let schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).expect("written")).expect("JSON");
        assert_eq!(schema["additionalProperties"], false, "{}", file.display());
    }

    // In sync: passes, and runs one test.
    let (output, text) = cargo_test(&project, "schemas", None);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("test herald_schemas_are_in_sync ... ok"),
        "{text}"
    );

    // A struct changed without a version bump.
    let lib = project.join("src/lib.rs");
    let original = std::fs::read_to_string(&lib).expect("lib.rs");
    let changed = original.replacen(
        "    pub amount: f64,\n",
        "    pub amount: f64,\n    pub currency: Option<String>,\n",
        1,
    );
    assert_ne!(changed, original);
    std::fs::write(&lib, changed).expect("write lib.rs");
    assert_fails_with(
        &project,
        "schemas",
        &[
            "event `order.placed` v1 (`user_app::OrderPlacedV1`) changed without a version bump",
            "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL at #/properties/currency",
        ],
    );
    std::fs::write(&lib, &original).expect("restore lib.rs");

    // A doc comment (annotations only): passes, with a note the test output shows.
    let documented = original.replacen(
        "pub struct OrderPlacedV1 {",
        "/// An order, as the checkout service publishes it.\npub struct OrderPlacedV1 {",
        1,
    );
    std::fs::write(&lib, documented).expect("write lib.rs");
    let (output, text) = cargo_test(&project, "schemas", None);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("event `order.placed` v1: ") && text.contains("in annotations only"),
        "{text}"
    );
    std::fs::write(&lib, &original).expect("restore lib.rs");

    // A version file that no type defines (left behind, or from a crate not linked in).
    let stale = schemas.join("order.cancelled/v1.json");
    std::fs::create_dir_all(stale.parent().expect("parent")).expect("dir");
    std::fs::write(&stale, "{}\n").expect("write");
    assert_fails_with(
        &project,
        "schemas",
        &["holds event `order.cancelled` v1, which no type linked into this test derives"],
    );
    std::fs::remove_file(&stale).expect("remove");

    // The function form in a test that does not link the crate sees no events: it fails and
    // says how to link it.
    std::fs::write(
        project.join("tests/unlinked.rs"),
        "#[test]\nfn schemas_are_in_sync() {\n    herald::schemas::assert_in_sync(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/schemas\"));\n}\n",
    )
    .expect("write");
    assert_fails_with(
        &project,
        "unlinked",
        &[
            "no event type is linked into this test binary",
            "add `use user_app as _;`",
        ],
    );
    let (output, text) = cargo_test(&project, "unlinked", Some("1"));
    assert!(
        !output.status.success(),
        "the update wrote nothing and passed:\n{text}"
    );
}
