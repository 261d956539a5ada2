//! Organizations, and a user's membership read together with the organization.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Conn, StoreError, Tx, bad_value, for_key_share, for_update};
use crate::domain::event::OrgRef;
use crate::domain::role::Role;
use crate::run;

#[derive(Debug, Clone, sqlx::FromRow)]
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

/// An organization with the reader's role in it.
#[derive(sqlx::FromRow)]
struct WithRole {
    #[sqlx(flatten)]
    org: Organization,
    role: String,
}

impl WithRole {
    fn decode(self) -> Result<(Organization, Role), sqlx::Error> {
        Ok((self.org, decode_role(&self.role)?))
    }
}

pub(crate) fn decode_role(role: &str) -> Result<Role, sqlx::Error> {
    Role::parse(role).ok_or_else(|| bad_value("role", role))
}

const COLUMNS: &str = "o.id, o.slug, o.name, o.created_at, o.updated_at";

pub async fn insert(tx: &mut Tx, org: &Organization) -> Result<(), StoreError> {
    run!(
        tx,
        execute,
        sqlx::query(
            "INSERT INTO organizations (id, slug, name, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(org.id)
        .bind(&org.slug)
        .bind(&org.name)
        .bind(org.created_at)
        .bind(org.updated_at)
    )
    .map_err(StoreError::from_unique)?;
    Ok(())
}

pub async fn find(conn: &mut dyn Conn, org_id: Uuid) -> Result<Option<Organization>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM organizations o WHERE o.id = $1");
    run!(conn, fetch_optional, sqlx::query_as(&sql).bind(org_id))
}

/// The organization and the user's role in it, if the user is a member.
pub async fn find_membership(
    conn: &mut dyn Conn,
    org_id: Uuid,
    user_id: Uuid,
) -> Result<Option<(Organization, Role)>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS}, m.role FROM organizations o \
         JOIN members m ON m.organization_id = o.id AND m.user_id = $2 WHERE o.id = $1"
    );
    let found: Option<WithRole> =
        run!(conn, fetch_optional, sqlx::query_as(&sql).bind(org_id).bind(user_id))?;
    found.map(WithRole::decode).transpose()
}

/// The user's organizations with their role in each, newest first.
pub async fn list_for_user(
    conn: &mut dyn Conn,
    user_id: Uuid,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<(Organization, Role)>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS}, m.role FROM organizations o \
         JOIN members m ON m.organization_id = o.id AND m.user_id = $1 \
         WHERE ($2 IS NULL OR o.id < $2) ORDER BY o.id DESC LIMIT $3"
    );
    let rows: Vec<WithRole> =
        run!(conn, fetch_all, sqlx::query_as(&sql).bind(user_id).bind(before).bind(limit))?;
    rows.into_iter().map(WithRole::decode).collect()
}

pub async fn update(tx: &mut Tx, org: &Organization) -> Result<(), StoreError> {
    run!(
        tx,
        execute,
        sqlx::query("UPDATE organizations SET slug = $2, name = $3, updated_at = $4 WHERE id = $1")
            .bind(org.id)
            .bind(&org.slug)
            .bind(&org.name)
            .bind(org.updated_at)
    )
    .map_err(StoreError::from_unique)?;
    Ok(())
}

/// Serialises membership changes of one organization by locking its row until the
/// transaction ends. Checks such as "at least one owner remains" are then made against a
/// state no one else is changing. Returns false if the organization is gone.
pub async fn lock(conn: &mut dyn Conn, org_id: Uuid) -> Result<bool, sqlx::Error> {
    let sql = format!("SELECT id FROM organizations WHERE id = $1{}", for_update(conn));
    let found: Option<(Uuid,)> = run!(conn, fetch_optional, sqlx::query_as(&sql).bind(org_id))?;
    Ok(found.is_some())
}

/// The organization, kept from being deleted until the transaction ends as [`keep`] does.
pub async fn find_kept(
    conn: &mut dyn Conn,
    org_id: Uuid,
) -> Result<Option<Organization>, sqlx::Error> {
    let sql =
        format!("SELECT {COLUMNS} FROM organizations o WHERE o.id = $1{}", for_key_share(conn));
    run!(conn, fetch_optional, sqlx::query_as(&sql).bind(org_id))
}

/// Keeps the organization from being deleted until the transaction ends, without holding up
/// renames: what is added to it meanwhile belongs to an organization that exists. Returns
/// false if it is gone already.
pub async fn keep(conn: &mut dyn Conn, org_id: Uuid) -> Result<bool, sqlx::Error> {
    let sql = format!("SELECT id FROM organizations WHERE id = $1{}", for_key_share(conn));
    let found: Option<(Uuid,)> = run!(conn, fetch_optional, sqlx::query_as(&sql).bind(org_id))?;
    Ok(found.is_some())
}

pub async fn delete(tx: &mut Tx, org_id: Uuid) -> Result<(), sqlx::Error> {
    run!(tx, execute, sqlx::query("DELETE FROM organizations WHERE id = $1").bind(org_id))?;
    Ok(())
}

pub async fn slug_exists(conn: &mut dyn Conn, slug: &str) -> Result<bool, sqlx::Error> {
    let found: Option<(Uuid,)> = run!(
        conn,
        fetch_optional,
        sqlx::query_as("SELECT id FROM organizations WHERE slug = $1").bind(slug)
    )?;
    Ok(found.is_some())
}
