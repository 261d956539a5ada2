//! Bearer, refresh and personal access tokens, stored by SHA-256 digest only.

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::{get_opt_time, get_time, get_uuid, to_millis};

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

const COLUMNS: &str = "id, kind, user_id, family_id, name, expires_at, last_used_at, created_at";

fn from_row(row: &AnyRow) -> Result<TokenRecord, sqlx::Error> {
    use sqlx::Row;
    let kind: String = row.try_get("kind")?;
    let family: Option<String> = row.try_get("family_id")?;
    Ok(TokenRecord {
        id: get_uuid(row, "id")?,
        kind: TokenKind::parse(&kind).ok_or_else(|| sqlx::Error::ColumnDecode {
            index: "kind".into(),
            source: format!("unknown token kind {kind}").into(),
        })?,
        user_id: get_uuid(row, "user_id")?,
        family_id: family.and_then(|f| Uuid::parse_str(&f).ok()),
        name: row.try_get("name")?,
        expires_at: get_opt_time(row, "expires_at")?,
        last_used_at: get_opt_time(row, "last_used_at")?,
        created_at: get_time(row, "created_at")?,
    })
}

pub async fn insert(
    conn: &mut AnyConnection,
    token: &TokenRecord,
    token_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO tokens (id, kind, token_hash, user_id, family_id, name, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(token.id.to_string())
    .bind(token.kind.as_str())
    .bind(token_hash)
    .bind(token.user_id.to_string())
    .bind(token.family_id.map(|f| f.to_string()))
    .bind(token.name.clone())
    .bind(token.expires_at.map(to_millis))
    .bind(to_millis(token.created_at))
    .execute(conn)
    .await?;
    Ok(())
}

/// A live bearer token (access or personal access) with this digest.
pub async fn find_bearer(
    conn: &mut AnyConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<TokenRecord>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM tokens WHERE token_hash = $1 AND kind IN ('access', 'pat') \
         AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)"
    ))
    .bind(token_hash)
    .bind(to_millis(now))
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// How stale `last_used_at` may get before a use records itself.
pub const TOUCH_EVERY: chrono::TimeDelta = chrono::TimeDelta::minutes(1);

/// Records use of a personal access token, at most once per [`TOUCH_EVERY`] to spare writes.
pub async fn touch(
    conn: &mut AnyConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE tokens SET last_used_at = $2 WHERE id = $1 \
         AND (last_used_at IS NULL OR last_used_at < $3)",
    )
    .bind(id.to_string())
    .bind(to_millis(now))
    .bind(to_millis(now - TOUCH_EVERY))
    .execute(conn)
    .await?;
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

/// Spends a refresh token. The conditional update makes two concurrent uses of one token
/// yield exactly one rotation; the loser is treated as reuse.
pub async fn consume_refresh(
    conn: &mut AnyConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<RefreshOutcome, sqlx::Error> {
    let spent = sqlx::query(
        "UPDATE tokens SET used_at = $2 WHERE token_hash = $1 AND kind = 'refresh' \
         AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(token_hash)
    .bind(to_millis(now))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if spent == 0 {
        // Concurrent replays take turns on the presented token's row, so that their
        // revocations of the family run one after another instead of deadlocking.
        sqlx::query(
            "UPDATE tokens SET used_at = used_at WHERE token_hash = $1 AND kind = 'refresh'",
        )
        .bind(token_hash)
        .execute(&mut *conn)
        .await?;
    }

    let row = sqlx::query(&format!(
        "SELECT {COLUMNS}, used_at, revoked_at FROM tokens WHERE token_hash = $1 AND kind = 'refresh'"
    ))
    .bind(token_hash)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(RefreshOutcome::Invalid) };
    let record = from_row(&row)?;
    if spent == 1 {
        return Ok(RefreshOutcome::Rotated(record));
    }
    let used_at = get_opt_time(&row, "used_at")?;
    let revoked_at = get_opt_time(&row, "revoked_at")?;
    match (used_at, revoked_at, record.family_id) {
        (Some(_), None, Some(family)) => {
            revoke_family(conn, family, now).await?;
            Ok(RefreshOutcome::Reused)
        }
        _ => Ok(RefreshOutcome::Invalid),
    }
}

pub async fn revoke_family(
    conn: &mut AnyConnection,
    family_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL")
        .bind(family_id.to_string())
        .bind(to_millis(now))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn revoke(
    conn: &mut AnyConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
        .bind(id.to_string())
        .bind(to_millis(now))
        .execute(conn)
        .await?;
    Ok(())
}

/// The user's personal access tokens that are neither revoked nor expired, newest first.
pub async fn list_personal(
    conn: &mut AnyConnection,
    user_id: Uuid,
    now: DateTime<Utc>,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<TokenRecord>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM tokens WHERE user_id = $1 AND kind = 'pat' AND revoked_at IS NULL \
         AND (expires_at IS NULL OR expires_at > $2) AND ($3 = '' OR id < $3) \
         ORDER BY id DESC LIMIT $4"
    ))
    .bind(user_id.to_string())
    .bind(to_millis(now))
    .bind(before.map(|b| b.to_string()).unwrap_or_default())
    .bind(limit)
    .fetch_all(conn)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// Revokes one of the user's live personal access tokens; false when there is none.
pub async fn revoke_personal(
    conn: &mut AnyConnection,
    user_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND kind = 'pat' \
         AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $3)",
    )
    .bind(id.to_string())
    .bind(user_id.to_string())
    .bind(to_millis(now))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
