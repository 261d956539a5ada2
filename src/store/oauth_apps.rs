//! OAuth apps. Client secrets are stored as SHA-256 digests only; a rotated-out secret keeps
//! working until its overlap ends.

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::{Backend, get_opt_time, get_time, get_uuid, to_millis};
use crate::domain::scope::Scopes;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AppStatus {
    Active,
    Revoked,
}

impl AppStatus {
    fn as_str(self) -> &'static str {
        match self {
            AppStatus::Active => "active",
            AppStatus::Revoked => "revoked",
        }
    }
}

#[derive(Debug, Clone)]
pub struct OAuthApp {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub client_id: String,
    pub redirect_uris: Vec<String>,
    pub scopes: Scopes,
    pub status: AppStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl OAuthApp {
    pub fn is_active(&self) -> bool {
        self.status == AppStatus::Active
    }
}

/// The digests a presented client secret is checked against.
#[derive(Debug, Clone)]
pub struct SecretDigests {
    pub current: String,
    pub previous: Option<(String, DateTime<Utc>)>,
}

const COLUMNS: &str =
    "id, organization_id, name, client_id, redirect_uris, scopes, status, created_at, updated_at";

fn decode_error(column: &str, message: String) -> sqlx::Error {
    sqlx::Error::ColumnDecode { index: column.to_owned(), source: message.into() }
}

fn from_row(row: &AnyRow) -> Result<OAuthApp, sqlx::Error> {
    use sqlx::Row;
    let uris: String = row.try_get("redirect_uris")?;
    let scopes: String = row.try_get("scopes")?;
    let status: String = row.try_get("status")?;
    Ok(OAuthApp {
        id: get_uuid(row, "id")?,
        organization_id: get_uuid(row, "organization_id")?,
        name: row.try_get("name")?,
        client_id: row.try_get("client_id")?,
        redirect_uris: serde_json::from_str(&uris)
            .map_err(|e| decode_error("redirect_uris", e.to_string()))?,
        scopes: Scopes::parse_space_separated(&scopes)
            .map_err(|s| decode_error("scopes", format!("unknown scope {s}")))?,
        status: match status.as_str() {
            "active" => AppStatus::Active,
            "revoked" => AppStatus::Revoked,
            other => return Err(decode_error("status", format!("unknown app status {other}"))),
        },
        created_at: get_time(row, "created_at")?,
        updated_at: get_time(row, "updated_at")?,
    })
}

fn uris_json(app: &OAuthApp) -> String {
    serde_json::Value::from(app.redirect_uris.clone()).to_string()
}

pub async fn insert(
    conn: &mut AnyConnection,
    app: &OAuthApp,
    secret_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO oauth_apps (id, organization_id, name, client_id, secret_hash, redirect_uris, \
         scopes, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(app.id.to_string())
    .bind(app.organization_id.to_string())
    .bind(&app.name)
    .bind(&app.client_id)
    .bind(secret_hash)
    .bind(uris_json(app))
    .bind(app.scopes.to_space_separated())
    .bind(app.status.as_str())
    .bind(to_millis(app.created_at))
    .bind(to_millis(app.updated_at))
    .execute(conn)
    .await?;
    Ok(())
}

/// An app of the organization.
pub async fn find(
    conn: &mut AnyConnection,
    org_id: Uuid,
    id: Uuid,
) -> Result<Option<OAuthApp>, sqlx::Error> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM oauth_apps WHERE id = $1 AND organization_id = $2"))
        .bind(id.to_string())
        .bind(org_id.to_string())
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Like [`find`], holding the app's row for the rest of the transaction.
pub async fn find_locked(
    conn: &mut AnyConnection,
    org_id: Uuid,
    id: Uuid,
) -> Result<Option<OAuthApp>, sqlx::Error> {
    // A no-op write takes the row lock on PostgreSQL; SQLite's writer already holds it all.
    sqlx::query("UPDATE oauth_apps SET updated_at = updated_at WHERE id = $1")
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    find(conn, org_id, id).await
}

/// The app as it is now, holding a shared lock on its row on PostgreSQL (SQLite's single
/// writer serializes anyway): a concurrent change of its scopes or status waits for what this
/// transaction issues, or comes first and is what this transaction reads.
pub async fn hold(
    conn: &mut AnyConnection,
    backend: Backend,
    id: Uuid,
) -> Result<Option<OAuthApp>, sqlx::Error> {
    let lock = match backend {
        Backend::Postgres => " FOR SHARE",
        Backend::Sqlite => "",
    };
    sqlx::query(&format!("SELECT {COLUMNS} FROM oauth_apps WHERE id = $1{lock}"))
        .bind(id.to_string())
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// An app and its secret digests, by client ID.
pub async fn find_client(
    conn: &mut AnyConnection,
    client_id: &str,
) -> Result<Option<(OAuthApp, SecretDigests)>, sqlx::Error> {
    let Some(row) = sqlx::query(&format!(
        "SELECT {COLUMNS}, secret_hash, previous_secret_hash, previous_secret_expires_at \
         FROM oauth_apps WHERE client_id = $1"
    ))
    .bind(client_id)
    .fetch_optional(conn)
    .await?
    else {
        return Ok(None);
    };
    use sqlx::Row;
    let previous: Option<String> = row.try_get("previous_secret_hash")?;
    let previous_until = get_opt_time(&row, "previous_secret_expires_at")?;
    let digests = SecretDigests {
        current: row.try_get("secret_hash")?,
        previous: previous.zip(previous_until),
    };
    Ok(Some((from_row(&row)?, digests)))
}

/// The organization's apps, newest first.
pub async fn list(
    conn: &mut AnyConnection,
    org_id: Uuid,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<OAuthApp>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM oauth_apps WHERE organization_id = $1 AND ($2 = '' OR id < $2) \
         ORDER BY id DESC LIMIT $3"
    ))
    .bind(org_id.to_string())
    .bind(before.map(|b| b.to_string()).unwrap_or_default())
    .bind(limit)
    .fetch_all(conn)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// Writes the app's name, redirect URIs, scopes, status and `updated_at`.
pub async fn update(conn: &mut AnyConnection, app: &OAuthApp) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE oauth_apps SET name = $2, redirect_uris = $3, scopes = $4, status = $5, \
         updated_at = $6 WHERE id = $1",
    )
    .bind(app.id.to_string())
    .bind(&app.name)
    .bind(uris_json(app))
    .bind(app.scopes.to_space_separated())
    .bind(app.status.as_str())
    .bind(to_millis(app.updated_at))
    .execute(conn)
    .await?;
    Ok(())
}

/// Installs a new secret; the current one keeps working until `previous_until`.
pub async fn rotate_secret(
    conn: &mut AnyConnection,
    id: Uuid,
    new_hash: &str,
    previous_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE oauth_apps SET previous_secret_hash = secret_hash, \
         previous_secret_expires_at = $3, secret_hash = $2, updated_at = $4 WHERE id = $1",
    )
    .bind(id.to_string())
    .bind(new_hash)
    .bind(to_millis(previous_until))
    .bind(to_millis(now))
    .execute(conn)
    .await?;
    Ok(())
}
