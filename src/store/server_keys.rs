//! Server keys of the application's backend, stored by SHA-256 digest only.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Conn, TextList, Tx, bad_value};
use crate::domain::key_scope::KeyScope;
use crate::run;

#[derive(Debug, Clone)]
pub struct ServerKey {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<KeyScope>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ServerKey {
    pub fn may(&self, scope: KeyScope) -> bool {
        self.scopes.contains(&scope)
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    name: String,
    scopes: TextList,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<Row> for ServerKey {
    type Error = sqlx::Error;

    fn try_from(row: Row) -> Result<Self, sqlx::Error> {
        let scopes = row
            .scopes
            .0
            .iter()
            .map(|s| KeyScope::parse(s).ok_or_else(|| bad_value("scopes", s)))
            .collect::<Result<_, _>>()?;
        Ok(ServerKey {
            id: row.id,
            name: row.name,
            scopes,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
        })
    }
}

const COLUMNS: &str = "id, name, scopes, created_at, last_used_at, revoked_at";

pub async fn insert(tx: &mut Tx, key: &ServerKey, token_hash: &str) -> Result<(), sqlx::Error> {
    let scopes = TextList(key.scopes.iter().map(|s| s.as_str().to_owned()).collect());
    run!(
        tx,
        execute,
        sqlx::query(
            "INSERT INTO server_keys (id, name, token_hash, scopes, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(key.id)
        .bind(&key.name)
        .bind(token_hash)
        .bind(scopes)
        .bind(key.created_at)
    )?;
    Ok(())
}

/// The unrevoked key with this digest.
pub async fn find_live(
    conn: &mut dyn Conn,
    token_hash: &str,
) -> Result<Option<ServerKey>, sqlx::Error> {
    let sql =
        format!("SELECT {COLUMNS} FROM server_keys WHERE token_hash = $1 AND revoked_at IS NULL");
    let row: Option<Row> = run!(conn, fetch_optional, sqlx::query_as(&sql).bind(token_hash))?;
    row.map(ServerKey::try_from).transpose()
}

/// Every key, revoked ones too, oldest first.
pub async fn list(conn: &mut dyn Conn) -> Result<Vec<ServerKey>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM server_keys ORDER BY created_at, id");
    let rows: Vec<Row> = run!(conn, fetch_all, sqlx::query_as(&sql))?;
    rows.into_iter().map(ServerKey::try_from).collect()
}

/// Revokes the key; false if there is no such key or it was revoked already.
pub async fn revoke(tx: &mut Tx, id: Uuid, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    let done = run!(
        tx,
        execute,
        sqlx::query("UPDATE server_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(now)
    )?;
    Ok(done > 0)
}

pub async fn touch(tx: &mut Tx, id: Uuid, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    super::last_used::touch(tx, "server_keys", id, now).await
}
