//! The code of herald's README, compiled (and the transport programs run) by `cargo test`.
//!
//! Each ```rust block of a README is preceded by `<!-- compiled in <file> -->` and appears
//! verbatim in that file (`tests/readme.rs` checks it). This crate depends only on what the
//! README tells an application to depend on, so an import that works here works for users.
#![deny(warnings)]
// The README's types derive what an application needs; the workspace lint is for herald's API.
#![allow(missing_debug_implementations)]

pub mod orders;
pub mod worker;
