//! The retry ladder: what becomes of a delivery after an attempt. The schedule is a list of
//! delays (by default 1 s, 5 s, 30 s): after the n-th failed attempt of a chain, the delivery
//! is retried after the n-th delay, and fails once the list is spent. A delivery that could
//! not be attempted at all (its webhook is disabled) fails at once.

use std::time::Duration;

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

#[cfg(test)]
mod tests {
    use super::*;

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
