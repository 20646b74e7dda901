//! herald's end-to-end suites live in `tests/`: each spans several crates of the workspace
//! (and real services, and clients in other languages), so none of the crates it combines
//! needs the others as dev-dependencies. Run them with `cargo test -p herald-tests`.
