//! What the queue holds: when the worker next has work, and the backlog metrics report.

use chrono::{DateTime, Utc};

use crate::run;
use crate::store::Conn;

/// When the next pending delivery falls due, if any.
pub async fn next_due(conn: &mut dyn Conn) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    run!(
        conn,
        fetch_one,
        sqlx::query_scalar("SELECT MIN(next_attempt_at) FROM deliveries WHERE status = 'pending'")
    )
}

/// Pending deliveries and the creation time of the oldest, for metrics.
pub async fn backlog(conn: &mut dyn Conn) -> Result<(i64, Option<DateTime<Utc>>), sqlx::Error> {
    run!(
        conn,
        fetch_one,
        sqlx::query_as("SELECT COUNT(*), MIN(created_at) FROM deliveries WHERE status = 'pending'")
    )
}

/// The queue as one waiting for it to drain sees it: how many pending deliveries are in a
/// worker's hands (leased, lease not run out), and when the next one that is not falls due.
pub async fn queue_state(
    conn: &mut dyn Conn,
    now: DateTime<Utc>,
) -> Result<(i64, Option<DateTime<Utc>>), sqlx::Error> {
    run!(
        conn,
        fetch_one,
        sqlx::query_as(
            "SELECT COUNT(*) FILTER (WHERE lease_id IS NOT NULL AND next_attempt_at > $1), \
             MIN(next_attempt_at) FILTER (WHERE lease_id IS NULL OR next_attempt_at <= $1) \
             FROM deliveries WHERE status = 'pending'",
        )
        .bind(now)
    )
}
