//! The application's event types. Roster's own are in the code
//! ([`crate::domain::event::EventType`]); these are what the application registered.

use chrono::{DateTime, Utc};

use super::{Backend, Conn, Tx};
use crate::run;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CustomType {
    pub name: String,
    pub description: String,
    /// The JSON Schema of the events' `data`, as registered.
    pub schema: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deprecated_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "name, description, schema, created_at, updated_at, deprecated_at";

/// Registers `name` as given (not deprecated), or replaces what it was; true if it is new.
pub async fn put(
    tx: &mut Tx,
    name: &str,
    description: &str,
    schema: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    // `created_at = updated_at` tells a fresh insert from an update in one round trip.
    let created: DateTime<Utc> = run!(
        tx,
        fetch_one,
        sqlx::query_scalar(
            "INSERT INTO event_types (name, description, schema, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) ON CONFLICT (name) DO UPDATE SET \
             description = excluded.description, schema = excluded.schema, \
             updated_at = excluded.updated_at, deprecated_at = NULL RETURNING created_at",
        )
        .bind(name)
        .bind(description)
        .bind(schema)
        .bind(now)
    )?;
    Ok(created == now)
}

pub async fn find(conn: &mut dyn Conn, name: &str) -> Result<Option<CustomType>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM event_types WHERE name = $1");
    run!(conn, fetch_optional, sqlx::query_as(&sql).bind(name))
}

/// Up to `limit` types named after `after`, by name.
pub async fn list(
    conn: &mut dyn Conn,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<CustomType>, sqlx::Error> {
    let name = by_name(conn);
    let sql = format!(
        "SELECT {COLUMNS} FROM event_types WHERE ($1 IS NULL OR {name} > $1) \
         ORDER BY {name} LIMIT $2"
    );
    run!(conn, fetch_all, sqlx::query_as(&sql).bind(after).bind(limit))
}

/// `name` compared byte by byte, as the API orders types and its cursors compare them;
/// PostgreSQL's default collation would skip `.` and `_` at first.
fn by_name(conn: &dyn Conn) -> &'static str {
    match conn.backend() {
        Backend::Postgres => "name COLLATE \"C\"",
        Backend::Sqlite => "name",
    }
}

/// Every registered type, by name.
pub async fn all(conn: &mut dyn Conn) -> Result<Vec<CustomType>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM event_types ORDER BY name");
    run!(conn, fetch_all, sqlx::query_as(&sql))
}

/// The names of every registered type, and which of them are deprecated.
pub async fn names(conn: &mut dyn Conn) -> Result<Vec<(String, bool)>, sqlx::Error> {
    run!(
        conn,
        fetch_all,
        sqlx::query_as("SELECT name, deprecated_at IS NOT NULL FROM event_types ORDER BY name")
    )
}

/// Marks the type deprecated (kept as it is if it was already); None if there is no such type.
pub async fn deprecate(
    tx: &mut Tx,
    name: &str,
    now: DateTime<Utc>,
) -> Result<Option<CustomType>, sqlx::Error> {
    let sql = format!(
        "UPDATE event_types SET deprecated_at = COALESCE(deprecated_at, $2), updated_at = \
         CASE WHEN deprecated_at IS NULL THEN $2 ELSE updated_at END \
         WHERE name = $1 RETURNING {COLUMNS}"
    );
    run!(tx, fetch_optional, sqlx::query_as(&sql).bind(name).bind(now))
}
