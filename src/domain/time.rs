//! The span of times Roster stores: years 0000 to 9999 in UTC. Within it every backend keeps
//! times faithfully and SQLite's RFC 3339 text sorts in time order; a time from outside is
//! refused at the edge or clamped into it.

use chrono::{DateTime, Datelike, Utc};

/// The first and last storable instants, in epoch milliseconds.
const SPAN_MS: (i64, i64) = (-62_167_219_200_000, 253_402_300_799_999);

/// Whether `at` lies within the storable span.
pub fn is_storable(at: DateTime<Utc>) -> bool {
    (0..=9999).contains(&at.year())
}

/// The instant `ms` after the epoch, clamped into the storable span.
pub fn clamped_from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms.clamp(SPAN_MS.0, SPAN_MS.1)).unwrap_or_default()
}

/// The last storable instant.
pub fn latest() -> DateTime<Utc> {
    clamped_from_millis(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_span_is_four_digit_years() {
        assert_eq!(latest().to_rfc3339(), "9999-12-31T23:59:59.999+00:00");
        assert_eq!(clamped_from_millis(i64::MIN).year(), 0);
        assert!(is_storable(latest()) && is_storable(clamped_from_millis(i64::MIN)));
        assert!(!is_storable(latest() + chrono::Duration::milliseconds(1)));
    }
}
