//! Sign-in attempts, counted per subject (an email, a client network, or the pair) over a
//! sliding window. An attempt is recorded before its password is checked and forgotten if it
//! succeeds or is refused, so parallel attempts count against each other and cannot slip past
//! the limit together. Kept in the database, so every instance on one PostgreSQL enforces one
//! limit.

use chrono::{DateTime, Duration, Utc};
use sqlx::AnyConnection;
use uuid::Uuid;

use super::to_millis;

/// Records one attempt against each subject; returns the rows, to [`forget`] them later.
pub async fn record(
    conn: &mut AnyConnection,
    subjects: &[&str],
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, sqlx::Error> {
    let mut ids = Vec::with_capacity(subjects.len());
    for subject in subjects {
        let id = Uuid::now_v7();
        sqlx::query("INSERT INTO login_failures (id, subject, occurred_at) VALUES ($1, $2, $3)")
            .bind(id.to_string())
            .bind(*subject)
            .bind(to_millis(now))
            .execute(&mut *conn)
            .await?;
        ids.push(id);
    }
    Ok(ids)
}

/// Removes recorded attempts: one that succeeded, or one that was refused unchecked.
pub async fn forget(conn: &mut AnyConnection, ids: &[Uuid]) -> Result<(), sqlx::Error> {
    for id in ids {
        sqlx::query("DELETE FROM login_failures WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// How many attempts `subject` has within `window`, and the time of the oldest of them (when
/// the window starts to free up).
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

/// Forgets every attempt of `subject` (after a successful sign-in).
pub async fn clear(conn: &mut AnyConnection, subject: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_failures WHERE subject = $1")
        .bind(subject)
        .execute(conn)
        .await?;
    Ok(())
}

/// Forgets attempts older than `window`.
pub async fn prune(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    window: Duration,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_failures WHERE occurred_at <= $1")
        .bind(to_millis(now - window))
        .execute(conn)
        .await?;
    Ok(())
}
