//! What the queue holds: when the worker next has work, and the backlog metrics report.

use chrono::{DateTime, Utc};

use super::claim::{CLAIM_WINDOW, Exclusions};
use crate::run;
use crate::store::conn::not_in_id_list;
use crate::store::{Conn, IdList};

/// When the next pending delivery a claim could take falls due, if any: among the
/// [`CLAIM_WINDOW`] next to fall due, the first not left out.
pub async fn next_due(
    conn: &mut dyn Conn,
    leaving_out: &Exclusions,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    if leaving_out.is_empty() {
        return run!(
            conn,
            fetch_one,
            sqlx::query_scalar(
                "SELECT MIN(next_attempt_at) FROM deliveries WHERE status = 'pending'"
            )
        );
    }
    let sql = format!(
        "SELECT MIN(o.next_attempt_at) FROM (\
           SELECT webhook_id, next_attempt_at FROM deliveries WHERE status = 'pending' \
           ORDER BY next_attempt_at LIMIT {CLAIM_WINDOW}) o \
         JOIN webhooks w ON w.id = o.webhook_id WHERE {} AND {}",
        not_in_id_list(conn.backend(), "o.webhook_id", "$1"),
        not_in_id_list(conn.backend(), "w.organization_id", "$2"),
    );
    run!(
        conn,
        fetch_one,
        sqlx::query_scalar(&sql)
            .bind(IdList(leaving_out.webhooks.clone()))
            .bind(IdList(leaving_out.organizations.clone()))
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
