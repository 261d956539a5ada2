//! Memberships: a user's role in an organization.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::organizations::decode_role;
use super::{Conn, StoreError, Tx, for_update};
use crate::domain::role::Role;
use crate::domain::time;
use crate::run;

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

#[derive(sqlx::FromRow)]
struct Row {
    user_id: Uuid,
    organization_id: Uuid,
    email: String,
    name: String,
    role: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<Row> for Member {
    type Error = sqlx::Error;

    fn try_from(row: Row) -> Result<Self, sqlx::Error> {
        Ok(Member {
            user_id: row.user_id,
            organization_id: row.organization_id,
            email: row.email,
            name: row.name,
            role: decode_role(&row.role)?,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

const SELECT: &str = "SELECT m.user_id, m.organization_id, u.email, u.name, m.role, \
     m.created_at, m.updated_at FROM members m JOIN users u ON u.id = m.user_id";

pub async fn insert(
    tx: &mut Tx,
    org_id: Uuid,
    user_id: Uuid,
    role: Role,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    run!(
        tx,
        execute,
        sqlx::query(
            "INSERT INTO members (organization_id, user_id, role, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(org_id)
        .bind(user_id)
        .bind(role.as_str())
        .bind(at)
    )
    .map_err(StoreError::from_unique)?;
    Ok(())
}

pub async fn find(
    conn: &mut dyn Conn,
    org_id: Uuid,
    user_id: Uuid,
) -> Result<Option<Member>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE m.organization_id = $1 AND m.user_id = $2");
    let row: Option<Row> =
        run!(conn, fetch_optional, sqlx::query_as(&sql).bind(org_id).bind(user_id))?;
    row.map(Member::try_from).transpose()
}

/// Position of a member in the newest-first listing: when they joined, in epoch
/// milliseconds (the form cursors carry), and their user ID.
pub type MemberKey = (i64, Uuid);

pub fn key_of(member: &Member) -> MemberKey {
    (member.created_at.timestamp_millis(), member.user_id)
}

pub async fn list(
    conn: &mut dyn Conn,
    org_id: Uuid,
    after: Option<MemberKey>,
    limit: i64,
) -> Result<Vec<Member>, sqlx::Error> {
    let (at, user) = after.unzip();
    let at = at.map(time::clamped_from_millis);
    let sql = format!(
        "{SELECT} WHERE m.organization_id = $1 \
         AND ($2 IS NULL OR m.created_at < $2 OR (m.created_at = $2 AND m.user_id < $3)) \
         ORDER BY m.created_at DESC, m.user_id DESC LIMIT $4"
    );
    let rows: Vec<Row> =
        run!(conn, fetch_all, sqlx::query_as(&sql).bind(org_id).bind(at).bind(user).bind(limit))?;
    rows.into_iter().map(Member::try_from).collect()
}

pub async fn count_owners(conn: &mut dyn Conn, org_id: Uuid) -> Result<i64, sqlx::Error> {
    run!(
        conn,
        fetch_one,
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM members WHERE organization_id = $1 AND role = 'OWNER'"
        )
        .bind(org_id)
    )
}

pub async fn update_role(
    tx: &mut Tx,
    org_id: Uuid,
    user_id: Uuid,
    role: Role,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query(
            "UPDATE members SET role = $3, updated_at = $4 \
             WHERE organization_id = $1 AND user_id = $2",
        )
        .bind(org_id)
        .bind(user_id)
        .bind(role.as_str())
        .bind(at)
    )?;
    Ok(())
}

pub async fn delete(tx: &mut Tx, org_id: Uuid, user_id: Uuid) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query("DELETE FROM members WHERE organization_id = $1 AND user_id = $2")
            .bind(org_id)
            .bind(user_id)
    )?;
    Ok(())
}

/// Whether the user is a member, holding their membership row until the transaction ends: a
/// concurrent removal then waits for what this transaction grants, or comes first and is seen.
pub async fn hold(conn: &mut dyn Conn, org_id: Uuid, user_id: Uuid) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "SELECT user_id FROM members WHERE organization_id = $1 AND user_id = $2{}",
        for_update(conn)
    );
    let held: Option<(Uuid,)> =
        run!(conn, fetch_optional, sqlx::query_as(&sql).bind(org_id).bind(user_id))?;
    Ok(held.is_some())
}
