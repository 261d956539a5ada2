//! Invitations into an organization, by email, redeemed with a token stored as a digest.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::organizations::decode_role;
use super::users::normalize_email;
use super::{Conn, StoreError, Tx, bad_value};
use crate::domain::role::Role;
use crate::run;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum InviteStatus {
    #[default]
    Pending,
    Accepted,
    Cancelled,
    Expired,
}

impl InviteStatus {
    pub const CHOICES: [(&'static str, InviteStatus); 4] = [
        ("pending", InviteStatus::Pending),
        ("accepted", InviteStatus::Accepted),
        ("cancelled", InviteStatus::Cancelled),
        ("expired", InviteStatus::Expired),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InviteStatus::Pending => "pending",
            InviteStatus::Accepted => "accepted",
            InviteStatus::Cancelled => "cancelled",
            InviteStatus::Expired => "expired",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Invite {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub email: String,
    pub role: Role,
    /// As it reads now: a pending invite past its expiry is `Expired`.
    pub status: InviteStatus,
    pub invited_by: Uuid,
    /// The OAuth app whose token made the invite, if one did.
    pub oauth_app_id: Option<Uuid>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    organization_id: Uuid,
    email: String,
    role: String,
    status: String,
    invited_by: Uuid,
    oauth_app_id: Option<Uuid>,
    expires_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl Row {
    /// The invite as it reads at `now`.
    fn at(self, now: DateTime<Utc>) -> Result<Invite, sqlx::Error> {
        let status = match self.status.as_str() {
            "pending" if self.expires_at <= now => InviteStatus::Expired,
            "pending" => InviteStatus::Pending,
            "accepted" => InviteStatus::Accepted,
            "cancelled" => InviteStatus::Cancelled,
            "expired" => InviteStatus::Expired,
            other => return Err(bad_value("status", other)),
        };
        Ok(Invite {
            id: self.id,
            organization_id: self.organization_id,
            email: self.email,
            role: decode_role(&self.role)?,
            status,
            invited_by: self.invited_by,
            oauth_app_id: self.oauth_app_id,
            expires_at: self.expires_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

const COLUMNS: &str = "id, organization_id, email, role, status, invited_by, oauth_app_id, \
     expires_at, created_at, updated_at";

/// Marks the email's pending invites that have run out as expired, so a new one may be made.
pub async fn expire_stale(
    tx: &mut Tx,
    org_id: Uuid,
    email: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let email = normalize_email(email);
    run!(
        tx,
        execute,
        sqlx::query(
            "UPDATE invites SET status = 'expired', updated_at = $3 WHERE organization_id = $1 \
             AND email_lower = $2 AND status = 'pending' AND expires_at <= $3",
        )
        .bind(org_id)
        .bind(&email)
        .bind(now)
    )?;
    Ok(())
}

pub async fn insert(tx: &mut Tx, invite: &Invite, token_hash: &str) -> Result<(), StoreError> {
    let email_lower = normalize_email(&invite.email);
    run!(
        tx,
        execute,
        sqlx::query(
            "INSERT INTO invites (id, organization_id, email, email_lower, role, status, \
             token_hash, invited_by, oauth_app_id, expires_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9, $10, $10)",
        )
        .bind(invite.id)
        .bind(invite.organization_id)
        .bind(&invite.email)
        .bind(&email_lower)
        .bind(invite.role.as_str())
        .bind(token_hash)
        .bind(invite.invited_by)
        .bind(invite.oauth_app_id)
        .bind(invite.expires_at)
        .bind(invite.created_at)
    )
    .map_err(StoreError::from_unique)?;
    Ok(())
}

pub async fn find(
    conn: &mut dyn Conn,
    org_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<Invite>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM invites WHERE organization_id = $1 AND id = $2");
    let row: Option<Row> = run!(conn, fetch_optional, sqlx::query_as(&sql).bind(org_id).bind(id))?;
    row.map(|row| row.at(now)).transpose()
}

pub async fn find_by_token(
    conn: &mut dyn Conn,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Invite>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM invites WHERE token_hash = $1");
    let row: Option<Row> = run!(conn, fetch_optional, sqlx::query_as(&sql).bind(token_hash))?;
    row.map(|row| row.at(now)).transpose()
}

/// The organization's invites as they read now, optionally of one status, newest first.
pub async fn list(
    conn: &mut dyn Conn,
    org_id: Uuid,
    status: Option<InviteStatus>,
    before: Option<Uuid>,
    limit: i64,
    now: DateTime<Utc>,
) -> Result<Vec<Invite>, sqlx::Error> {
    // Pending and expired depend on the clock ($4); the other two are stored as they read.
    let (status_filter, needs_now) = match status {
        None => ("", false),
        Some(InviteStatus::Pending) => ("AND status = 'pending' AND expires_at > $4", true),
        Some(InviteStatus::Expired) => {
            ("AND (status = 'expired' OR (status = 'pending' AND expires_at <= $4))", true)
        }
        Some(InviteStatus::Accepted) => ("AND status = 'accepted'", false),
        Some(InviteStatus::Cancelled) => ("AND status = 'cancelled'", false),
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM invites WHERE organization_id = $1 AND ($2 IS NULL OR id < $2) \
         {status_filter} ORDER BY id DESC LIMIT $3"
    );
    let rows: Vec<Row> = run!(conn, fetch_all, {
        let query = sqlx::query_as(&sql).bind(org_id).bind(before).bind(limit);
        if needs_now { query.bind(now) } else { query }
    })?;
    rows.into_iter().map(|row| row.at(now)).collect()
}

/// Moves a pending invite to `status`.
pub async fn set_status(
    tx: &mut Tx,
    id: Uuid,
    status: InviteStatus,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query(
            "UPDATE invites SET status = $2, updated_at = $3 WHERE id = $1 AND status = 'pending'",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(now)
    )?;
    Ok(())
}
