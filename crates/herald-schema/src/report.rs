//! The outcome of a check.

use crate::Difference;

/// The outcome of a compatibility check.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    pub is_compatible: bool,
    /// Every difference found (compatible ones included), for every previous version checked.
    pub differences: Vec<Difference>,
}

impl Report {
    /// The differences that make the schemas incompatible.
    pub fn incompatibilities(&self) -> impl Iterator<Item = &Difference> {
        self.differences.iter().filter(|d| !d.compatible)
    }

    /// One line: "compatible" or "incompatible: N breaking changes".
    pub fn summary(&self) -> String {
        let breaking = self.incompatibilities().count();
        match (self.is_compatible, breaking) {
            (true, _) => format!(
                "compatible ({} differences, none breaking)",
                self.differences.len()
            ),
            (false, 1) => "incompatible: 1 breaking change".to_owned(),
            (false, n) => format!("incompatible: {n} breaking changes"),
        }
    }
}
