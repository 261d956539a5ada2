//! The delivery worker. It reads only the database: claim due deliveries under a lease,
//! attempt each with bounded concurrency, and record results in batches. It wakes when a
//! commit enqueues work (in-process, and on PostgreSQL through LISTEN/NOTIFY from any
//! instance), and otherwise when the next retry falls due or a fallback poll comes round.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::metrics::DeliveryMetrics;
use super::sender::Sender;
use crate::clock::Clock;
use crate::config::RetrySchedule;
use crate::domain::retry::Next;
use crate::store::deliveries::{self, AttemptRecord};
use crate::store::{Backend, Db, Wakeups};

#[derive(Clone, Debug)]
pub struct WorkerSettings {
    /// Attempts in flight at once.
    pub concurrency: usize,
    /// Deliveries claimed per round trip.
    pub batch: i64,
    /// How long a claim stays ours; after that another worker may take the delivery.
    pub lease: Duration,
    /// Longest sleep without a wake-up, in case a notification was missed.
    pub poll: Duration,
    pub schedule: RetrySchedule,
}

pub struct Worker {
    pub db: Db,
    pub sender: Arc<Sender>,
    pub clock: Clock,
    pub settings: WorkerSettings,
    pub metrics: Arc<DeliveryMetrics>,
}

impl Worker {
    /// Runs until `stop` is cancelled, then lets in-flight attempts finish and records them.
    pub async fn run(self, stop: CancellationToken) {
        let (results_tx, results_rx) = mpsc::unbounded_channel();
        let wakeups = self.db.wakeups();
        let recorder = tokio::spawn(record_results(
            self.db.clone(),
            self.clock.clone(),
            results_rx,
            self.settings.schedule.clone(),
            wakeups.clone(),
            self.metrics.clone(),
        ));
        let in_flight = TaskTracker::new();
        let permits = Arc::new(Semaphore::new(self.settings.concurrency));
        let mut claim_session = None;

        while !stop.is_cancelled() {
            // Claim in batches: with few slots free, wait a moment for more rather than
            // paying a claim round trip per delivery.
            let low_water = (self.settings.concurrency / 4).max(1);
            if permits.available_permits() < low_water {
                tokio::select! {
                    enough = permits.clone().acquire_many_owned(low_water as u32) => drop(enough),
                    () = tokio::time::sleep(Duration::from_millis(5)) => {}
                    () = stop.cancelled() => break,
                }
            }
            let free = permits.available_permits();
            if free == 0 {
                continue;
            }
            // A read first: waking to find nothing due costs no write (and on SQLite no turn
            // at the single writer).
            let wait = self.until_next_due().await;
            if !wait.is_zero() {
                tokio::select! {
                    () = wakeups.woken() => {}
                    () = self.clock.moved() => {}
                    () = tokio::time::sleep(wait) => {}
                    () = stop.cancelled() => break,
                }
                continue;
            }
            let limit = self.settings.batch.min(free as i64);
            let claimed = self.claim(&mut claim_session, limit).await;
            if claimed.is_empty() {
                // Due rows exist but were not ours: another instance is claiming them, or the
                // claim failed. Back off briefly instead of spinning.
                tokio::select! {
                    () = wakeups.woken() => {}
                    () = tokio::time::sleep(Duration::from_millis(50)) => {}
                    () = stop.cancelled() => break,
                }
                continue;
            }
            for delivery in claimed {
                let Ok(permit) = permits.clone().acquire_owned().await else { break };
                let sender = self.sender.clone();
                let results = results_tx.clone();
                in_flight.spawn(async move {
                    let result = sender.attempt(&delivery).await;
                    let _ = results.send(result);
                    drop(permit);
                });
            }
        }

        in_flight.close();
        in_flight.wait().await;
        drop(results_tx);
        let _ = recorder.await;
    }

