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

/// Restarts every delivery of the webhook that failed at or after `since`; returns how many.
pub async fn recover(
    tx: &mut Tx,
    webhook_id: Uuid,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let recovered = run!(
        tx,
        execute,
        sqlx::query(
            "UPDATE deliveries SET status = 'pending', chain_attempts = 0, next_attempt_at = $3, \
             lease_id = NULL, updated_at = $3 WHERE webhook_id = $1 AND status = 'failed' \
             AND updated_at >= $2",
        )
        .bind(webhook_id)
        .bind(since)
        .bind(now)
    )?;
    if recovered > 0 {
        tx.queued_work();
    }
    Ok(recovered)
}
