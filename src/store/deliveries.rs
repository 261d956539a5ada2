//! The delivery queue and its attempt log, in the database: nothing about a delivery lives
//! only in memory. A worker claims due rows by stamping them with a lease ID and pushing
//! `next_attempt_at` to the lease's end, so a worker that dies simply lets the rows fall due
//! again. Results are recorded only under the lease that claimed them.

use chrono::{DateTime, Duration, Utc};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::{get_opt_time, get_time, get_uuid, to_millis};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Pending,
    Succeeded,
    Failed,
}

impl DeliveryStatus {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "succeeded" => Some(Self::Succeeded),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// Creates one pending delivery of `event_id` per webhook, due now.
pub async fn enqueue(
    conn: &mut AnyConnection,
    event_id: Uuid,
    event_type: &str,
    webhook_ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    // 5 parameters a row keeps each statement far below SQLite's parameter limit.
    for chunk in webhook_ids.chunks(100) {
        let mut sql = String::from(
            "INSERT INTO deliveries (id, webhook_id, event_id, event_type, status, chain_attempts, \
             total_attempts, next_attempt_at, created_at, updated_at) VALUES ",
        );
        for i in 0..chunk.len() {
            let p = i * 5;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, 'pending', 0, 0, ${}, ${p5}, ${p5})",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5,
                p5 = p + 5
            ));
        }
        let mut query = sqlx::query(&sql);
        for webhook_id in chunk {
            query = query
                .bind(Uuid::now_v7().to_string())
                .bind(webhook_id.to_string())
                .bind(event_id.to_string())
                .bind(event_type.to_owned())
                .bind(to_millis(now));
        }
        query.execute(&mut *conn).await?;
    }
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

/// SQLite: leases up to `limit` due deliveries until `now + lease` and returns the lease ID
/// to [`load_leased`] them by. (SQLite has one writer, so no row locking is needed; PostgreSQL
/// uses [`claim_postgres`].)
pub async fn lease_due(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    lease: Duration,
    limit: i64,
) -> Result<Option<Uuid>, sqlx::Error> {
    let lease_id = Uuid::now_v7();
    let claimed = sqlx::query(
        "UPDATE deliveries SET lease_id = $1, next_attempt_at = $2 WHERE id IN (\
         SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $3 \
         ORDER BY next_attempt_at LIMIT $4)",
    )
    .bind(lease_id.to_string())
    .bind(to_millis(now + lease))
    .bind(to_millis(now))
    .bind(limit)
    .execute(conn)
    .await?
    .rows_affected();
    Ok((claimed > 0).then_some(lease_id))
}

/// PostgreSQL only: leases up to `limit` due deliveries and returns them, in one statement.
pub async fn claim_postgres(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    lease: Duration,
    limit: i64,
) -> Result<Vec<DueDelivery>, sqlx::Error> {
    let lease_id = Uuid::now_v7();
    let rows = sqlx::query(
        "WITH claimed AS (\
           UPDATE deliveries SET lease_id = $1, next_attempt_at = $2 WHERE id IN (\
             SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $3 \
             ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED) \
           RETURNING id, webhook_id, event_id, event_type, chain_attempts, total_attempts) \
         SELECT d.id, d.webhook_id, d.event_type, d.chain_attempts, d.total_attempts, w.url, \
         w.is_active, w.deleted_at, w.secret_sealed, w.previous_secret_sealed, \
         w.previous_secret_expires_at, e.payload \
         FROM claimed d JOIN webhooks w ON w.id = d.webhook_id JOIN events e ON e.id = d.event_id",
    )
    .bind(lease_id.to_string())
    .bind(to_millis(now + lease))
    .bind(to_millis(now))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|row| due_from_row(row, lease_id)).collect()
}

/// Everything needed to attempt the deliveries held by `lease_id`.
pub async fn load_leased(
    conn: &mut AnyConnection,
    lease_id: Uuid,
) -> Result<Vec<DueDelivery>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT d.id, d.webhook_id, d.event_type, d.chain_attempts, d.total_attempts, w.url, \
         w.is_active, w.deleted_at, w.secret_sealed, w.previous_secret_sealed, \
         w.previous_secret_expires_at, e.payload \
         FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id JOIN events e ON e.id = d.event_id \
         WHERE d.lease_id = $1",
    )
    .bind(lease_id.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter().map(|row| due_from_row(row, lease_id)).collect()
}

fn due_from_row(row: &AnyRow, lease_id: Uuid) -> Result<DueDelivery, sqlx::Error> {
    use sqlx::Row;
    let deleted: Option<i64> = row.try_get("deleted_at")?;
    let previous: Option<String> = row.try_get("previous_secret_sealed")?;
    Ok(DueDelivery {
        id: get_uuid(row, "id")?,
        lease_id,
        webhook_id: get_uuid(row, "webhook_id")?,
        event_type: row.try_get("event_type")?,
        chain_attempts: row.try_get("chain_attempts")?,
        total_attempts: row.try_get("total_attempts")?,
        url: row.try_get("url")?,
        webhook_enabled: row.try_get::<i64, _>("is_active")? != 0 && deleted.is_none(),
        secret_sealed: row.try_get("secret_sealed")?,
        previous_secret: previous.zip(get_opt_time(row, "previous_secret_expires_at")?),
        payload: row.try_get("payload")?,
    })
}

