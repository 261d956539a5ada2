//! Waking delivery workers when work is queued. A transaction that queued work wakes this
//! process's worker when it commits, and on PostgreSQL every instance's worker through
//! `LISTEN/NOTIFY`. Wake-ups are an optimisation only: workers also poll.

use std::time::Duration;

use sqlx::{Postgres, Transaction};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// The PostgreSQL channel a commit that queued work notifies.
pub const NOTIFY_CHANNEL: &str = "roster_deliveries";

/// This process's wake-up signals: for its worker, and from it.
#[derive(Debug, Default)]
pub struct Wakeups {
    pub(super) local: Notify,
    /// Raised each time the worker has recorded a batch of attempts.
    recorded: Notify,
}

impl Wakeups {
    /// Wakes the worker (or its next wait, if it is busy).
    pub fn wake(&self) {
        self.local.notify_one();
    }

    /// Resolves at the next wake-up.
    pub async fn woken(&self) {
        self.local.notified().await;
    }

    /// Says that attempts were recorded, to whoever waits for the queue to drain.
    pub fn recorded(&self) {
        self.recorded.notify_waiters();
    }

    /// Resolves the next time attempts are recorded after this call (even if it is polled
    /// only later).
    pub fn next_record(&self) -> tokio::sync::futures::Notified<'_> {
        self.recorded.notified()
    }
}

/// Queues a notification that PostgreSQL delivers only if `tx` commits.
pub(super) async fn notify(tx: &mut Transaction<'static, Postgres>) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify($1, '')").bind(NOTIFY_CHANNEL).execute(&mut **tx).await?;
    Ok(())
}

/// Wakes this process's worker whenever any instance commits queued work, until `stop`.
/// Reconnects after errors; polling covers any notification lost meanwhile.
pub async fn listen(url: String, wakeups: std::sync::Arc<Wakeups>, stop: CancellationToken) {
    let mut backoff = Duration::from_millis(100);
    while !stop.is_cancelled() {
        let session = async {
            let mut listener = sqlx::postgres::PgListener::connect(&url).await?;
            listener.listen(NOTIFY_CHANNEL).await?;
            // Anything committed while we were not listening is picked up now.
            wakeups.wake();
            backoff = Duration::from_millis(100);
            loop {
                listener.recv().await?;
                wakeups.wake();
            }
            #[allow(unreachable_code)]
            Ok::<(), sqlx::Error>(())
        };
        tokio::select! {
            result = session => {
                if let Err(err) = result {
                    tracing::warn!(error = %err, "delivery notifications interrupted; reconnecting");
                }
            }
            () = stop.cancelled() => return,
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = stop.cancelled() => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}
