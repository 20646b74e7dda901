//! herald examples
