//! The events and handlers of herald's examples. They live in a library so that the
//! schema test below sees them in the catalog, and so each example binary shares them.

pub mod orders;
