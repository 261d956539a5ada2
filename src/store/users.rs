//! People with an account. Emails are unique regardless of case; the address is kept as given.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Conn, StoreError, Tx};
use crate::run;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    /// When `email` was last proved the person's; see `account_tokens`.
    pub email_verified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct Credentials {
    #[sqlx(flatten)]
    user: User,
    password_hash: String,
}

const COLUMNS: &str = "id, email, name, email_verified_at, created_at, updated_at";

/// The form in which emails are compared.
pub fn normalize_email(email: &str) -> String {
    email.to_lowercase()
}

pub async fn insert(tx: &mut Tx, user: &User, password_hash: &str) -> Result<(), StoreError> {
    let email_lower = normalize_email(&user.email);
    run!(
        tx,
        execute,
        sqlx::query(
            "INSERT INTO users (id, email, email_lower, name, password_hash, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(user.id)
        .bind(&user.email)
        .bind(&email_lower)
        .bind(&user.name)
        .bind(password_hash)
        .bind(user.created_at)
        .bind(user.updated_at)
    )
    .map_err(StoreError::from_unique)?;
    Ok(())
}

pub async fn find(conn: &mut dyn Conn, id: Uuid) -> Result<Option<User>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    run!(conn, fetch_optional, sqlx::query_as(&sql).bind(id))
}

pub async fn find_by_email(conn: &mut dyn Conn, email: &str) -> Result<Option<User>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE email_lower = $1");
    let email = normalize_email(email);
    run!(conn, fetch_optional, sqlx::query_as(&sql).bind(&email))
}

/// The user and their password hash, for signing in.
pub async fn find_credentials(
    conn: &mut dyn Conn,
    email: &str,
) -> Result<Option<(User, String)>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS}, password_hash FROM users WHERE email_lower = $1");
    let email = normalize_email(email);
    let found: Option<Credentials> = run!(conn, fetch_optional, sqlx::query_as(&sql).bind(&email))?;
    Ok(found.map(|f| (f.user, f.password_hash)))
}

/// Marks `email` verified, if it is still the account's address.
pub async fn mark_verified(
    tx: &mut Tx,
    id: Uuid,
    email: &str,
    now: DateTime<Utc>,
) -> Result<Option<User>, sqlx::Error> {
    let sql = format!(
        "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $3), \
         updated_at = CASE WHEN email_verified_at IS NULL THEN $3 ELSE updated_at END \
         WHERE id = $1 AND email_lower = $2 RETURNING {COLUMNS}"
    );
    let email = normalize_email(email);
    run!(tx, fetch_optional, sqlx::query_as(&sql).bind(id).bind(&email).bind(now))
}

/// Changes the user's name; the user as it now is, or `None` if there is no such user.
pub async fn rename(
    tx: &mut Tx,
    id: Uuid,
    name: &str,
    now: DateTime<Utc>,
) -> Result<Option<User>, sqlx::Error> {
    let sql =
        format!("UPDATE users SET name = $2, updated_at = $3 WHERE id = $1 RETURNING {COLUMNS}");
    run!(tx, fetch_optional, sqlx::query_as(&sql).bind(id).bind(name).bind(now))
}

/// Sets a new password hash.
pub async fn set_password_hash(
    tx: &mut Tx,
    id: Uuid,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(password_hash)
            .bind(now)
    )?;
    Ok(())
}

/// Turns the account into a tombstone: the row stays, for what refers to it, with `email` (an
/// address no one has), a placeholder name and a hash no password matches. False when it was
/// a tombstone already.
pub async fn erase(
    tx: &mut Tx,
    id: Uuid,
    email: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = run!(
        tx,
        execute,
        sqlx::query(
            "UPDATE users SET email = $2, email_lower = $3, name = 'Deleted user', \
             password_hash = $4, email_verified_at = NULL, updated_at = $5, deleted_at = $5 \
             WHERE id = $1 AND deleted_at IS NULL",
        )
        .bind(id)
        .bind(email)
        .bind(normalize_email(email))
        .bind(password_hash)
        .bind(now)
    )?;
    Ok(done == 1)
}

/// Moves the account to `email`, verified (its link was opened); `None` for a deleted account,
/// `Conflict` if another account has the address.
pub async fn change_email(
    tx: &mut Tx,
    id: Uuid,
    email: &str,
    now: DateTime<Utc>,
) -> Result<Option<User>, StoreError> {
    let sql = format!(
        "UPDATE users SET email = $2, email_lower = $3, email_verified_at = $4, updated_at = $4 \
         WHERE id = $1 AND deleted_at IS NULL RETURNING {COLUMNS}"
    );
    let lower = normalize_email(email);
    run!(tx, fetch_optional, sqlx::query_as(&sql).bind(id).bind(email).bind(&lower).bind(now))
        .map_err(StoreError::from_unique)
}
