//! OAuth access and refresh tokens.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::grants::revoke_grant;
use crate::domain::scope::Scopes;
use crate::run;
use crate::store::oauth_apps::{decode_scopes, encode_scopes};
use crate::store::single_use::{self, OAUTH_REFRESH, Presented};
use crate::store::{Backend, Conn, TextList, Tx, bad_value, for_update};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    fn as_str(self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
        }
    }
}

#[derive(Debug, Clone)]
pub struct OAuthToken {
    pub id: Uuid,
    pub kind: TokenKind,
    pub app_id: Uuid,
    /// The user an `authorization_code` grant acts for; none for `client_credentials`.
    pub user_id: Option<Uuid>,
    pub grant_id: Uuid,
    pub scopes: Scopes,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// A live token with what its app says about it now.
#[derive(Debug, Clone)]
pub struct LiveToken {
    pub token: OAuthToken,
    pub organization_id: Uuid,
    pub client_id: String,
    /// The token's scopes narrowed to the app's current ones.
    pub scopes: Scopes,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    kind: String,
    app_id: Uuid,
    user_id: Option<Uuid>,
    grant_id: Uuid,
    scopes: TextList,
    expires_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
}

impl TryFrom<Row> for OAuthToken {
    type Error = sqlx::Error;

    fn try_from(row: Row) -> Result<Self, sqlx::Error> {
        Ok(OAuthToken {
            id: row.id,
            kind: match row.kind.as_str() {
                "access" => TokenKind::Access,
                "refresh" => TokenKind::Refresh,
                other => return Err(bad_value("kind", other)),
            },
            app_id: row.app_id,
            user_id: row.user_id,
            grant_id: row.grant_id,
            scopes: decode_scopes(row.scopes)?,
            expires_at: row.expires_at,
            created_at: row.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct LiveRow {
    #[sqlx(flatten)]
    token: Row,
    organization_id: Uuid,
    client_id: String,
    app_scopes: TextList,
}

const COLUMNS: &str =
    "t.id, t.kind, t.app_id, t.user_id, t.grant_id, t.scopes, t.expires_at, t.created_at";

pub async fn insert_token(
    tx: &mut Tx,
    token: &OAuthToken,
    token_hash: &str,
) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query(
            "INSERT INTO oauth_tokens (id, kind, token_hash, app_id, user_id, grant_id, scopes, \
             expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(token.id)
        .bind(token.kind.as_str())
        .bind(token_hash)
        .bind(token.app_id)
        .bind(token.user_id)
        .bind(token.grant_id)
        .bind(encode_scopes(&token.scopes))
        .bind(token.expires_at)
        .bind(token.created_at)
    )?;
    Ok(())
}

/// A token that works right now: neither expired, revoked nor spent, of an active app.
pub async fn find_live(
    conn: &mut dyn Conn,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<LiveToken>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS}, a.organization_id, a.client_id, a.scopes AS app_scopes \
         FROM oauth_tokens t JOIN oauth_apps a ON a.id = t.app_id \
         JOIN oauth_grants g ON g.id = t.grant_id \
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.used_at IS NULL \
         AND t.expires_at > $2 AND a.status = 'active' AND g.revoked_at IS NULL"
    );
    let row: Option<LiveRow> =
        run!(conn, fetch_optional, sqlx::query_as(&sql).bind(token_hash).bind(now))?;
    let Some(row) = row else { return Ok(None) };
    let token = OAuthToken::try_from(row.token)?;
    let app_scopes = decode_scopes(row.app_scopes)?;
    Ok(Some(LiveToken {
        scopes: token.scopes.intersect(&app_scopes),
        organization_id: row.organization_id,
        client_id: row.client_id,
        token,
    }))
}

/// Any token of the app with this digest, whatever its state.
pub async fn find_of_app(
    conn: &mut dyn Conn,
    token_hash: &str,
    app_id: Uuid,
) -> Result<Option<OAuthToken>, sqlx::Error> {
    let sql =
        format!("SELECT {COLUMNS} FROM oauth_tokens t WHERE t.token_hash = $1 AND t.app_id = $2");
    let row: Option<Row> =
        run!(conn, fetch_optional, sqlx::query_as(&sql).bind(token_hash).bind(app_id))?;
    row.map(OAuthToken::try_from).transpose()
}

/// The user a refresh token of the app acts for (`Some(None)` for none), read without a lock,
/// so that their membership can be locked first (see the lock order in the module above).
pub async fn refresh_user(
    conn: &mut dyn Conn,
    token_hash: &str,
    app_id: Uuid,
) -> Result<Option<Option<Uuid>>, sqlx::Error> {
    run!(
        conn,
        fetch_optional,
        sqlx::query_scalar(
            "SELECT user_id FROM oauth_tokens WHERE token_hash = $1 AND app_id = $2 \
             AND kind = 'refresh'",
        )
        .bind(token_hash)
        .bind(app_id)
    )
}

pub enum RefreshOutcome {
    /// The refresh token was live and is now spent; issue the next pair in its grant.
    Rotated(OAuthToken),
    /// It had been spent already: someone replayed it. Its grant is now revoked.
    Replayed,
    /// Unknown, expired, revoked, or another client's.
    Invalid,
}

/// Spends the app's refresh token; of two concurrent uses exactly one rotates.
pub async fn rotate_refresh(
    tx: &mut Tx,
    token_hash: &str,
    app_id: Uuid,
    now: DateTime<Utc>,
) -> Result<RefreshOutcome, sqlx::Error> {
    let presented = single_use::present(tx, &OAUTH_REFRESH, token_hash, Some(app_id), now).await?;
    if presented == Presented::Dead {
        return Ok(RefreshOutcome::Invalid);
    }
    let Some(token) = find_of_app(tx, token_hash, app_id).await? else {
        return Ok(RefreshOutcome::Invalid);
    };
    if presented == Presented::Replayed {
        revoke_grant(tx, token.grant_id, now).await?;
        return Ok(RefreshOutcome::Replayed);
    }
    // Holding the grant's row until commit: a revocation of the grant either comes first (and
    // this rotation fails) or waits and then also ends the pair issued here.
    let sql = format!(
        "SELECT id FROM oauth_grants WHERE id = $1 AND revoked_at IS NULL{}",
        for_update(tx)
    );
    let live: Option<(Uuid,)> =
        run!(tx, fetch_optional, sqlx::query_as(&sql).bind(token.grant_id))?;
    Ok(if live.is_some() { RefreshOutcome::Rotated(token) } else { RefreshOutcome::Invalid })
}

/// Takes `removed` out of the scopes of every unexpired token the app holds, so that giving
/// the app a scope back later does not hand it to tokens issued before. (A pending code is
/// narrowed to the app's scopes when it is exchanged. Expired tokens are left to pruning.)
pub async fn remove_scopes(
    tx: &mut Tx,
    app_id: Uuid,
    removed: &Scopes,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    // The one edit of a stored list: PostgreSQL edits its array, SQLite its JSON array.
    let sql = match tx.backend() {
        Backend::Postgres => {
            "UPDATE oauth_tokens SET scopes = array_remove(scopes, $2) \
             WHERE app_id = $1 AND $2 = ANY (scopes) AND expires_at > $3"
        }
        Backend::Sqlite => {
            "UPDATE oauth_tokens SET scopes = (SELECT json_group_array(value) \
             FROM json_each(oauth_tokens.scopes) WHERE value <> $2) \
             WHERE app_id = $1 AND expires_at > $3 \
             AND EXISTS (SELECT 1 FROM json_each(oauth_tokens.scopes) WHERE value = $2)"
        }
    };
    for scope in removed.iter() {
        run!(tx, execute, sqlx::query(sql).bind(app_id).bind(scope.as_str()).bind(now))?;
    }
    Ok(())
}

pub async fn revoke_token(tx: &mut Tx, id: Uuid, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query("UPDATE oauth_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(now)
    )?;
    Ok(())
}
