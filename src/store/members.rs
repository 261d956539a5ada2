use chrono::{DateTime, Utc};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::organizations::decode_role;
use super::{StoreError, get_time, get_uuid, to_millis};
use crate::domain::role::Role;

#[derive(Debug, Clone)]
pub struct Member {
    pub user_id: Uuid,
    pub organization_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const SELECT: &str = "SELECT m.user_id, m.organization_id, u.email, u.name, m.role, \
     m.created_at, m.updated_at FROM members m JOIN users u ON u.id = m.user_id";

fn from_row(row: &AnyRow) -> Result<Member, sqlx::Error> {
    use sqlx::Row;
    Ok(Member {
        user_id: get_uuid(row, "user_id")?,
        organization_id: get_uuid(row, "organization_id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role: decode_role(row)?,
        created_at: get_time(row, "created_at")?,
        updated_at: get_time(row, "updated_at")?,
    })
}

pub async fn insert(
    conn: &mut AnyConnection,
    org_id: Uuid,
    user_id: Uuid,
    role: Role,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO members (organization_id, user_id, role, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4)",
    )
    .bind(org_id.to_string())
    .bind(user_id.to_string())
    .bind(role.as_str())
    .bind(to_millis(at))
    .execute(conn)
    .await
    .map_err(StoreError::from_unique)?;
    Ok(())
}

pub async fn find(
    conn: &mut AnyConnection,
    org_id: Uuid,
    user_id: Uuid,
) -> Result<Option<Member>, sqlx::Error> {
    sqlx::query(&format!("{SELECT} WHERE m.organization_id = $1 AND m.user_id = $2"))
        .bind(org_id.to_string())
        .bind(user_id.to_string())
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Position of a member in the newest-first listing.
pub type MemberKey = (i64, Uuid);

pub fn key_of(member: &Member) -> MemberKey {
    (to_millis(member.created_at), member.user_id)
}

pub async fn list(
    conn: &mut AnyConnection,
    org_id: Uuid,
    after: Option<MemberKey>,
    limit: i64,
) -> Result<Vec<Member>, sqlx::Error> {
    let (at, user) = after.map(|(at, u)| (at, u.to_string())).unwrap_or((i64::MAX, String::new()));
    sqlx::query(&format!(
        "{SELECT} WHERE m.organization_id = $1 \
         AND (m.created_at < $2 OR (m.created_at = $2 AND ($3 = '' OR m.user_id < $3))) \
         ORDER BY m.created_at DESC, m.user_id DESC LIMIT $4"
    ))
    .bind(org_id.to_string())
    .bind(at)
    .bind(user)
    .bind(limit)
    .fetch_all(conn)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

pub async fn count_owners(conn: &mut AnyConnection, org_id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM members WHERE organization_id = $1 AND role = 'OWNER'")
        .bind(org_id.to_string())
        .fetch_one(conn)
        .await
}

pub async fn update_role(
    conn: &mut AnyConnection,
    org_id: Uuid,
    user_id: Uuid,
    role: Role,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE members SET role = $3, updated_at = $4 WHERE organization_id = $1 AND user_id = $2",
    )
    .bind(org_id.to_string())
    .bind(user_id.to_string())
    .bind(role.as_str())
    .bind(to_millis(at))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete(
    conn: &mut AnyConnection,
    org_id: Uuid,
    user_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM members WHERE organization_id = $1 AND user_id = $2")
        .bind(org_id.to_string())
        .bind(user_id.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether the user is a member, holding their membership row until the transaction ends: a
/// concurrent removal then waits for what this transaction grants, or comes first and is seen.
pub async fn hold(
    conn: &mut AnyConnection,
    org_id: Uuid,
    user_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let held =
        sqlx::query("UPDATE members SET role = role WHERE organization_id = $1 AND user_id = $2")
            .bind(org_id.to_string())
            .bind(user_id.to_string())
            .execute(conn)
            .await?;
    Ok(held.rows_affected() == 1)
}
