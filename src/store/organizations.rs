use chrono::{DateTime, Utc};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::{StoreError, get_time, get_uuid, to_millis};
use crate::domain::event::OrgRef;
use crate::domain::role::Role;

#[derive(Debug, Clone)]
pub struct Organization {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Organization {
    pub fn as_ref(&self) -> OrgRef {
        OrgRef { id: self.id, slug: self.slug.clone(), name: self.name.clone() }
    }
}

const COLUMNS: &str = "o.id, o.slug, o.name, o.created_at, o.updated_at";

fn from_row(row: &AnyRow) -> Result<Organization, sqlx::Error> {
    use sqlx::Row;
    Ok(Organization {
        id: get_uuid(row, "id")?,
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        created_at: get_time(row, "created_at")?,
        updated_at: get_time(row, "updated_at")?,
    })
}

pub(crate) fn decode_role(row: &AnyRow) -> Result<Role, sqlx::Error> {
    use sqlx::Row;
    let role: String = row.try_get("role")?;
    Role::parse(&role).ok_or_else(|| sqlx::Error::ColumnDecode {
        index: "role".into(),
        source: format!("unknown role {role}").into(),
    })
}

pub async fn insert(conn: &mut AnyConnection, org: &Organization) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO organizations (id, slug, name, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(org.id.to_string())
    .bind(&org.slug)
    .bind(&org.name)
    .bind(to_millis(org.created_at))
    .bind(to_millis(org.updated_at))
    .execute(conn)
    .await
    .map_err(StoreError::from_unique)?;
    Ok(())
}

pub async fn find(
    conn: &mut AnyConnection,
    org_id: Uuid,
) -> Result<Option<Organization>, sqlx::Error> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM organizations o WHERE o.id = $1"))
        .bind(org_id.to_string())
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// The organization and the user's role in it, if the user is a member.
pub async fn find_membership(
    conn: &mut AnyConnection,
    org_id: Uuid,
    user_id: Uuid,
) -> Result<Option<(Organization, Role)>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS}, m.role FROM organizations o \
         JOIN members m ON m.organization_id = o.id AND m.user_id = $2 WHERE o.id = $1"
    ))
    .bind(org_id.to_string())
    .bind(user_id.to_string())
    .fetch_optional(conn)
    .await?;
    row.map(|row| Ok((from_row(&row)?, decode_role(&row)?))).transpose()
}

/// The user's organizations with their role in each, newest first.
pub async fn list_for_user(
    conn: &mut AnyConnection,
    user_id: Uuid,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<(Organization, Role)>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS}, m.role FROM organizations o \
         JOIN members m ON m.organization_id = o.id AND m.user_id = $1 \
         WHERE ($2 = '' OR o.id < $2) ORDER BY o.id DESC LIMIT $3"
    ))
    .bind(user_id.to_string())
    .bind(before.map(|b| b.to_string()).unwrap_or_default())
    .bind(limit)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|row| Ok((from_row(row)?, decode_role(row)?)))
    .collect()
}

pub async fn update(conn: &mut AnyConnection, org: &Organization) -> Result<(), StoreError> {
    sqlx::query("UPDATE organizations SET slug = $2, name = $3, updated_at = $4 WHERE id = $1")
        .bind(org.id.to_string())
        .bind(&org.slug)
        .bind(&org.name)
        .bind(to_millis(org.updated_at))
        .execute(conn)
        .await
        .map_err(StoreError::from_unique)?;
    Ok(())
}

/// Serialises membership changes of one organization: a write to its row takes a row lock on
/// PostgreSQL (SQLite transactions already hold the database write lock). Checks such as
/// "at least one owner remains" are then made against a state no one else is changing.
/// Returns false if the organization is gone.
pub async fn lock(conn: &mut AnyConnection, org_id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE organizations SET slug = slug WHERE id = $1")
        .bind(org_id.to_string())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete(conn: &mut AnyConnection, org_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM organizations WHERE id = $1")
        .bind(org_id.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn slug_exists(conn: &mut AnyConnection, slug: &str) -> Result<bool, sqlx::Error> {
    let found: Option<String> = sqlx::query_scalar("SELECT id FROM organizations WHERE slug = $1")
        .bind(slug)
        .fetch_optional(conn)
        .await?;
    Ok(found.is_some())
}
