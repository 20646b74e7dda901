//! Celery's times (`eta`, `expires`, `date_done`): ISO-8601 with an offset.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};

/// Formats as Python's `datetime.isoformat()` for an aware UTC time
/// (`2026-11-27T18:21:34.971236+00:00`).
pub fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, false)
}

/// Parses an ISO-8601 time; a naive one (no offset) is read as UTC, Celery's default
/// timezone.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|n| n.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_isoformat_round_trips() {
        let t = parse_time("2026-11-27T18:21:34.971236+00:00").expect("aware");
        assert_eq!(format_time(t), "2026-11-27T18:21:34.971236+00:00");
        let naive = parse_time("2026-11-27T18:21:34.5").expect("naive");
        assert_eq!(format_time(naive), "2026-11-27T18:21:34.500000+00:00");
        let offset = parse_time("2026-11-27T20:21:34+02:00").expect("offset");
        assert_eq!(format_time(offset), "2026-11-27T18:21:34.000000+00:00");
        assert!(parse_time("tomorrow").is_none());
    }
}
