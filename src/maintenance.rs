//! Background upkeep of the database: pruning credentials that expired long ago. Every
//! instance runs it; the deletes are idempotent, so several instances at once only share
//! the work.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::store::{Db, retention};

/// Prunes every `interval` (the first time after a random part of it, so that instances
/// started together spread out) until `stop`.
pub async fn run(
    db: Db,
    clock: Clock,
    interval: Duration,
    keep_expired_for: Duration,
    stop: CancellationToken,
) {
    let jitter = interval.mul_f64(rand::random::<f64>());
    let mut next = tokio::time::Instant::now() + jitter;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep_until(next) => {}
        }
        next += interval;
        let keep = chrono::Duration::from_std(keep_expired_for).unwrap_or(chrono::TimeDelta::MAX);
        let Some(cutoff) = clock.now().checked_sub_signed(keep) else { continue };
        match retention::prune(&db, cutoff, || stop.is_cancelled()).await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, "pruned expired tokens and codes"),
            Err(err) => tracing::warn!(error = %err, "pruning expired tokens failed; will retry"),
        }
    }
}
