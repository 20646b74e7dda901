//! Every misuse of the macros is a compile error with a clear message on the offending
//! token. Regenerate the `.stderr` files with `TRYBUILD=overwrite cargo test -p herald --test ui`
//! and read the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