/// The result of one attempt, ready to record.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub delivery_id: Uuid,
    pub lease_id: Uuid,
    /// Attempts made in the current chain before this one.
    pub chain_attempts: i64,
    pub total_attempts: i64,
    pub attempted_at: DateTime<Utc>,
    pub duration_ms: i64,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub response_body: Option<String>,
    pub succeeded: bool,
    /// True when no request was made and none should be (the webhook is disabled).
    pub abandon: bool,
}

/// Rows per statement when recording: well under both backends' parameter limits.
const RECORD_CHUNK: usize = 400;

/// Records attempts and moves each delivery on: succeeded, retried after the next delay of
/// `schedule`, or failed when the schedule is spent. A result whose lease was lost (it
/// expired and another worker claimed the row) is logged as an attempt but moves nothing.
/// Each chunk of results costs two statements, whatever its size.
pub async fn record(
    conn: &mut AnyConnection,
    results: &[AttemptRecord],
    schedule: &[std::time::Duration],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    for chunk in results.chunks(RECORD_CHUNK) {
        move_on(conn, chunk, schedule, now).await?;
        log_attempts(conn, chunk).await?;
    }
    Ok(())
}

/// The state a delivery moves to after `r`, and when it is next due.
fn next_state(
    r: &AttemptRecord,
    schedule: &[std::time::Duration],
    now: DateTime<Utc>,
) -> (&'static str, Option<i64>) {
    if r.succeeded {
        return ("succeeded", None);
    }
    let retry_delay =
        usize::try_from(r.chain_attempts).ok().and_then(|n| schedule.get(n)).filter(|_| !r.abandon);
    match retry_delay {
        Some(delay) => {
            ("pending", Some(to_millis(now + Duration::from_std(*delay).unwrap_or_default())))
        }
        None => ("failed", None),
    }
}