    /// Leases due deliveries. On PostgreSQL this is one statement on the worker's own
    /// connection (`session`), whose commits skip the WAL flush wait: a lease lost in a crash
    /// only means the delivery is attempted again.
    async fn claim(
        &self,
        session: &mut Option<sqlx::PgConnection>,
        limit: i64,
    ) -> Vec<deliveries::DueDelivery> {
        let lease = chrono::Duration::from_std(self.settings.lease).unwrap_or_default();
        let result = match self.db.backend() {
            Backend::Postgres => async {
                let conn = match session {
                    Some(conn) => conn,
                    None => {
                        // Detached: the session setting must never reach a pooled connection.
                        let Some(mut conn) = self.db.detached_postgres().await? else {
                            return Ok(Vec::new());
                        };
                        sqlx::query("SET synchronous_commit = off").execute(&mut conn).await?;
                        session.insert(conn)
                    }
                };
                deliveries::claim_postgres(conn, self.clock.now(), lease, limit).await
            }
            .await
            .inspect_err(|_| *session = None),
            Backend::Sqlite => {
                async {
                    let mut tx = self.db.begin_write().await?;
                    let leased =
                        deliveries::lease_due(&mut tx, self.clock.now(), lease, limit).await?;
                    tx.commit().await?;
                    let Some(lease_id) = leased else { return Ok(Vec::new()) };
                    let mut conn = self.db.acquire().await?;
                    deliveries::load_leased(&mut conn, lease_id).await
                }
                .await
            }
        };
        result.unwrap_or_else(|err| {
            tracing::error!(error = %err, "claiming deliveries failed");
            Vec::new()
        })
    }

    async fn until_next_due(&self) -> Duration {
        let poll = self.settings.poll;
        let next = async {
            let mut conn = self.db.acquire().await?;
            deliveries::next_due(&mut conn).await
        }
        .await;
        match next {
            Ok(Some(at)) => (at - self.clock.now()).to_std().unwrap_or(Duration::ZERO).min(poll),
            Ok(None) => poll,
            Err(err) => {
                tracing::error!(error = %err, "reading the delivery queue failed");
                poll
            }
        }
    }
}

/// Writes attempt results in batches: one transaction for whatever has arrived, so the
/// database sees a few large writes instead of one per attempt.
async fn record_results(
    db: Db,
    clock: Clock,
    mut results: mpsc::UnboundedReceiver<AttemptRecord>,
    schedule: RetrySchedule,
    wakeups: Arc<Wakeups>,
    metrics: Arc<DeliveryMetrics>,
) {
    let mut batch = Vec::new();
    while results.recv_many(&mut batch, 512).await > 0 {
        for r in &batch {
            metrics.observe(r, &schedule);
        }
        write_batch(&db, &clock, &mut batch, &schedule).await;
        // A retry may now be due sooner than the worker planned to look.
        let retrying = batch.iter().any(|r| matches!(r.next(&schedule.0), Next::RetryAfter(_)));
        batch.clear();
        wakeups.recorded();
        if retrying {
            wakeups.wake();
        }
    }
}

/// Writes one batch of results. A batch that keeps failing is written row by row, and a row
/// that still fails is written without the receiver's answer; a row that cannot be written at
/// all is left to its lease, after which the delivery is attempted again. Nothing here waits
/// forever on one bad row.
async fn write_batch(
    db: &Db,
    clock: &Clock,
    batch: &mut [AttemptRecord],
    schedule: &RetrySchedule,
) {
    let mut backoff = Duration::from_millis(50);
    for _ in 0..3 {
        match write(db, clock, batch, schedule).await {
            Ok(()) => return,
            Err(err) => {
                tracing::error!(error = %err, "recording delivery attempts failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff *= 4;
            }
        }
    }
    for record in batch.iter_mut() {
        if write(db, clock, std::slice::from_ref(record), schedule).await.is_ok() {
            continue;
        }
        record.response_body = None;
        if let Err(err) = write(db, clock, std::slice::from_ref(record), schedule).await {
            tracing::error!(delivery = %record.delivery_id, error = %err,
                "cannot record a delivery attempt; it will be attempted again when its lease ends");
        }
    }
}

async fn write(
    db: &Db,
    clock: &Clock,
    batch: &[AttemptRecord],
    schedule: &RetrySchedule,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_bookkeeping().await?;
    deliveries::record(&mut tx, batch, &schedule.0, clock.now()).await?;
    tx.commit().await
}
