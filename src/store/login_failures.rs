//! Failed sign-ins, counted per subject (an email or a client address) over a sliding window.
//! Kept in the database so that every instance on one PostgreSQL enforces one limit.

use chrono::{DateTime, Duration, Utc};
use sqlx::AnyConnection;
use uuid::Uuid;

use super::to_millis;

pub async fn record(
    conn: &mut AnyConnection,
    subjects: &[&str],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    for subject in subjects {
        sqlx::query("INSERT INTO login_failures (id, subject, occurred_at) VALUES ($1, $2, $3)")
            .bind(Uuid::now_v7().to_string())
            .bind(*subject)
            .bind(to_millis(now))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The most failures any of `subjects` has had within `window`, and the oldest of those
/// failures' time (when the window starts to free up).
pub async fn count_recent(
    conn: &mut AnyConnection,
    subject: &str,
    now: DateTime<Utc>,
    window: Duration,
) -> Result<(i64, Option<i64>), sqlx::Error> {
    use sqlx::Row;
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, MIN(occurred_at) AS oldest FROM login_failures \
         WHERE subject = $1 AND occurred_at > $2",
    )
    .bind(subject)
    .bind(to_millis(now - window))
    .fetch_one(conn)
    .await?;
    Ok((row.try_get("n")?, row.try_get("oldest")?))
}

/// Forgets failures older than `window`, and a subject's failures once it signs in.
pub async fn prune(
    conn: &mut AnyConnection,
    subject: Option<&str>,
    now: DateTime<Utc>,
    window: Duration,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_failures WHERE occurred_at <= $1 OR subject = $2")
        .bind(to_millis(now - window))
        .bind(subject.unwrap_or(""))
        .execute(conn)
        .await?;
    Ok(())
}
