//! Enqueueing deliveries and claiming due ones.

use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::run;
use crate::store::{Conn, JsonText, Tx};

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

/// What a worker needs to make one attempt.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: Uuid,
    pub lease_id: Uuid,
    pub webhook_id: Uuid,
    pub event_type: String,
    pub chain_attempts: i64,
    pub total_attempts: i64,
    pub url: String,
    /// False when the webhook was deactivated or deleted since the delivery was queued.
    pub webhook_enabled: bool,
    pub secret_sealed: String,
    pub previous_secret: Option<(String, DateTime<Utc>)>,
    pub payload: String,
}

#[derive(sqlx::FromRow)]
struct DueRow {
    id: Uuid,
    webhook_id: Uuid,
    event_type: String,
    chain_attempts: i32,
    total_attempts: i32,
    url: String,
    is_active: bool,
    deleted_at: Option<DateTime<Utc>>,
    secret_sealed: String,
    previous_secret_sealed: Option<String>,
    previous_secret_expires_at: Option<DateTime<Utc>>,
    payload: JsonText,
}

impl DueRow {
    fn leased(self, lease_id: Uuid) -> DueDelivery {
        DueDelivery {
            id: self.id,
            lease_id,
            webhook_id: self.webhook_id,
            event_type: self.event_type,
            chain_attempts: self.chain_attempts.into(),
            total_attempts: self.total_attempts.into(),
            url: self.url,
            webhook_enabled: self.is_active && self.deleted_at.is_none(),
            secret_sealed: self.secret_sealed,
            previous_secret: self.previous_secret_sealed.zip(self.previous_secret_expires_at),
            payload: self.payload.0,
        }
    }
}

/// The columns of a [`DueRow`], from the claimed deliveries `d`, webhooks `w` and events `e`.
const DUE_COLUMNS: &str = "d.id, d.webhook_id, d.event_type, d.chain_attempts, \
     d.total_attempts, w.url, w.is_active, w.deleted_at, w.secret_sealed, \
     w.previous_secret_sealed, w.previous_secret_expires_at, e.payload";

/// SQLite: leases up to `limit` due deliveries until `now + lease` and returns the lease ID
/// to [`load_leased`] them by. (SQLite has one writer, so no row locking is needed; PostgreSQL
/// uses [`claim_postgres`].)
pub async fn lease_due(
    tx: &mut Tx,
    now: DateTime<Utc>,
    lease: Duration,
    limit: i64,
) -> Result<Option<Uuid>, sqlx::Error> {
    let lease_id = Uuid::now_v7();
    let claimed = run!(
        tx,
        execute,
        sqlx::query(
            "UPDATE deliveries SET lease_id = $1, next_attempt_at = $2 WHERE id IN (\
             SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $3 \
             ORDER BY next_attempt_at LIMIT $4)",
        )
        .bind(lease_id)
        .bind(now + lease)
        .bind(now)
        .bind(limit)
    )?;
    Ok((claimed > 0).then_some(lease_id))
}

/// PostgreSQL only: leases up to `limit` due deliveries and returns them, in one statement
/// on the worker's own session. Rows another worker holds are skipped, not waited for.
pub async fn claim_postgres(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    lease: Duration,
    limit: i64,
) -> Result<Vec<DueDelivery>, sqlx::Error> {
    let lease_id = Uuid::now_v7();
    let rows: Vec<DueRow> = sqlx::query_as(&format!(
        "WITH claimed AS (\
           UPDATE deliveries SET lease_id = $1, next_attempt_at = $2 WHERE id IN (\
             SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $3 \
             ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED) \
           RETURNING id, webhook_id, event_id, event_type, chain_attempts, total_attempts) \
         SELECT {DUE_COLUMNS} \
         FROM claimed d JOIN webhooks w ON w.id = d.webhook_id JOIN events e ON e.id = d.event_id"
    ))
    .bind(lease_id)
    .bind(now + lease)
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|row| row.leased(lease_id)).collect())
}

/// Everything needed to attempt the deliveries held by `lease_id`.
pub async fn load_leased(
    conn: &mut dyn Conn,
    lease_id: Uuid,
) -> Result<Vec<DueDelivery>, sqlx::Error> {
    let sql = format!(
        "SELECT {DUE_COLUMNS} FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id \
         JOIN events e ON e.id = d.event_id WHERE d.lease_id = $1"
    );
    let rows: Vec<DueRow> = run!(conn, fetch_all, sqlx::query_as(&sql).bind(lease_id))?;
    Ok(rows.into_iter().map(|row| row.leased(lease_id)).collect())
}
