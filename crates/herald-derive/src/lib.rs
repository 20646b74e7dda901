//! herald's procedural macros (being written).
