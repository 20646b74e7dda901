//! Modes: what writes a subject (or the whole registry) takes.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// A mode, spelled as Confluent spells it; parsed in any case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// Registrations and deletes (the default).
    #[default]
    ReadWrite,
    /// No writes to versions.
    ReadOnly,
    /// Refuses the same writes as READONLY.
    ReadOnlyOverride,
    /// Registrations keep the ids (and versions) the client gives.
    Import,
}

impl Mode {
    pub const ALL: [Mode; 4] = [
        Mode::ReadWrite,
        Mode::ReadOnly,
        Mode::ReadOnlyOverride,
        Mode::Import,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::ReadWrite => "READWRITE",
            Mode::ReadOnly => "READONLY",
            Mode::ReadOnlyOverride => "READONLY_OVERRIDE",
            Mode::Import => "IMPORT",
        }
    }

    /// READONLY or READONLY_OVERRIDE: registrations and deletes are refused.
    pub fn is_read_only(self) -> bool {
        matches!(self, Mode::ReadOnly | Mode::ReadOnlyOverride)
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let upper = s.trim().to_ascii_uppercase();
        Mode::ALL
            .into_iter()
            .find(|m| m.as_str() == upper)
            .ok_or(Error::InvalidMode)
    }
}

/// The 42205 of a write to a subject in READONLY (or READONLY_OVERRIDE) mode.
pub(crate) fn read_only(subject: &str) -> Error {
    Error::OperationNotPermitted(format!("Subject {subject} is in read-only mode"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_in_any_case_and_print_as_confluent_spells_them() {
        for m in Mode::ALL {
            assert_eq!(m.as_str().to_lowercase().parse::<Mode>().ok(), Some(m));
            assert_eq!(m.to_string().parse::<Mode>().ok(), Some(m));
        }
        assert_eq!(" readonly ".parse::<Mode>().ok(), Some(Mode::ReadOnly));
        assert!(matches!(
            "WRITEONLY".parse::<Mode>(),
            Err(Error::InvalidMode)
        ));
        assert!(Mode::ReadOnlyOverride.is_read_only());
        assert!(!Mode::Import.is_read_only());
    }
}
