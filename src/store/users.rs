use chrono::{DateTime, Utc};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::{StoreError, get_time, get_uuid, to_millis};

#[derive(Debug, Clone)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, email, name, created_at, updated_at";

fn from_row(row: &AnyRow) -> Result<User, sqlx::Error> {
    use sqlx::Row;
    Ok(User {
        id: get_uuid(row, "id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        created_at: get_time(row, "created_at")?,
        updated_at: get_time(row, "updated_at")?,
    })
}

/// Emails are unique regardless of case; the address is kept as given.
pub fn normalize_email(email: &str) -> String {
    email.to_lowercase()
}

pub async fn insert(
    conn: &mut AnyConnection,
    user: &User,
    password_hash: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO users (id, email, email_lower, name, password_hash, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(user.id.to_string())
    .bind(&user.email)
    .bind(normalize_email(&user.email))
    .bind(&user.name)
    .bind(password_hash)
    .bind(to_millis(user.created_at))
    .bind(to_millis(user.updated_at))
    .execute(conn)
    .await
    .map_err(StoreError::from_unique)?;
    Ok(())
}

pub async fn find(conn: &mut AnyConnection, id: Uuid) -> Result<Option<User>, sqlx::Error> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn find_by_email(
    conn: &mut AnyConnection,
    email: &str,
) -> Result<Option<User>, sqlx::Error> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE email_lower = $1"))
        .bind(normalize_email(email))
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// The user and their password hash, for signing in.
pub async fn find_credentials(
    conn: &mut AnyConnection,
    email: &str,
) -> Result<Option<(User, String)>, sqlx::Error> {
    use sqlx::Row;
    let row =
        sqlx::query(&format!("SELECT {COLUMNS}, password_hash FROM users WHERE email_lower = $1"))
            .bind(normalize_email(email))
            .fetch_optional(conn)
            .await?;
    row.map(|row| Ok((from_row(&row)?, row.try_get("password_hash")?))).transpose()
}
