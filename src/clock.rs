//! The server's time. Production reads the system clock, or on PostgreSQL the database's (see
//! [`Clock::follow`]); tests hold a handle to the same clock and move it forward instead of
//! sleeping, so expiry, retries and leases are tested in milliseconds of wall time.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use tokio::sync::Notify;

/// A new reading of the reference that puts the clock back by less than this (the few
/// milliseconds a round trip's asymmetry costs) holds the clock still until it has caught up,
/// so that times never go backwards; a larger step back is the reference's own, and followed.
const HELD_AT_MOST_MS: i64 = 1_000;

/// The system clock (or a reference's, once set), plus an offset that only tests move.
/// Cloning shares both.
#[derive(Clone, Debug)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
    /// `None` until [`Self::follow`]: the system clock.
    followed: Arc<Mutex<Option<Followed>>>,
    started: Instant,
    moved: Arc<Notify>,
}

/// A reference being followed. One lock over both fields, so that a reading racing a new
/// reference can neither be torn nor hold the clock at the old reference's time.
#[derive(Debug, Clone, Copy)]
struct Followed {
    /// The reference time minus the milliseconds of `started` that had passed when it was
    /// read.
    reference_ms: i64,
    /// The latest time [`Clock::now`] returned since then.
    latest_ms: i64,
}

impl Default for Clock {
    fn default() -> Self {
        Self {
            offset_ms: Arc::default(),
            followed: Arc::default(),
            started: Instant::now(),
            moved: Arc::default(),
        }
    }
}

impl Clock {
    pub fn system() -> Self {
        Self::default()
    }

    /// The current time, truncated to the millisecond so that what is returned to a client
    /// equals what is stored.
    pub fn now(&self) -> DateTime<Utc> {
        let offset = self.offset_ms.load(Ordering::Relaxed);
        let mut followed = self.followed.lock().unwrap_or_else(PoisonError::into_inner);
        let ms = match followed.as_mut() {
            None => Utc::now().timestamp_millis().saturating_add(offset),
            Some(f) => {
                let ms = f.reference_ms.saturating_add(self.monotonic_ms()).saturating_add(offset);
                f.latest_ms = f.latest_ms.max(ms);
                f.latest_ms
            }
        };
        Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
    }

    fn monotonic_ms(&self) -> i64 {
        i64::try_from(self.started.elapsed().as_millis()).unwrap_or(i64::MAX)
    }

    /// Sets the clock to `reference`, a time read from elsewhere at the monotonic instant `at`.
    /// From then on it runs on the monotonic clock from that reading, so steps of the system
    /// clock no longer move it, and it never goes back by less than [`HELD_AT_MOST_MS`].
    /// Answers how far the system clock is ahead of the reference.
    pub fn follow(&self, reference: DateTime<Utc>, at: Instant) -> chrono::Duration {
        let since_start = at.saturating_duration_since(self.started).as_millis();
        let since_start = i64::try_from(since_start).unwrap_or(i64::MAX);
        let system_now = Utc::now().timestamp_millis();
        let reference_now = reference
            .timestamp_millis()
            .saturating_add(i64::try_from(at.elapsed().as_millis()).unwrap_or(i64::MAX));
        let reference_ms = reference.timestamp_millis().saturating_sub(since_start);
        let mut followed = self.followed.lock().unwrap_or_else(PoisonError::into_inner);
        let latest_ms = match *followed {
            Some(f) if f.reference_ms.saturating_sub(reference_ms) <= HELD_AT_MOST_MS => {
                f.latest_ms
            }
            _ => i64::MIN,
        };
        *followed = Some(Followed { reference_ms, latest_ms });
        chrono::Duration::milliseconds(system_now.saturating_sub(reference_now))
    }

    /// Moves the clock forward and wakes whoever waits for time to pass (the delivery
    /// worker's next retry, say).
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        let _ = self.offset_ms.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |offset| {
            Some(offset.saturating_add(ms))
        });
        self.moved.notify_waiters();
    }

    /// Resolves the next time the clock is moved by [`Self::advance`]. A waiter sleeping
    /// until a due time selects on this too, since moving the clock may have made it due.
    pub async fn moved(&self) {
        self.moved.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_every_clone() {
        let clock = Clock::system();
        let other = clock.clone();
        let before = other.now();
        clock.advance(Duration::from_secs(3600));
        assert!(other.now() - before >= chrono::Duration::seconds(3600));
    }

    #[test]
    fn now_is_whole_milliseconds() {
        assert_eq!(Clock::system().now().timestamp_subsec_nanos() % 1_000_000, 0);
    }

    #[test]
    fn a_followed_reference_replaces_the_system_clock() {
        let clock = Clock::system();
        let other = clock.clone();
        let reference = Utc::now() - chrono::Duration::seconds(45);
        let ahead = clock.follow(reference, Instant::now());
        assert!((ahead - chrono::Duration::seconds(45)).num_milliseconds().abs() < 50, "{ahead}");
        let behind = Utc::now() - other.now();
        assert!((behind - chrono::Duration::seconds(45)).num_milliseconds().abs() < 50);
        // The test offset still applies on top.
        clock.advance(Duration::from_secs(45));
        assert!((Utc::now() - other.now()).num_milliseconds().abs() < 50);
    }

    #[test]
    fn a_reading_a_little_behind_holds_the_clock_still_and_a_step_back_is_followed() {
        let clock = Clock::system();
        let reference = Utc::now();
        clock.follow(reference, Instant::now());
        let before = clock.now();
        clock.follow(reference - chrono::Duration::milliseconds(200), Instant::now());
        assert!(clock.now() >= before, "the clock went back");
        assert!(clock.now() - before < chrono::Duration::milliseconds(50), "it ran on meanwhile");

        clock.follow(reference - chrono::Duration::seconds(30), Instant::now());
        let behind = before - clock.now();
        assert!(
            (behind - chrono::Duration::seconds(30)).num_milliseconds().abs() < 300,
            "{behind}"
        );
    }
}
