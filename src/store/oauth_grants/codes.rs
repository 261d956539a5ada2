//! Authorization codes: single use, short-lived, bound to a PKCE challenge and redirect URI.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::grants::revoke_grant;
use crate::domain::scope::Scopes;
use crate::run;
use crate::store::oauth_apps::{decode_scopes, encode_scopes};
use crate::store::single_use::{self, OAUTH_CODE, Presented};
use crate::store::{Conn, TextList, Tx};

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

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    app_id: Uuid,
    user_id: Uuid,
    scopes: TextList,
    redirect_uri: String,
    code_challenge: String,
    grant_id: Uuid,
    expires_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
}

impl TryFrom<Row> for AuthorizationCode {
    type Error = sqlx::Error;

    fn try_from(row: Row) -> Result<Self, sqlx::Error> {
        Ok(AuthorizationCode {
            id: row.id,
            app_id: row.app_id,
            user_id: row.user_id,
            scopes: decode_scopes(row.scopes)?,
            redirect_uri: row.redirect_uri,
            code_challenge: row.code_challenge,
            grant_id: row.grant_id,
            expires_at: row.expires_at,
            created_at: row.created_at,
        })
    }
}

pub enum CodeOutcome {
    /// The code was live and is now spent.
    Redeemed(AuthorizationCode),
    /// The code had been spent already: the tokens it gave are now revoked.
    Replayed,
    /// Unknown, expired, or another client's.
    Invalid,
}

pub async fn insert_code(
    tx: &mut Tx,
    code: &AuthorizationCode,
    code_hash: &str,
) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query(
            "INSERT INTO oauth_codes (id, code_hash, app_id, user_id, scopes, redirect_uri, \
             code_challenge, grant_id, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(code.id)
        .bind(code_hash)
        .bind(code.app_id)
        .bind(code.user_id)
        .bind(encode_scopes(&code.scopes))
        .bind(&code.redirect_uri)
        .bind(&code.code_challenge)
        .bind(code.grant_id)
        .bind(code.expires_at)
        .bind(code.created_at)
    )?;
    Ok(())
}

/// The user a code of the app was issued to, read without a lock, so that their membership
/// can be locked first (see the lock order in the module above).
pub async fn code_user(
    conn: &mut dyn Conn,
    code_hash: &str,
    app_id: Uuid,
) -> Result<Option<Uuid>, sqlx::Error> {
    run!(
        conn,
        fetch_optional,
        sqlx::query_scalar("SELECT user_id FROM oauth_codes WHERE code_hash = $1 AND app_id = $2")
            .bind(code_hash)
            .bind(app_id)
    )
}

/// Spends the client's code; of two concurrent exchanges exactly one wins, and a code of
/// another client is left untouched.
pub async fn redeem_code(
    tx: &mut Tx,
    code_hash: &str,
    app_id: Uuid,
    now: DateTime<Utc>,
) -> Result<CodeOutcome, sqlx::Error> {
    let presented = single_use::present(tx, &OAUTH_CODE, code_hash, Some(app_id), now).await?;
    if presented == Presented::Dead {
        return Ok(CodeOutcome::Invalid);
    }
    let row: Option<Row> = run!(
        tx,
        fetch_optional,
        sqlx::query_as(
            "SELECT id, app_id, user_id, scopes, redirect_uri, code_challenge, grant_id, \
             expires_at, created_at FROM oauth_codes WHERE code_hash = $1 AND app_id = $2",
        )
        .bind(code_hash)
        .bind(app_id)
    )?;
    let Some(code) = row.map(AuthorizationCode::try_from).transpose()? else {
        return Ok(CodeOutcome::Invalid);
    };
    if presented == Presented::Spent {
        return Ok(CodeOutcome::Redeemed(code));
    }
    revoke_grant(tx, code.grant_id, now).await?;
    Ok(CodeOutcome::Replayed)
}
