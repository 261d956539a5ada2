//! The server's time. Production reads the system clock; tests hold a handle to the same
//! clock and move it forward instead of sleeping, so expiry, retries and leases are tested in
//! milliseconds of wall time.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use tokio::sync::Notify;

/// The system clock plus an offset that only tests move. Cloning shares the offset.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
    moved: Arc<Notify>,
}

impl Clock {
    pub fn system() -> Self {
        Self::default()
    }

    /// The current time, truncated to the millisecond so that what is returned to a client
    /// equals what is stored.
    pub fn now(&self) -> DateTime<Utc> {
        let ms = Utc::now().timestamp_millis() + self.offset_ms.load(Ordering::Relaxed);
        Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
    }

    /// Moves the clock forward and wakes whoever waits for time to pass (the delivery
    /// worker's next retry, say).
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
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
}
