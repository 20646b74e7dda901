//! The README's drift test, on the README's events (their schemas: `examples/readme/schemas/`).

// tests/schemas.rs
herald::schemas_test!();