async fn move_on(
    conn: &mut AnyConnection,
    chunk: &[AttemptRecord],
    schedule: &[std::time::Duration],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    // `VALUES` rows are read back as column1…column5 on both backends.
    let rows: Vec<String> = (0..chunk.len())
        .map(|i| {
            let p = i * 5 + 1;
            format!("(${p}, ${}, ${}, ${}, ${})", p + 1, p + 2, p + 3, p + 4)
        })
        .collect();
    let now_param = chunk.len() * 5 + 1;
    let sql = format!(
        "UPDATE deliveries SET status = v.column3, next_attempt_at = v.column4, lease_id = NULL, \
         chain_attempts = deliveries.chain_attempts + v.column5, \
         total_attempts = deliveries.total_attempts + v.column5, updated_at = ${now_param} \
         FROM (VALUES {}) AS v WHERE deliveries.id = v.column1 AND deliveries.lease_id = v.column2",
        rows.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for r in chunk {
        let (status, next_attempt_at) = next_state(r, schedule, now);
        query = query
            .bind(r.delivery_id.to_string())
            .bind(r.lease_id.to_string())
            .bind(status)
            .bind(next_attempt_at)
            .bind(i64::from(!r.abandon));
    }
    let moved = query.bind(to_millis(now)).execute(&mut *conn).await?.rows_affected();
    if moved < chunk.len() as u64 {
        tracing::warn!(
            lost = chunk.len() as u64 - moved,
            "leases lost before attempts were recorded; those deliveries were claimed again"
        );
    }
    Ok(())
}

async fn log_attempts(
    conn: &mut AnyConnection,
    chunk: &[AttemptRecord],
) -> Result<(), sqlx::Error> {
    let made: Vec<&AttemptRecord> = chunk.iter().filter(|r| !r.abandon).collect();
    if made.is_empty() {
        return Ok(());
    }
    let rows: Vec<String> = (0..made.len())
        .map(|i| {
            let p = i * 8 + 1;
            let list: Vec<String> = (p..p + 8).map(|n| format!("${n}")).collect();
            format!("({})", list.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO delivery_attempts (id, delivery_id, number, attempted_at, duration_ms, \
         status_code, error, response_body) VALUES {}",
        rows.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for r in made {
        query = query
            .bind(Uuid::now_v7().to_string())
            .bind(r.delivery_id.to_string())
            .bind(r.total_attempts + 1)
            .bind(to_millis(r.attempted_at))
            .bind(r.duration_ms)
            .bind(r.status_code.map(i64::from))
            .bind(r.error.clone())
            .bind(r.response_body.clone());
    }
    query.execute(conn).await?;
    Ok(())
}

/// When the next pending delivery falls due, if any.
pub async fn next_due(conn: &mut AnyConnection) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let at: Option<i64> =
        sqlx::query_scalar("SELECT MIN(next_attempt_at) FROM deliveries WHERE status = 'pending'")
            .fetch_one(conn)
            .await?;
    Ok(at.map(super::from_millis))
}

/// Pending deliveries and the creation time of the oldest, for metrics.
pub async fn backlog(
    conn: &mut AnyConnection,
) -> Result<(i64, Option<DateTime<Utc>>), sqlx::Error> {
    use sqlx::Row;
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM deliveries WHERE status = 'pending'",
    )
    .fetch_one(conn)
    .await?;
    let oldest: Option<i64> = row.try_get("oldest")?;
    Ok((row.try_get("n")?, oldest.map(super::from_millis)))
}

#[derive(Debug, Clone)]
pub struct Attempt {
    pub number: i64,
    pub attempted_at: DateTime<Utc>,
    pub duration_ms: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub response_body: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub attempts: Vec<Attempt>,
}

const DELIVERY_COLUMNS: &str =
    "id, webhook_id, event_id, event_type, status, next_attempt_at, created_at, updated_at";

fn delivery_from_row(row: &AnyRow) -> Result<Delivery, sqlx::Error> {
    use sqlx::Row;
    let status: String = row.try_get("status")?;
    let status = DeliveryStatus::parse(&status).ok_or_else(|| sqlx::Error::ColumnDecode {
        index: "status".into(),
        source: format!("unknown delivery status {status}").into(),
    })?;
    Ok(Delivery {
        id: get_uuid(row, "id")?,
        webhook_id: get_uuid(row, "webhook_id")?,
        event_id: get_uuid(row, "event_id")?,
        event_type: row.try_get("event_type")?,
        status,
        next_attempt_at: if status == DeliveryStatus::Pending {
            get_opt_time(row, "next_attempt_at")?
        } else {
            None
        },
        created_at: get_time(row, "created_at")?,
        updated_at: get_time(row, "updated_at")?,
        attempts: Vec::new(),
    })
}

/// The webhook's deliveries, newest first, each with all its attempts.
pub async fn list(
    conn: &mut AnyConnection,
    webhook_id: Uuid,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Delivery>, sqlx::Error> {
    use sqlx::Row;
    let mut deliveries = sqlx::query(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE webhook_id = $1 \
         AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3"
    ))
    .bind(webhook_id.to_string())
    .bind(before.map(|b| b.to_string()).unwrap_or_default())
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(delivery_from_row)
    .collect::<Result<Vec<_>, _>>()?;
    if deliveries.is_empty() {
        return Ok(deliveries);
    }
    let placeholders: Vec<String> = (1..=deliveries.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT delivery_id, number, attempted_at, duration_ms, status_code, error, response_body \
         FROM delivery_attempts WHERE delivery_id IN ({}) ORDER BY number",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for d in &deliveries {
        query = query.bind(d.id.to_string());
    }
    for row in query.fetch_all(conn).await? {
        let delivery_id = get_uuid(&row, "delivery_id")?;
        let attempt = Attempt {
            number: row.try_get("number")?,
            attempted_at: get_time(&row, "attempted_at")?,
            duration_ms: row.try_get("duration_ms")?,
            status_code: row.try_get("status_code")?,
            error: row.try_get("error")?,
            response_body: row.try_get("response_body")?,
        };
        if let Some(d) = deliveries.iter_mut().find(|d| d.id == delivery_id) {
            d.attempts.push(attempt);
        }
    }
    Ok(deliveries)
}

pub async fn find_status(
    conn: &mut AnyConnection,
    webhook_id: Uuid,
    id: Uuid,
) -> Result<Option<DeliveryStatus>, sqlx::Error> {
    let status: Option<String> =
        sqlx::query_scalar("SELECT status FROM deliveries WHERE id = $1 AND webhook_id = $2")
            .bind(id.to_string())
            .bind(webhook_id.to_string())
            .fetch_optional(conn)
            .await?;
    Ok(status.as_deref().and_then(DeliveryStatus::parse))
}

/// Starts a fresh attempt chain for a finished delivery.
pub async fn restart(
    conn: &mut AnyConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE deliveries SET status = 'pending', chain_attempts = 0, next_attempt_at = $2, \
         lease_id = NULL, updated_at = $2 WHERE id = $1 AND status <> 'pending'",
    )
    .bind(id.to_string())
    .bind(to_millis(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// Restarts every delivery of the webhook that failed at or after `since`; returns how many.
pub async fn recover(
    conn: &mut AnyConnection,
    webhook_id: Uuid,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE deliveries SET status = 'pending', chain_attempts = 0, next_attempt_at = $3, \
         lease_id = NULL, updated_at = $3 WHERE webhook_id = $1 AND status = 'failed' \
         AND updated_at >= $2",
    )
    .bind(webhook_id.to_string())
    .bind(to_millis(since))
    .bind(to_millis(now))
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
