//! Running the delivery worker until its queue is empty, moving the server's clock to each
//! retry instead of sleeping through the schedule.

use std::time::Duration;

use roster::store::deliveries;

use super::TestApp;

/// How long a drain may take in wall time before the test fails.
const LIMIT: Duration = Duration::from_secs(30);

impl TestApp {
    /// Returns once no delivery is pending: every delivery has succeeded or failed. Whenever
    /// nothing is in flight and the next attempt lies in the future, the clock jumps to it.
    pub async fn drain(&self) {
        let wakeups = self.state.db.wakeups();
        let started = std::time::Instant::now();
        loop {
            assert!(started.elapsed() < LIMIT, "deliveries still pending after {LIMIT:?}");
            let next_record = wakeups.next_record();
            let now = self.clock.now();
            let mut conn = self.state.db.acquire().await.expect("connection");
            let (in_flight, next) =
                deliveries::queue_state(&mut conn, now).await.expect("queue state");
            drop(conn);
            match next {
                None if in_flight == 0 => return,
                Some(at) if in_flight == 0 && at > now => {
                    let wait = (at - now).to_std().unwrap_or_default();
                    self.clock.advance(wait + Duration::from_millis(1));
                }
                _ => {}
            }
            wakeups.wake();
            // Progress is the worker recording attempts; the timeout covers a wake-up that
            // arrived while it was busy.
            let _ = tokio::time::timeout(Duration::from_millis(25), next_record).await;
        }
    }
}
