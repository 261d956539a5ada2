//! Sign-in attempts, counted per subject (an email, a client network, or the pair) over a
//! sliding window. An attempt is recorded before its password is checked and forgotten if it
//! succeeds or is refused, so parallel attempts count against each other and cannot slip past
//! the limit together. Kept in the database, so every instance on one PostgreSQL enforces one
//! limit.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{Conn, Tx};
use crate::run;

/// Records one attempt against each subject; returns the rows, to [`forget`] them later.
pub async fn record(
    tx: &mut Tx,
    subjects: &[&str],
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, sqlx::Error> {
    let mut ids = Vec::with_capacity(subjects.len());
    for subject in subjects {
        let id = Uuid::now_v7();
        run!(
            tx,
            execute,
            sqlx::query(
                "INSERT INTO login_failures (id, subject, occurred_at) VALUES ($1, $2, $3)"
            )
            .bind(id)
            .bind(*subject)
            .bind(now)
        )?;
        ids.push(id);
    }
    Ok(ids)
}

/// Removes recorded attempts: one that succeeded, or one that was refused unchecked.
pub async fn forget(tx: &mut Tx, ids: &[Uuid]) -> Result<(), sqlx::Error> {
    for id in ids {
        run!(tx, execute, sqlx::query("DELETE FROM login_failures WHERE id = $1").bind(*id))?;
    }
    Ok(())
}

/// How many attempts `subject` has within `window`, and the time of the oldest of them (when
/// the window starts to free up).
pub async fn count_recent(
    conn: &mut dyn Conn,
    subject: &str,
    now: DateTime<Utc>,
    window: Duration,
) -> Result<(i64, Option<DateTime<Utc>>), sqlx::Error> {
    run!(
        conn,
        fetch_one,
        sqlx::query_as(
            "SELECT COUNT(*), MIN(occurred_at) FROM login_failures \
             WHERE subject = $1 AND occurred_at > $2",
        )
        .bind(subject)
        .bind(now - window)
    )
}

/// Forgets every attempt of `subject` (after a successful sign-in).
pub async fn clear(tx: &mut Tx, subject: &str) -> Result<(), sqlx::Error> {
    run!(tx, execute, sqlx::query("DELETE FROM login_failures WHERE subject = $1").bind(subject))?;
    Ok(())
}

/// Forgets attempts older than `window`.
pub async fn prune(tx: &mut Tx, now: DateTime<Utc>, window: Duration) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query("DELETE FROM login_failures WHERE occurred_at <= $1").bind(now - window)
    )?;
    Ok(())
}
