//! Records attempt results in batches: one transaction for whatever has arrived, so the
//! database sees a few large writes instead of one per attempt.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::metrics::DeliveryMetrics;
use crate::clock::Clock;
use crate::config::RetrySchedule;
use crate::domain::retry::Next;
use crate::store::deliveries::{self, AttemptRecord};
use crate::store::{Db, Wakeups};

/// Runs until every sender of `results` is gone.
pub async fn record_results(
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
