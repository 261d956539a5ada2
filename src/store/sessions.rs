//! Sessions: one row per sign-in, keyed by the token family its access and refresh tokens
//! share. The tokens stay the truth about access: a session is live while it is not revoked
//! and some token of its family still works, so a family ended any other way (logout, an
//! expired refresh token, a replayed one) drops out of the list without touching this table.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Conn, Tx};
use crate::run;

/// Longest `User-Agent` kept, in characters: enough to tell devices apart.
pub const USER_AGENT_MAX: usize = 256;

/// Where a sign-in came from.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    pub id: Uuid,
    pub user_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// Some token of the session's family still works.
const LIVE: &str = "s.revoked_at IS NULL AND EXISTS (SELECT 1 FROM tokens t \
     WHERE t.family_id = s.id AND t.revoked_at IS NULL AND t.expires_at > $2)";

/// Records a sign-in; `id` is the token family it starts.
pub async fn start(
    tx: &mut Tx,
    id: Uuid,
    user_id: Uuid,
    client: &Client,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query(
            "INSERT INTO sessions (id, user_id, created_at, last_used_at, user_agent, ip) \
             VALUES ($1, $2, $3, $3, $4, $5)",
        )
        .bind(id)
        .bind(user_id)
        .bind(now)
        .bind(client.user_agent.as_deref())
        .bind(client.ip.as_deref())
    )?;
    Ok(())
}

/// Records a refresh of the family. A family that has no session row yet (one older than
/// sessions that the migration did not see) gets one of unknown device.
pub async fn refreshed(
    tx: &mut Tx,
    id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query(
            "INSERT INTO sessions (id, user_id, created_at, last_used_at) VALUES ($1, $2, $3, $3) \
             ON CONFLICT (id) DO UPDATE SET last_used_at = excluded.last_used_at",
        )
        .bind(id)
        .bind(user_id)
        .bind(now)
    )?;
    Ok(())
}

/// Records use of the session by one of its access tokens, at most once a minute whichever
/// of its tokens is used.
pub async fn touch(tx: &mut Tx, id: Uuid, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    super::last_used::touch(tx, "sessions", id, now).await
}

/// The user's live sessions, newest first.
pub async fn list_live(
    conn: &mut dyn Conn,
    user_id: Uuid,
    now: DateTime<Utc>,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Session>, sqlx::Error> {
    let sql = format!(
        "SELECT s.id, s.user_id, s.created_at, s.last_used_at, s.user_agent, s.ip \
         FROM sessions s WHERE s.user_id = $1 AND {LIVE} AND ($3 IS NULL OR s.id < $3) \
         ORDER BY s.id DESC LIMIT $4"
    );
    run!(conn, fetch_all, sqlx::query_as(&sql).bind(user_id).bind(now).bind(before).bind(limit))
}

/// Whether `id` is one of the user's live sessions.
pub async fn is_live(
    conn: &mut dyn Conn,
    user_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let sql = format!("SELECT s.id FROM sessions s WHERE s.id = $1 AND {LIVE} AND s.user_id = $3");
    let found: Option<(Uuid,)> =
        run!(conn, fetch_optional, sqlx::query_as(&sql).bind(id).bind(now).bind(user_id))?;
    Ok(found.is_some())
}

/// Marks the session revoked; `tokens::revoke_family` calls it with the family's tokens.
pub(super) async fn revoke(tx: &mut Tx, id: Uuid, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(now)
    )?;
    Ok(())
}

/// Marks every session of the user revoked but `except`; `tokens::revoke_sign_ins` calls it
/// with their tokens.
pub(super) async fn revoke_all(
    tx: &mut Tx,
    user_id: Uuid,
    except: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query(
            "UPDATE sessions SET revoked_at = $3 WHERE user_id = $1 AND revoked_at IS NULL \
             AND ($2 IS NULL OR id <> $2)",
        )
        .bind(user_id)
        .bind(except)
        .bind(now)
    )?;
    Ok(())
}
