//! Single-use links sent by email: verifying an address, resetting a password, confirming a
//! new address. Only a token's SHA-256 is kept. Spending one is a conditional update, so of
//! two concurrent uses exactly one succeeds.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Conn, Tx};
use crate::run;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    PasswordReset,
    ChangeEmail,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::PasswordReset => "password_reset",
            Purpose::ChangeEmail => "change_email",
        }
    }
}

/// A token's holder and the address its link was sent to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Spent {
    pub user_id: Uuid,
    pub email: String,
}

pub async fn insert(
    tx: &mut Tx,
    purpose: Purpose,
    token_hash: &str,
    user_id: Uuid,
    email: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query(
            "INSERT INTO account_tokens (token_hash, purpose, user_id, email, expires_at, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_hash)
        .bind(purpose.as_str())
        .bind(user_id)
        .bind(email)
        .bind(expires_at)
        .bind(now)
    )?;
    Ok(())
}

/// Whether a live token of `purpose` has this digest, without spending it.
pub async fn is_live(
    conn: &mut dyn Conn,
    purpose: Purpose,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let found: Option<(i32,)> = run!(
        conn,
        fetch_optional,
        sqlx::query_as(
            "SELECT 1 FROM account_tokens WHERE token_hash = $1 AND purpose = $2 \
             AND used_at IS NULL AND expires_at > $3",
        )
        .bind(token_hash)
        .bind(purpose.as_str())
        .bind(now)
    )?;
    Ok(found.is_some())
}

/// Spends a live token of `purpose`; `None` if it is unknown, spent or expired.
pub async fn spend(
    tx: &mut Tx,
    purpose: Purpose,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Spent>, sqlx::Error> {
    run!(
        tx,
        fetch_optional,
        sqlx::query_as(
            "UPDATE account_tokens SET used_at = $3 WHERE token_hash = $1 AND purpose = $2 \
             AND used_at IS NULL AND expires_at > $3 RETURNING user_id, email",
        )
        .bind(token_hash)
        .bind(purpose.as_str())
        .bind(now)
    )
}

/// Spends every live token of `purpose` the user holds: the others die with the one used.
pub async fn spend_all(
    tx: &mut Tx,
    purpose: Purpose,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query(
            "UPDATE account_tokens SET used_at = $3 WHERE user_id = $1 AND purpose = $2 \
             AND used_at IS NULL",
        )
        .bind(user_id)
        .bind(purpose.as_str())
        .bind(now)
    )?;
    Ok(())
}

/// Forgets every link the user was sent: a deleted account keeps none.
pub async fn forget_all(tx: &mut Tx, user_id: Uuid) -> Result<(), sqlx::Error> {
    run!(tx, execute, sqlx::query("DELETE FROM account_tokens WHERE user_id = $1").bind(user_id))?;
    Ok(())
}
