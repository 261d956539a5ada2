//! Portal sessions: one-time links to a page of an organization's webhooks, and the sessions
//! they open. Only SHA-256 digests of the link's and the session's tokens are kept.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Conn, TextList, Tx};
use crate::run;

/// What a portal page may look like, as its maker chose.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Theme {
    pub primary_color: Option<String>,
    pub background_color: Option<String>,
    pub logo_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PortalSession {
    pub id: Uuid,
    pub organization_id: Uuid,
    /// The user who made it, or for whom the OAuth app that made it acted.
    pub user_id: Option<Uuid>,
    pub oauth_app_id: Option<Uuid>,
    /// The maker's OAuth scopes (none for a user's own token).
    pub scopes: Vec<String>,
    pub link_expires_at: DateTime<Utc>,
    pub opened_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    /// The only event types the page offers and shows; `None` for all of them.
    pub event_types: Option<Vec<String>>,
    pub read_only: bool,
    /// Origins that may frame the page.
    pub frame_ancestors: Vec<String>,
    pub theme: Theme,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    organization_id: Uuid,
    user_id: Option<Uuid>,
    oauth_app_id: Option<Uuid>,
    scopes: TextList,
    link_expires_at: DateTime<Utc>,
    opened_at: Option<DateTime<Utc>>,
    expires_at: DateTime<Utc>,
    event_types: Option<TextList>,
    read_only: bool,
    frame_ancestors: TextList,
    primary_color: Option<String>,
    background_color: Option<String>,
    logo_url: Option<String>,
    revoked_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl From<Row> for PortalSession {
    fn from(row: Row) -> Self {
        Self {
            id: row.id,
            organization_id: row.organization_id,
            user_id: row.user_id,
            oauth_app_id: row.oauth_app_id,
            scopes: row.scopes.0,
            link_expires_at: row.link_expires_at,
            opened_at: row.opened_at,
            expires_at: row.expires_at,
            event_types: row.event_types.map(|list| list.0),
            read_only: row.read_only,
            frame_ancestors: row.frame_ancestors.0,
            theme: Theme {
                primary_color: row.primary_color,
                background_color: row.background_color,
                logo_url: row.logo_url,
            },
            revoked_at: row.revoked_at,
            created_at: row.created_at,
        }
    }
}

const COLUMNS: &str = "id, organization_id, user_id, oauth_app_id, scopes, link_expires_at, \
     opened_at, expires_at, event_types, read_only, frame_ancestors, primary_color, \
     background_color, logo_url, revoked_at, created_at";

pub async fn insert(
    tx: &mut Tx,
    session: &PortalSession,
    link_hash: &str,
) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query(
            "INSERT INTO portal_sessions (id, organization_id, user_id, oauth_app_id, scopes, \
             link_hash, link_expires_at, expires_at, event_types, read_only, frame_ancestors, \
             primary_color, background_color, logo_url, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(session.id)
        .bind(session.organization_id)
        .bind(session.user_id)
        .bind(session.oauth_app_id)
        .bind(TextList(session.scopes.clone()))
        .bind(link_hash)
        .bind(session.link_expires_at)
        .bind(session.expires_at)
        .bind(session.event_types.clone().map(TextList))
        .bind(session.read_only)
        .bind(TextList(session.frame_ancestors.clone()))
        .bind(session.theme.primary_color.as_deref())
        .bind(session.theme.background_color.as_deref())
        .bind(session.theme.logo_url.as_deref())
        .bind(session.created_at)
    )?;
    Ok(())
}

/// Spends the link with this digest, if it is unused, unexpired and unrevoked, giving the
/// session `session_hash`. One statement: two openings of one link cannot both succeed.
pub async fn open(
    tx: &mut Tx,
    link_hash: &str,
    session_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<PortalSession>, sqlx::Error> {
    let sql = format!(
        "UPDATE portal_sessions SET session_hash = $2, opened_at = $3 \
         WHERE link_hash = $1 AND session_hash IS NULL AND revoked_at IS NULL \
         AND link_expires_at > $3 AND expires_at > $3 RETURNING {COLUMNS}"
    );
    let row: Option<Row> = run!(
        tx,
        fetch_optional,
        sqlx::query_as(&sql).bind(link_hash).bind(session_hash).bind(now)
    )?;
    Ok(row.map(PortalSession::from))
}

/// The open, unexpired, unrevoked session with this digest.
pub async fn find_live(
    conn: &mut dyn Conn,
    session_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<PortalSession>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM portal_sessions WHERE session_hash = $1 \
         AND revoked_at IS NULL AND expires_at > $2"
    );
    let row: Option<Row> =
        run!(conn, fetch_optional, sqlx::query_as(&sql).bind(session_hash).bind(now))?;
    Ok(row.map(PortalSession::from))
}

/// Ends the organization's session `id`, opened or not; `false` when there is none.
pub async fn revoke(
    tx: &mut Tx,
    org_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = run!(
        tx,
        execute,
        sqlx::query(
            "UPDATE portal_sessions SET revoked_at = COALESCE(revoked_at, $3) \
             WHERE id = $1 AND organization_id = $2",
        )
        .bind(id)
        .bind(org_id)
        .bind(now)
    )?;
    Ok(done > 0)
}
