//! How many of a quota's things exist now, counted up to the cap only: the cost of a check
//! stays bounded however far past it a table has grown.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Conn;
use crate::run;

/// The organization's webhooks not deleted, active or not, counting no further than `cap`.
pub async fn webhooks(conn: &mut dyn Conn, org_id: Uuid, cap: i64) -> Result<i64, sqlx::Error> {
    let rows = "SELECT id FROM webhooks WHERE organization_id = $1 AND deleted_at IS NULL";
    count(conn, rows, org_id, cap).await
}

/// The organization's OAuth apps not revoked, counting no further than `cap`.
pub async fn oauth_apps(conn: &mut dyn Conn, org_id: Uuid, cap: i64) -> Result<i64, sqlx::Error> {
    let rows = "SELECT id FROM oauth_apps WHERE organization_id = $1 AND status = 'active'";
    count(conn, rows, org_id, cap).await
}

/// The organization's invites still waiting to be accepted, counting no further than `cap`.
pub async fn pending_invites(
    conn: &mut dyn Conn,
    org_id: Uuid,
    now: DateTime<Utc>,
    cap: i64,
) -> Result<i64, sqlx::Error> {
    let rows = "SELECT id FROM invites WHERE organization_id = $1 AND status = 'pending' \
                AND expires_at > $3";
    count_live(conn, rows, org_id, now, cap).await
}

/// The user's personal access tokens that still work, counting no further than `cap`.
pub async fn personal_tokens(
    conn: &mut dyn Conn,
    user_id: Uuid,
    now: DateTime<Utc>,
    cap: i64,
) -> Result<i64, sqlx::Error> {
    let rows = "SELECT id FROM tokens WHERE user_id = $1 AND kind = 'pat' \
                AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $3)";
    count_live(conn, rows, user_id, now, cap).await
}

/// The app's access tokens that still work, counting no further than `cap`.
pub async fn oauth_access_tokens(
    conn: &mut dyn Conn,
    app_id: Uuid,
    now: DateTime<Utc>,
    cap: i64,
) -> Result<i64, sqlx::Error> {
    let rows = "SELECT id FROM oauth_tokens WHERE app_id = $1 AND kind = 'access' \
                AND revoked_at IS NULL AND expires_at > $3";
    count_live(conn, rows, app_id, now, cap).await
}

/// The rows `rows` selects for `$1`, at most `cap` (`$2`).
async fn count(conn: &mut dyn Conn, rows: &str, id: Uuid, cap: i64) -> Result<i64, sqlx::Error> {
    let sql = format!("SELECT COUNT(*) FROM ({rows} LIMIT $2) capped");
    let (n,): (i64,) = run!(conn, fetch_one, sqlx::query_as(&sql).bind(id).bind(cap))?;
    Ok(n)
}

/// Like [`count`], for rows that also depend on the time now (`$3`).
async fn count_live(
    conn: &mut dyn Conn,
    rows: &str,
    id: Uuid,
    now: DateTime<Utc>,
    cap: i64,
) -> Result<i64, sqlx::Error> {
    let sql = format!("SELECT COUNT(*) FROM ({rows} LIMIT $2) capped");
    let (n,): (i64,) = run!(conn, fetch_one, sqlx::query_as(&sql).bind(id).bind(cap).bind(now))?;
    Ok(n)
}
