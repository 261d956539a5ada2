//! The retry ladder: what becomes of a delivery after an attempt. The schedule is a list of
//! delays (by default 1 s, 5 s, 30 s): after the n-th failed attempt of a chain, the delivery
//! is retried after the n-th delay, and fails once the list is spent. A delivery that could
//! not be attempted at all (its webhook is disabled) fails at once.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver answered 2xx.
    Succeeded,
    /// The receiver answered otherwise, or could not be reached.
    Failed,
    /// No request was made and none should be.
    Abandoned,
}

/// Where a delivery goes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Succeeded,
    /// Pending again, due after this delay.
    RetryAfter(Duration),
    Failed,
}

/// The next step for a delivery whose chain had `attempts_before` attempts before this one.
pub fn next(outcome: Outcome, attempts_before: i64, schedule: &[Duration]) -> Next {
    match outcome {
        Outcome::Succeeded => Next::Succeeded,
        Outcome::Abandoned => Next::Failed,
        Outcome::Failed => usize::try_from(attempts_before)
            .ok()
            .and_then(|n| schedule.get(n))
            .map_or(Next::Failed, |delay| Next::RetryAfter(*delay)),
    }
}

/// The next step when the receiver asked, with `Retry-After`, to wait at least `wait`: still
/// a failed attempt of the schedule, its delay stretched to the wait.
pub fn next_waiting(
    outcome: Outcome,
    attempts_before: i64,
    schedule: &[Duration],
    wait: Option<Duration>,
) -> Next {
    match (next(outcome, attempts_before, schedule), wait) {
        (Next::RetryAfter(delay), Some(wait)) => Next::RetryAfter(delay.max(wait)),
        (next, _) => next,
    }
}

/// How long a `Retry-After` value asks to wait, from `now`, at most `max`: delta-seconds, or
/// an HTTP-date (IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`; a date past is no wait).
/// `None` for a value that is neither.
pub fn retry_after(value: &str, now: DateTime<Utc>, max: Duration) -> Option<Duration> {
    let value = value.trim();
    let wait = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for a u64 is as good as forever.
        Duration::from_secs(value.parse().unwrap_or(u64::MAX))
    } else {
        let at = DateTime::parse_from_rfc2822(value).ok()?.with_timezone(&Utc);
        (at - now).to_std().unwrap_or(Duration::ZERO)
    };
    Some(wait.min(max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates_and_is_capped() {
        let now = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").expect("time").to_utc();
        let hour = Duration::from_secs(3600);
        assert_eq!(retry_after("120", now, hour), Some(Duration::from_secs(120)));
        assert_eq!(retry_after(" 7200 ", now, hour), Some(hour));
        assert_eq!(retry_after("99999999999999999999999", now, hour), Some(hour));
        assert_eq!(
            retry_after("Thu, 01 Jan 2026 00:02:30 GMT", now, hour),
            Some(Duration::from_secs(150))
        );
        assert_eq!(retry_after("Wed, 31 Dec 2025 00:00:00 GMT", now, hour), Some(Duration::ZERO));
        assert_eq!(retry_after("soon", now, hour), None);
        assert_eq!(retry_after("-5", now, hour), None);
        assert_eq!(retry_after("", now, hour), None);
    }

    #[test]
    fn a_requested_wait_stretches_the_delay_but_not_the_schedule() {
        let wait = Some(Duration::from_secs(120));
        assert_eq!(
            next_waiting(Outcome::Failed, 0, &SCHEDULE, wait),
            Next::RetryAfter(Duration::from_secs(120))
        );
        assert_eq!(
            next_waiting(Outcome::Failed, 2, &SCHEDULE, Some(Duration::from_secs(1))),
            Next::RetryAfter(Duration::from_secs(30))
        );
        assert_eq!(next_waiting(Outcome::Failed, 3, &SCHEDULE, wait), Next::Failed);
    }

    const SCHEDULE: [Duration; 3] =
        [Duration::from_secs(1), Duration::from_secs(5), Duration::from_secs(30)];

    #[test]
    fn failures_climb_the_ladder_then_fail() {
        let after = |n| next(Outcome::Failed, n, &SCHEDULE);
        assert_eq!(after(0), Next::RetryAfter(Duration::from_secs(1)));
        assert_eq!(after(1), Next::RetryAfter(Duration::from_secs(5)));
        assert_eq!(after(2), Next::RetryAfter(Duration::from_secs(30)));
        assert_eq!(after(3), Next::Failed);
        assert_eq!(after(-1), Next::Failed);
    }

    #[test]
    fn success_and_abandonment_end_the_chain() {
        assert_eq!(next(Outcome::Succeeded, 2, &SCHEDULE), Next::Succeeded);
        assert_eq!(next(Outcome::Abandoned, 0, &SCHEDULE), Next::Failed);
        assert_eq!(next(Outcome::Failed, 0, &[]), Next::Failed);
    }
}
