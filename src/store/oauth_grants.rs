//! What the OAuth authorization server hands out: authorization codes, grants, and access
//! and refresh tokens. Only SHA-256 digests are stored. Every token belongs to a grant (one
//! redeemed code, or one `client_credentials` issuance); revoking the grant ends all of its
//! tokens at once, including a pair a concurrent refresh is issuing, because rotation locks
//! the grant's row.
//!
//! Lock order, to stay free of deadlocks: the app's row (shared), the user's membership, a
//! code's or refresh token's row, then its grant.

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::{get_opt_time, get_time, get_uuid, to_millis};
use crate::domain::scope::Scopes;

/// A code as the authorize step issued it.
#[derive(Debug, Clone)]
pub struct AuthorizationCode {
    pub id: Uuid,
    pub app_id: Uuid,
    pub user_id: Uuid,
    pub scopes: Scopes,
    pub redirect_uri: String,
    /// BASE64URL(SHA256(code_verifier)), RFC 7636 S256.
    pub code_challenge: String,
    pub grant_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

pub enum CodeOutcome {
    /// The code was live and is now spent.
    Redeemed(AuthorizationCode),
    /// The code had been spent already: the tokens it gave are now revoked.
    Replayed,
    /// Unknown, expired, or another client's.
    Invalid,
}

fn scopes_of(row: &AnyRow) -> Result<Scopes, sqlx::Error> {
    use sqlx::Row;
    let text: String = row.try_get("scopes")?;
    Scopes::parse_space_separated(&text).map_err(|s| sqlx::Error::ColumnDecode {
        index: "scopes".into(),
        source: format!("unknown scope {s}").into(),
    })
}

pub async fn insert_code(
    conn: &mut AnyConnection,
    code: &AuthorizationCode,
    code_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO oauth_codes (id, code_hash, app_id, user_id, scopes, redirect_uri, \
         code_challenge, grant_id, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(code.id.to_string())
    .bind(code_hash)
    .bind(code.app_id.to_string())
    .bind(code.user_id.to_string())
    .bind(code.scopes.to_space_separated())
    .bind(&code.redirect_uri)
    .bind(&code.code_challenge)
    .bind(code.grant_id.to_string())
    .bind(to_millis(code.expires_at))
    .bind(to_millis(code.created_at))
    .execute(conn)
    .await?;
    Ok(())
}

/// The user a code of the app was issued to, read without a lock, so that their membership
/// can be locked first (see the lock order above).
pub async fn code_user(
    conn: &mut AnyConnection,
    code_hash: &str,
    app_id: Uuid,
) -> Result<Option<Uuid>, sqlx::Error> {
    let user: Option<String> =
        sqlx::query_scalar("SELECT user_id FROM oauth_codes WHERE code_hash = $1 AND app_id = $2")
            .bind(code_hash)
            .bind(app_id.to_string())
            .fetch_optional(conn)
            .await?;
    user.map(|u| Uuid::parse_str(&u).map_err(|e| sqlx::Error::Decode(Box::new(e)))).transpose()
}

/// The user a refresh token of the app acts for (`Some(None)` for none), read without a lock
/// like [`code_user`].
pub async fn refresh_user(
    conn: &mut AnyConnection,
    token_hash: &str,
    app_id: Uuid,
) -> Result<Option<Option<Uuid>>, sqlx::Error> {
    let row: Option<Option<String>> = sqlx::query_scalar(
        "SELECT user_id FROM oauth_tokens WHERE token_hash = $1 AND app_id = $2 AND kind = 'refresh'",
    )
    .bind(token_hash)
    .bind(app_id.to_string())
    .fetch_optional(conn)
    .await?;
    row.map(|user| {
        user.map(|u| Uuid::parse_str(&u).map_err(|e| sqlx::Error::Decode(Box::new(e)))).transpose()
    })
    .transpose()
}

/// Spends the client's code. The conditional update lets exactly one of two concurrent
/// exchanges win; a code of another client is left untouched.
pub async fn redeem_code(
    conn: &mut AnyConnection,
    code_hash: &str,
    app_id: Uuid,
    now: DateTime<Utc>,
) -> Result<CodeOutcome, sqlx::Error> {
    let spent = sqlx::query(
        "UPDATE oauth_codes SET used_at = $3 WHERE code_hash = $1 AND app_id = $2 \
         AND used_at IS NULL AND expires_at > $3",
    )
    .bind(code_hash)
    .bind(app_id.to_string())
    .bind(to_millis(now))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if spent == 0 {
        // Losers queue on the code's row, so that their revocations of the grant run one
        // after another instead of deadlocking on its tokens.
        sqlx::query(
            "UPDATE oauth_codes SET used_at = used_at WHERE code_hash = $1 AND app_id = $2",
        )
        .bind(code_hash)
        .bind(app_id.to_string())
        .execute(&mut *conn)
        .await?;
    }
    let Some(row) = sqlx::query(
        "SELECT id, app_id, user_id, scopes, redirect_uri, code_challenge, grant_id, expires_at, \
         used_at, created_at FROM oauth_codes WHERE code_hash = $1 AND app_id = $2",
    )
    .bind(code_hash)
    .bind(app_id.to_string())
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(CodeOutcome::Invalid);
    };
    let code = AuthorizationCode {
        id: get_uuid(&row, "id")?,
        app_id: get_uuid(&row, "app_id")?,
        user_id: get_uuid(&row, "user_id")?,
        scopes: scopes_of(&row)?,
        redirect_uri: sqlx::Row::try_get(&row, "redirect_uri")?,
        code_challenge: sqlx::Row::try_get(&row, "code_challenge")?,
        grant_id: get_uuid(&row, "grant_id")?,
        expires_at: get_time(&row, "expires_at")?,
        created_at: get_time(&row, "created_at")?,
    };
    if spent == 1 {
        return Ok(CodeOutcome::Redeemed(code));
    }
    if get_opt_time(&row, "used_at")?.is_some() {
        revoke_grant(conn, code.grant_id, now).await?;
        return Ok(CodeOutcome::Replayed);
    }
    Ok(CodeOutcome::Invalid)
}

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

const TOKEN_COLUMNS: &str = "t.id, t.kind, t.app_id, t.user_id, t.grant_id, t.scopes, \
                             t.expires_at, t.created_at";

fn token_from_row(row: &AnyRow) -> Result<OAuthToken, sqlx::Error> {
    use sqlx::Row;
    let kind: String = row.try_get("kind")?;
    let user: Option<String> = row.try_get("user_id")?;
    let decode = |index: &str, message: String| sqlx::Error::ColumnDecode {
        index: index.to_owned(),
        source: message.into(),
    };
    Ok(OAuthToken {
        id: get_uuid(row, "id")?,
        kind: match kind.as_str() {
            "access" => TokenKind::Access,
            "refresh" => TokenKind::Refresh,
            other => return Err(decode("kind", format!("unknown token kind {other}"))),
        },
        app_id: get_uuid(row, "app_id")?,
        // Never read a damaged user as "no user": that would mean acting as the app.
        user_id: user
            .map(|u| Uuid::parse_str(&u).map_err(|e| decode("user_id", e.to_string())))
            .transpose()?,
        grant_id: get_uuid(row, "grant_id")?,
        scopes: scopes_of(row)?,
        expires_at: get_time(row, "expires_at")?,
        created_at: get_time(row, "created_at")?,
    })
}

/// Starts a grant: the tokens issued under it live and die together.
pub async fn insert_grant(
    conn: &mut AnyConnection,
    id: Uuid,
    app_id: Uuid,
    user_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO oauth_grants (id, app_id, user_id, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id.to_string())
    .bind(app_id.to_string())
    .bind(user_id.map(|u| u.to_string()))
    .bind(to_millis(now))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_token(
    conn: &mut AnyConnection,
    token: &OAuthToken,
    token_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO oauth_tokens (id, kind, token_hash, app_id, user_id, grant_id, scopes, \
         expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(token.id.to_string())
    .bind(token.kind.as_str())
    .bind(token_hash)
    .bind(token.app_id.to_string())
    .bind(token.user_id.map(|u| u.to_string()))
    .bind(token.grant_id.to_string())
    .bind(token.scopes.to_space_separated())
    .bind(to_millis(token.expires_at))
    .bind(to_millis(token.created_at))
    .execute(conn)
    .await?;
    Ok(())
}

/// A token that works right now: neither expired, revoked nor spent, of an active app.
pub async fn find_live(
    conn: &mut AnyConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<LiveToken>, sqlx::Error> {
    let Some(row) = sqlx::query(&format!(
        "SELECT {TOKEN_COLUMNS}, a.organization_id, a.client_id, a.scopes AS app_scopes \
         FROM oauth_tokens t JOIN oauth_apps a ON a.id = t.app_id \
         JOIN oauth_grants g ON g.id = t.grant_id \
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.used_at IS NULL \
         AND t.expires_at > $2 AND a.status = 'active' AND g.revoked_at IS NULL"
    ))
    .bind(token_hash)
    .bind(to_millis(now))
    .fetch_optional(conn)
    .await?
    else {
        return Ok(None);
    };
    use sqlx::Row;
    let token = token_from_row(&row)?;
    let app_scopes: String = row.try_get("app_scopes")?;
    let app_scopes = Scopes::parse_space_separated(&app_scopes).unwrap_or_default();
    Ok(Some(LiveToken {
        scopes: token.scopes.intersect(&app_scopes),
        organization_id: get_uuid(&row, "organization_id")?,
        client_id: row.try_get("client_id")?,
        token,
    }))
}

/// Any token of the app with this digest, whatever its state.
pub async fn find_of_app(
    conn: &mut AnyConnection,
    token_hash: &str,
    app_id: Uuid,
) -> Result<Option<OAuthToken>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {TOKEN_COLUMNS} FROM oauth_tokens t WHERE t.token_hash = $1 AND t.app_id = $2"
    ))
    .bind(token_hash)
    .bind(app_id.to_string())
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(token_from_row)
    .transpose()
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
    conn: &mut AnyConnection,
    token_hash: &str,
    app_id: Uuid,
    now: DateTime<Utc>,
) -> Result<RefreshOutcome, sqlx::Error> {
    let spent = sqlx::query(
        "UPDATE oauth_tokens SET used_at = $3 WHERE token_hash = $1 AND app_id = $2 \
         AND kind = 'refresh' AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $3",
    )
    .bind(token_hash)
    .bind(app_id.to_string())
    .bind(to_millis(now))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if spent == 0 {
        // As in `redeem_code`: concurrent replays take turns on the presented token's row.
        sqlx::query(
            "UPDATE oauth_tokens SET used_at = used_at WHERE token_hash = $1 AND app_id = $2",
        )
        .bind(token_hash)
        .bind(app_id.to_string())
        .execute(&mut *conn)
        .await?;
    }
    let Some(row) = sqlx::query(&format!(
        "SELECT {TOKEN_COLUMNS}, t.used_at, t.revoked_at FROM oauth_tokens t \
         WHERE t.token_hash = $1 AND t.app_id = $2 AND t.kind = 'refresh'"
    ))
    .bind(token_hash)
    .bind(app_id.to_string())
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(RefreshOutcome::Invalid);
    };
    let token = token_from_row(&row)?;
    if spent == 1 {
        // Holding the grant's row until commit: a revocation of the grant either comes first
        // (and this rotation fails) or waits and then also ends the pair issued here.
        let live = sqlx::query(
            "UPDATE oauth_grants SET revoked_at = revoked_at WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(token.grant_id.to_string())
        .execute(&mut *conn)
        .await?
        .rows_affected();
        return Ok(if live == 1 {
            RefreshOutcome::Rotated(token)
        } else {
            RefreshOutcome::Invalid
        });
    }
    let replayed =
        get_opt_time(&row, "used_at")?.is_some() && get_opt_time(&row, "revoked_at")?.is_none();
    if replayed {
        revoke_grant(conn, token.grant_id, now).await?;
        return Ok(RefreshOutcome::Replayed);
    }
    Ok(RefreshOutcome::Invalid)
}

/// Revokes every token of one grant.
pub async fn revoke_grant(
    conn: &mut AnyConnection,
    grant_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE oauth_grants SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
        .bind(grant_id.to_string())
        .bind(to_millis(now))
        .execute(conn)
        .await?;
    Ok(())
}

/// Revokes the user's grants to the organization's apps, and their codes not yet exchanged:
/// leaving an organization ends them.
pub async fn revoke_user_grants(
    conn: &mut AnyConnection,
    org_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE oauth_grants SET revoked_at = $3 WHERE user_id = $2 AND revoked_at IS NULL \
         AND app_id IN (SELECT id FROM oauth_apps WHERE organization_id = $1)",
    )
    .bind(org_id.to_string())
    .bind(user_id.to_string())
    .bind(to_millis(now))
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE oauth_codes SET expires_at = $3 WHERE user_id = $2 AND used_at IS NULL \
         AND expires_at > $3 AND app_id IN (SELECT id FROM oauth_apps WHERE organization_id = $1)",
    )
    .bind(org_id.to_string())
    .bind(user_id.to_string())
    .bind(to_millis(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes `removed` out of the scopes of every unexpired token the app holds, so that giving
/// the app a scope back later does not hand it to tokens issued before. (A pending code is
/// narrowed to the app's scopes when it is exchanged. Expired tokens are left to pruning.)
pub async fn remove_scopes(
    conn: &mut AnyConnection,
    app_id: Uuid,
    removed: &Scopes,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    for scope in removed.iter() {
        // Stored scopes are space-separated; pad them so every name is matched whole.
        let padded = format!(" {scope} ");
        sqlx::query(
            "UPDATE oauth_tokens SET scopes = TRIM(REPLACE(' ' || scopes || ' ', $2, ' ')) \
             WHERE app_id = $1 AND ' ' || scopes || ' ' LIKE $3 AND expires_at > $4",
        )
        .bind(app_id.to_string())
        .bind(&padded)
        .bind(format!("% {scope} %"))
        .bind(to_millis(now))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub async fn revoke_token(
    conn: &mut AnyConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE oauth_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
        .bind(id.to_string())
        .bind(to_millis(now))
        .execute(conn)
        .await?;
    Ok(())
}
