//! Records attempt results in batches: one write for whatever has arrived, so the database
//! sees a few large writes instead of one per attempt.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::metrics::DeliveryMetrics;
use crate::clock::Clock;
use crate::config::RetrySchedule;
use crate::domain::retry::Next;
use crate::store::deliveries::{self, AttemptRecord, HealthRules};
use crate::store::{Backend, Db, Wakeups};

/// Most results written at once.
const BATCH: usize = 512;

/// Runs until every sender of `results` is gone.
pub async fn record_results(
    db: Db,
    clock: Clock,
    mut results: mpsc::UnboundedReceiver<AttemptRecord>,
    schedule: RetrySchedule,
    health: HealthRules,
    wakeups: Arc<Wakeups>,
    metrics: Arc<DeliveryMetrics>,
) {
    let mut writer = Writer { db, clock, schedule, health, session: None };
    let mut batch = Vec::new();
    while results.recv_many(&mut batch, BATCH).await > 0 {
        for r in &batch {
            metrics.observe(r, &writer.schedule);
        }
        writer.write_batch(&mut batch).await;
        // A retry may now be due sooner than the worker planned to look.
        let retrying =
            batch.iter().any(|r| matches!(r.next(&writer.schedule.0), Next::RetryAfter(_)));
        batch.clear();
        wakeups.recorded();
        if retrying {
            wakeups.wake();
        }
    }
}

struct Writer {
    db: Db,
    clock: Clock,
    schedule: RetrySchedule,
    health: HealthRules,
    /// On PostgreSQL, the recorder's own session, whose commits skip the WAL flush wait: a
    /// record lost in a crash only means the delivery is attempted again.
    session: Option<sqlx::PgConnection>,
}

impl Writer {
    /// Writes one batch of results. A batch that keeps failing is written row by row, and a
    /// row that still fails is written without the receiver's answer; a row that cannot be
    /// written at all is left to its lease, after which the delivery is attempted again.
    /// Nothing here waits forever on one bad row.
    async fn write_batch(&mut self, batch: &mut [AttemptRecord]) {
        let mut backoff = Duration::from_millis(50);
        for _ in 0..3 {
            match self.write(batch).await {
                Ok(()) => return,
                Err(err) => {
                    tracing::error!(error = %err, "recording delivery attempts failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff *= 4;
                }
            }
        }
        for record in batch.iter_mut() {
            if self.write(std::slice::from_ref(record)).await.is_ok() {
                continue;
            }
            record.response_body = None;
            if let Err(err) = self.write(std::slice::from_ref(record)).await {
                tracing::error!(delivery = %record.delivery_id, error = %err,
                    "cannot record a delivery attempt; it will be attempted again when its lease ends");
            }
        }
    }

    async fn write(&mut self, batch: &[AttemptRecord]) -> Result<(), sqlx::Error> {
        let now = self.clock.now();
        // A failure changes its webhook's health and may cause events: that takes a
        // transaction, in which the outcome is recorded too.
        if self.db.backend() == Backend::Postgres && deliveries::all_quiet(batch) {
            let written = async {
                let conn = match &mut self.session {
                    Some(conn) => conn,
                    None => {
                        // Detached: the session setting must never reach a pooled connection.
                        let Some(mut conn) = self.db.detached_postgres().await? else {
                            return Ok(());
                        };
                        sqlx::query("SET synchronous_commit = off").execute(&mut conn).await?;
                        self.session.insert(conn)
                    }
                };
                deliveries::record_postgres(conn, batch, &self.schedule.0, now).await
            }
            .await;
            return written.inspect_err(|_| self.session = None);
        }
        let mut tx = self.db.begin_bookkeeping().await?;
        deliveries::record(&mut tx, batch, &self.schedule.0, &self.health, now).await?;
        tx.commit().await
    }
}
