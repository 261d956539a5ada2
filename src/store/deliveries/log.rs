//! The read model of a webhook's deliveries: each with its latest attempts (a delivery
//! redelivered many times has many), and every attempt a page at a time.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::DeliveryStatus;
use crate::run;
use crate::store::{Conn, bad_value};

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
    /// The latest [`LATEST_ATTEMPTS`] attempts, oldest first.
    pub attempts: Vec<Attempt>,
    /// How many attempts there have been in all.
    pub attempt_count: i64,
}

/// Attempts shown with each delivery of a list: so many chains of a default schedule, and a
/// page of deliveries stays bounded (each attempt keeps up to 4 KiB of the answer).
pub const LATEST_ATTEMPTS: i64 = 8;

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: Uuid,
    webhook_id: Uuid,
    event_id: Uuid,
    event_type: String,
    status: String,
    next_attempt_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = sqlx::Error;

    fn try_from(row: DeliveryRow) -> Result<Self, sqlx::Error> {
        let status =
            DeliveryStatus::parse(&row.status).ok_or_else(|| bad_value("status", &row.status))?;
        Ok(Delivery {
            id: row.id,
            webhook_id: row.webhook_id,
            event_id: row.event_id,
            event_type: row.event_type,
            status,
            // A finished delivery keeps its last due time in the row; it means nothing.
            next_attempt_at: row.next_attempt_at.filter(|_| status == DeliveryStatus::Pending),
            created_at: row.created_at,
            updated_at: row.updated_at,
            attempts: Vec::new(),
            attempt_count: 0,
        })
    }
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    delivery_id: Uuid,
    number: i32,
    attempted_at: DateTime<Utc>,
    duration_ms: i32,
    status_code: Option<i32>,
    error: Option<String>,
    response_body: Option<String>,
}

/// The webhook's deliveries, newest first, each with its latest attempts; only those in
/// `status`, if given.
pub async fn list(
    conn: &mut dyn Conn,
    webhook_id: Uuid,
    status: Option<DeliveryStatus>,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Delivery>, sqlx::Error> {
    let rows: Vec<DeliveryRow> = run!(
        conn,
        fetch_all,
        sqlx::query_as(
            "SELECT id, webhook_id, event_id, event_type, status, next_attempt_at, created_at, \
             updated_at FROM deliveries WHERE webhook_id = $1 AND ($2 IS NULL OR id < $2) \
             AND ($3 IS NULL OR status = $3) ORDER BY id DESC LIMIT $4",
        )
        .bind(webhook_id)
        .bind(before)
        .bind(status.map(DeliveryStatus::as_str))
        .bind(limit)
    )?;
    let mut deliveries = rows.into_iter().map(Delivery::try_from).collect::<Result<Vec<_>, _>>()?;
    if deliveries.is_empty() {
        return Ok(deliveries);
    }
    let placeholders: Vec<String> = (2..=deliveries.len() + 1).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT delivery_id, number, attempted_at, duration_ms, status_code, error, \
         response_body, total FROM (SELECT delivery_attempts.*, \
         ROW_NUMBER() OVER (PARTITION BY delivery_id ORDER BY number DESC) AS latest, \
         COUNT(*) OVER (PARTITION BY delivery_id) AS total \
         FROM delivery_attempts WHERE delivery_id IN ({})) ranked \
         WHERE latest <= $1 ORDER BY number",
        placeholders.join(", ")
    );
    let attempts: Vec<CountedAttemptRow> = run!(conn, fetch_all, {
        let mut query = sqlx::query_as(&sql).bind(LATEST_ATTEMPTS);
        for d in &deliveries {
            query = query.bind(d.id);
        }
        query
    })?;
    for CountedAttemptRow { attempt, total } in attempts {
        if let Some(d) = deliveries.iter_mut().find(|d| d.id == attempt.delivery_id) {
            d.attempt_count = total;
            d.attempts.push(attempt.into());
        }
    }
    Ok(deliveries)
}

/// The delivery's attempts in order, after attempt number `after`; `None` if the webhook has
/// no such delivery.
pub async fn attempts(
    conn: &mut dyn Conn,
    webhook_id: Uuid,
    delivery_id: Uuid,
    after: i64,
    limit: i64,
) -> Result<Option<Vec<Attempt>>, sqlx::Error> {
    if find_status(conn, webhook_id, delivery_id).await?.is_none() {
        return Ok(None);
    }
    let rows: Vec<AttemptRow> = run!(
        conn,
        fetch_all,
        sqlx::query_as(
            "SELECT delivery_id, number, attempted_at, duration_ms, status_code, error, \
             response_body FROM delivery_attempts WHERE delivery_id = $1 AND number > $2 \
             ORDER BY number LIMIT $3",
        )
        .bind(delivery_id)
        .bind(after)
        .bind(limit)
    )?;
    Ok(Some(rows.into_iter().map(Attempt::from).collect()))
}

#[derive(sqlx::FromRow)]
struct CountedAttemptRow {
    #[sqlx(flatten)]
    attempt: AttemptRow,
    total: i64,
}

impl From<AttemptRow> for Attempt {
    fn from(row: AttemptRow) -> Self {
        Attempt {
            number: row.number.into(),
            attempted_at: row.attempted_at,
            duration_ms: row.duration_ms.into(),
            status_code: row.status_code.map(i64::from),
            error: row.error,
            response_body: row.response_body,
        }
    }
}

pub async fn find_status(
    conn: &mut dyn Conn,
    webhook_id: Uuid,
    id: Uuid,
) -> Result<Option<DeliveryStatus>, sqlx::Error> {
    let status: Option<String> = run!(
        conn,
        fetch_optional,
        sqlx::query_scalar("SELECT status FROM deliveries WHERE id = $1 AND webhook_id = $2")
            .bind(id)
            .bind(webhook_id)
    )?;
    status.map(|s| DeliveryStatus::parse(&s).ok_or_else(|| bad_value("status", &s))).transpose()
}
