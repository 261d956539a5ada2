//! Background upkeep of the database: pruning credentials that expired long ago, the webhook
//! log past its retention periods, and idempotency keys past their expiry. Every instance
//! runs it; the deletes are idempotent, so several instances at once only share the work.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::config::{Config, Retention};
use crate::store::log_retention::{self, Cutoffs};
use crate::store::{Db, retention};

/// Prunes every `config.prune_interval` (the first time after a random part of it, so that
/// instances started together spread out) until `stop`.
pub async fn run(db: Db, clock: Clock, config: Arc<Config>, stop: CancellationToken) {
    let interval = config.prune_interval;
    let jitter = interval.mul_f64(rand::random::<f64>());
    let mut next = tokio::time::Instant::now() + jitter;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep_until(next) => {}
        }
        next += interval;
        let now = clock.now();
        if let Some(cutoff) = before(now, config.keep_expired_for) {
            match retention::prune(&db, cutoff, || stop.is_cancelled()).await {
                Ok(0) => {}
                Ok(pruned) => tracing::info!(pruned, "pruned expired tokens and codes"),
                Err(err) => {
                    tracing::warn!(error = %err, "pruning expired tokens failed; will retry")
                }
            }
        }
        let Some(cutoffs) = cutoffs(now, &config.retention) else { continue };
        match log_retention::prune(&db, &cutoffs, config.retention_batch, || stop.is_cancelled())
            .await
        {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, "pruned the webhook log and idempotency keys"),
            Err(err) => tracing::warn!(error = %err, "pruning the webhook log failed; will retry"),
        }
    }
}

/// The time `period` before `now`, if there is one.
pub fn before(now: DateTime<Utc>, period: Duration) -> Option<DateTime<Utc>> {
    now.checked_sub_signed(chrono::Duration::from_std(period).ok()?)
}

fn cutoffs(now: DateTime<Utc>, keep: &Retention) -> Option<Cutoffs> {
    Some(Cutoffs {
        attempts: before(now, keep.attempts)?,
        deliveries: before(now, keep.deliveries)?,
        events: before(now, keep.events)?,
        idempotency_keys: now,
    })
}
