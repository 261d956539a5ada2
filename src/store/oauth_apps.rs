//! OAuth apps. Client secrets are stored as SHA-256 digests only; a rotated-out secret keeps
//! working until its overlap ends.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Conn, TextList, Tx, bad_value, for_share, for_update};
use crate::domain::scope::{Scope, Scopes};
use crate::run;

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

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    organization_id: Uuid,
    name: String,
    client_id: String,
    redirect_uris: TextList,
    scopes: TextList,
    status: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<Row> for OAuthApp {
    type Error = sqlx::Error;

    fn try_from(row: Row) -> Result<Self, sqlx::Error> {
        Ok(OAuthApp {
            id: row.id,
            organization_id: row.organization_id,
            name: row.name,
            client_id: row.client_id,
            redirect_uris: row.redirect_uris.0,
            scopes: decode_scopes(row.scopes)?,
            status: match row.status.as_str() {
                "active" => AppStatus::Active,
                "revoked" => AppStatus::Revoked,
                other => return Err(bad_value("status", other)),
            },
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ClientRow {
    #[sqlx(flatten)]
    app: Row,
    secret_hash: String,
    previous_secret_hash: Option<String>,
    previous_secret_expires_at: Option<DateTime<Utc>>,
}

/// Scopes as a stored list of names, in catalog order.
pub(super) fn encode_scopes(scopes: &Scopes) -> TextList {
    TextList(scopes.names().into_iter().map(str::to_owned).collect())
}

pub(super) fn decode_scopes(list: TextList) -> Result<Scopes, sqlx::Error> {
    let scopes = list
        .0
        .iter()
        .map(|name| Scope::parse(name).ok_or_else(|| bad_value("scopes", name)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Scopes::new(scopes))
}

pub async fn insert(tx: &mut Tx, app: &OAuthApp, secret_hash: &str) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query(
            "INSERT INTO oauth_apps (id, organization_id, name, client_id, secret_hash, \
             redirect_uris, scopes, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(app.id)
        .bind(app.organization_id)
        .bind(&app.name)
        .bind(&app.client_id)
        .bind(secret_hash)
        .bind(TextList(app.redirect_uris.clone()))
        .bind(encode_scopes(&app.scopes))
        .bind(app.status.as_str())
        .bind(app.created_at)
        .bind(app.updated_at)
    )?;
    Ok(())
}

async fn find_with(
    conn: &mut dyn Conn,
    org_id: Uuid,
    id: Uuid,
    lock: &str,
) -> Result<Option<OAuthApp>, sqlx::Error> {
    let sql =
        format!("SELECT {COLUMNS} FROM oauth_apps WHERE id = $1 AND organization_id = $2{lock}");
    let row: Option<Row> = run!(conn, fetch_optional, sqlx::query_as(&sql).bind(id).bind(org_id))?;
    row.map(OAuthApp::try_from).transpose()
}

/// An app of the organization.
pub async fn find(
    conn: &mut dyn Conn,
    org_id: Uuid,
    id: Uuid,
) -> Result<Option<OAuthApp>, sqlx::Error> {
    find_with(conn, org_id, id, "").await
}

/// Like [`find`], holding the app's row for the rest of the transaction.
pub async fn find_locked(
    conn: &mut dyn Conn,
    org_id: Uuid,
    id: Uuid,
) -> Result<Option<OAuthApp>, sqlx::Error> {
    let lock = for_update(conn);
    find_with(conn, org_id, id, lock).await
}

/// The app as it is now, holding a shared lock on its row: a concurrent change of its scopes
/// or status waits for what this transaction issues, or comes first and is what this
/// transaction reads.
pub async fn hold(conn: &mut dyn Conn, id: Uuid) -> Result<Option<OAuthApp>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM oauth_apps WHERE id = $1{}", for_share(conn));
    let row: Option<Row> = run!(conn, fetch_optional, sqlx::query_as(&sql).bind(id))?;
    row.map(OAuthApp::try_from).transpose()
}

/// An app and its secret digests, by client ID.
pub async fn find_client(
    conn: &mut dyn Conn,
    client_id: &str,
) -> Result<Option<(OAuthApp, SecretDigests)>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS}, secret_hash, previous_secret_hash, previous_secret_expires_at \
         FROM oauth_apps WHERE client_id = $1"
    );
    let row: Option<ClientRow> = run!(conn, fetch_optional, sqlx::query_as(&sql).bind(client_id))?;
    let Some(row) = row else { return Ok(None) };
    let digests = SecretDigests {
        current: row.secret_hash,
        previous: row.previous_secret_hash.zip(row.previous_secret_expires_at),
    };
    Ok(Some((OAuthApp::try_from(row.app)?, digests)))
}

/// The organization's apps, newest first.
pub async fn list(
    conn: &mut dyn Conn,
    org_id: Uuid,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<OAuthApp>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM oauth_apps WHERE organization_id = $1 AND ($2 IS NULL OR id < $2) \
         ORDER BY id DESC LIMIT $3"
    );
    let rows: Vec<Row> =
        run!(conn, fetch_all, sqlx::query_as(&sql).bind(org_id).bind(before).bind(limit))?;
    rows.into_iter().map(OAuthApp::try_from).collect()
}

/// Writes the app's name, redirect URIs, scopes, status and `updated_at`.
pub async fn update(tx: &mut Tx, app: &OAuthApp) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query(
            "UPDATE oauth_apps SET name = $2, redirect_uris = $3, scopes = $4, status = $5, \
             updated_at = $6 WHERE id = $1",
        )
        .bind(app.id)
        .bind(&app.name)
        .bind(TextList(app.redirect_uris.clone()))
        .bind(encode_scopes(&app.scopes))
        .bind(app.status.as_str())
        .bind(app.updated_at)
    )?;
    Ok(())
}

/// Installs a new secret; the current one keeps working until `previous_until`.
pub async fn rotate_secret(
    tx: &mut Tx,
    id: Uuid,
    new_hash: &str,
    previous_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query(
            "UPDATE oauth_apps SET previous_secret_hash = secret_hash, \
             previous_secret_expires_at = $3, secret_hash = $2, updated_at = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(new_hash)
        .bind(previous_until)
        .bind(now)
    )?;
    Ok(())
}
