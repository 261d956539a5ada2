//! Bearer, refresh and personal access tokens, stored by SHA-256 digest only.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::single_use::{self, Presented, SESSION_REFRESH};
use super::{Conn, Tx, bad_value, sessions};
use crate::run;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
    PersonalAccess,
}

impl TokenKind {
    fn as_str(self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
            TokenKind::PersonalAccess => "pat",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [TokenKind::Access, TokenKind::Refresh, TokenKind::PersonalAccess]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub id: Uuid,
    pub kind: TokenKind,
    pub user_id: Uuid,
    /// Access and refresh tokens issued from one sign-in share a family, so that logout and
    /// refresh-token reuse can revoke all of them at once.
    pub family_id: Option<Uuid>,
    pub name: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    kind: String,
    user_id: Uuid,
    family_id: Option<Uuid>,
    name: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl TryFrom<Row> for TokenRecord {
    type Error = sqlx::Error;

    fn try_from(row: Row) -> Result<Self, sqlx::Error> {
        Ok(TokenRecord {
            id: row.id,
            kind: TokenKind::parse(&row.kind).ok_or_else(|| bad_value("kind", &row.kind))?,
            user_id: row.user_id,
            family_id: row.family_id,
            name: row.name,
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
            created_at: row.created_at,
        })
    }
}

const COLUMNS: &str = "id, kind, user_id, family_id, name, expires_at, last_used_at, created_at";

pub async fn insert(tx: &mut Tx, token: &TokenRecord, token_hash: &str) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query(
            "INSERT INTO tokens (id, kind, token_hash, user_id, family_id, name, expires_at, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(token.id)
        .bind(token.kind.as_str())
        .bind(token_hash)
        .bind(token.user_id)
        .bind(token.family_id)
        .bind(token.name.as_deref())
        .bind(token.expires_at)
        .bind(token.created_at)
    )?;
    Ok(())
}

/// A live bearer token (access or personal access) with this digest.
pub async fn find_bearer(
    conn: &mut dyn Conn,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<TokenRecord>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM tokens WHERE token_hash = $1 AND kind IN ('access', 'pat') \
         AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)"
    );
    let row: Option<Row> =
        run!(conn, fetch_optional, sqlx::query_as(&sql).bind(token_hash).bind(now))?;
    row.map(TokenRecord::try_from).transpose()
}

/// Records use of a bearer token, at most once per [`super::last_used::TOUCH_EVERY`].
pub async fn touch(tx: &mut Tx, id: Uuid, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    super::last_used::touch(tx, "tokens", id, now).await
}

/// Moves a live token's expiry to `expires_at` (the console's sliding sign-in); a revoked
/// or expired token stays ended.
pub async fn extend(
    tx: &mut Tx,
    id: Uuid,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query(
            "UPDATE tokens SET expires_at = $2 WHERE id = $1 AND revoked_at IS NULL \
             AND expires_at > $3",
        )
        .bind(id)
        .bind(expires_at)
        .bind(now)
    )?;
    Ok(())
}

pub enum RefreshOutcome {
    /// The token was live and is now spent; issue the next pair in its family.
    Rotated(TokenRecord),
    /// The token had been spent already: someone replayed it. Its family is now revoked.
    Reused,
    /// Unknown, expired or revoked.
    Invalid,
}

/// Spends a refresh token (see `single_use` for the rule two concurrent uses follow).
pub async fn consume_refresh(
    tx: &mut Tx,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<RefreshOutcome, sqlx::Error> {
    let presented = single_use::present(tx, &SESSION_REFRESH, token_hash, None, now).await?;
    if presented == Presented::Dead {
        return Ok(RefreshOutcome::Invalid);
    }
    let sql = format!("SELECT {COLUMNS} FROM tokens WHERE token_hash = $1 AND kind = 'refresh'");
    let row: Option<Row> = run!(tx, fetch_optional, sqlx::query_as(&sql).bind(token_hash))?;
    let Some(record) = row.map(TokenRecord::try_from).transpose()? else {
        return Ok(RefreshOutcome::Invalid);
    };
    match (presented, record.family_id) {
        (Presented::Spent, _) => Ok(RefreshOutcome::Rotated(record)),
        (_, Some(family)) => {
            revoke_family(tx, family, now).await?;
            Ok(RefreshOutcome::Reused)
        }
        (_, None) => Ok(RefreshOutcome::Invalid),
    }
}

/// Ends one sign-in: every token of the family, and its session.
pub async fn revoke_family(
    tx: &mut Tx,
    family_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query(
            "UPDATE tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL"
        )
        .bind(family_id)
        .bind(now)
    )?;
    sessions::revoke(tx, family_id, now).await
}

/// Ends every sign-in of the user but the family `except`: their access and refresh tokens
/// and their sessions. Personal access tokens are left alone.
pub async fn revoke_sign_ins(
    tx: &mut Tx,
    user_id: Uuid,
    except: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query(
            "UPDATE tokens SET revoked_at = $3 WHERE user_id = $1 AND kind IN ('access', 'refresh') \
             AND revoked_at IS NULL AND ($2 IS NULL OR family_id IS NULL OR family_id <> $2)",
        )
        .bind(user_id)
        .bind(except)
        .bind(now)
    )?;
    sessions::revoke_all(tx, user_id, except, now).await
}

/// Revokes every personal access token of the user but `except`.
pub async fn revoke_all_personal(
    tx: &mut Tx,
    user_id: Uuid,
    except: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query(
            "UPDATE tokens SET revoked_at = $3 WHERE user_id = $1 AND kind = 'pat' \
             AND revoked_at IS NULL AND ($2 IS NULL OR id <> $2)",
        )
        .bind(user_id)
        .bind(except)
        .bind(now)
    )?;
    Ok(())
}

pub async fn revoke(tx: &mut Tx, id: Uuid, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query("UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(now)
    )?;
    Ok(())
}

/// The user's personal access tokens that are neither revoked nor expired, newest first.
pub async fn list_personal(
    conn: &mut dyn Conn,
    user_id: Uuid,
    now: DateTime<Utc>,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<TokenRecord>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM tokens WHERE user_id = $1 AND kind = 'pat' AND revoked_at IS NULL \
         AND (expires_at IS NULL OR expires_at > $2) AND ($3 IS NULL OR id < $3) \
         ORDER BY id DESC LIMIT $4"
    );
    let rows: Vec<Row> = run!(
        conn,
        fetch_all,
        sqlx::query_as(&sql).bind(user_id).bind(now).bind(before).bind(limit)
    )?;
    rows.into_iter().map(TokenRecord::try_from).collect()
}

/// Revokes one of the user's live personal access tokens; false when there is none.
pub async fn revoke_personal(
    tx: &mut Tx,
    user_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = run!(
        tx,
        execute,
        sqlx::query(
            "UPDATE tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND kind = 'pat' \
             AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $3)",
        )
        .bind(id)
        .bind(user_id)
        .bind(now)
    )?;
    Ok(done == 1)
}
