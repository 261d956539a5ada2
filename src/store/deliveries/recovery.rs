//! Giving finished deliveries a fresh attempt chain; the `webhook-id` stays the same.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::run;
use crate::store::Tx;

/// Starts a fresh attempt chain for a finished delivery.
pub async fn restart(tx: &mut Tx, id: Uuid, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    let restarted = run!(
        tx,
        execute,
        sqlx::query(
            "UPDATE deliveries SET status = 'pending', chain_attempts = 0, next_attempt_at = $2, \
             lease_id = NULL, updated_at = $2 WHERE id = $1 AND status <> 'pending'",
        )
        .bind(id)
        .bind(now)
    )?;
    if restarted > 0 {
        tx.queued_work();
    }
    Ok(())
}

/// Deliveries [`recover`] restarts in one transaction: on SQLite the one writer is released
/// between batches, so a recovery of a long outage does not hold up every other tenant.
pub const RECOVER_BATCH: i64 = 500;

/// Restarts up to [`RECOVER_BATCH`] deliveries of the webhook that failed between `since`
/// and `until` (inclusive); returns how many. Those restarted leave the range (their
/// `updated_at` becomes `now`, after `until`), so calling again continues with the rest.
pub async fn recover(
    tx: &mut Tx,
    webhook_id: Uuid,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let recovered = run!(
        tx,
        execute,
        sqlx::query(
            "UPDATE deliveries SET status = 'pending', chain_attempts = 0, next_attempt_at = $3, \
             lease_id = NULL, updated_at = $3 WHERE id IN (SELECT id FROM deliveries \
             WHERE webhook_id = $1 AND status = 'failed' AND updated_at >= $2 \
             AND updated_at <= $4 ORDER BY id LIMIT $5)",
        )
        .bind(webhook_id)
        .bind(since)
        .bind(now)
        .bind(until)
        .bind(RECOVER_BATCH)
    )?;
    if recovered > 0 {
        tx.queued_work();
    }
    Ok(recovered)
}
