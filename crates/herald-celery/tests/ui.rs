//! Misuses of `#[herald::task]` are compile errors with a clear message on the offending
//! token. Regenerate the `.stderr` files with
//! `TRYBUILD=overwrite cargo test -p herald-celery --test ui` and read the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
