//! Enqueueing deliveries, in the transaction of the event they carry.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::run;
use crate::store::Tx;

/// Creates one pending delivery of `event_id` per webhook, due now. The transaction's commit
/// then wakes the workers.
pub async fn enqueue(
    tx: &mut Tx,
    event_id: Uuid,
    event_type: &str,
    webhook_ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    if webhook_ids.is_empty() {
        return Ok(());
    }
    // 5 parameters a row keeps each statement far below SQLite's parameter limit.
    for chunk in webhook_ids.chunks(100) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p = i * 5;
                format!(
                    "(${}, ${}, ${}, ${}, 'pending', 0, 0, ${p5}, ${p5}, ${p5})",
                    p + 1,
                    p + 2,
                    p + 3,
                    p + 4,
                    p5 = p + 5
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO deliveries (id, webhook_id, event_id, event_type, status, \
             chain_attempts, total_attempts, next_attempt_at, created_at, updated_at) VALUES {}",
            rows.join(", ")
        );
        run!(tx, execute, {
            let mut query = sqlx::query(&sql);
            for webhook_id in chunk {
                query = query
                    .bind(Uuid::now_v7())
                    .bind(*webhook_id)
                    .bind(event_id)
                    .bind(event_type)
                    .bind(now);
            }
            query
        })?;
    }
    tx.queued_work();
    Ok(())
}
