use chrono::{DateTime, Utc};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::organizations::decode_role;
use super::users::normalize_email;
use super::{StoreError, get_time, get_uuid, to_millis};
use crate::domain::role::Role;

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
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, organization_id, email, role, status, invited_by, expires_at, created_at, updated_at";

fn from_row(row: &AnyRow, now: DateTime<Utc>) -> Result<Invite, sqlx::Error> {
    use sqlx::Row;
    let stored: String = row.try_get("status")?;
    let expires_at = get_time(row, "expires_at")?;
    let status = match stored.as_str() {
        "pending" if expires_at <= now => InviteStatus::Expired,
        "pending" => InviteStatus::Pending,
        "accepted" => InviteStatus::Accepted,
        "cancelled" => InviteStatus::Cancelled,
        "expired" => InviteStatus::Expired,
        other => {
            return Err(sqlx::Error::ColumnDecode {
                index: "status".into(),
                source: format!("unknown invite status {other}").into(),
            });
        }
    };
    Ok(Invite {
        id: get_uuid(row, "id")?,
        organization_id: get_uuid(row, "organization_id")?,
        email: row.try_get("email")?,
        role: decode_role(row)?,
        status,
        invited_by: get_uuid(row, "invited_by")?,
        expires_at,
        created_at: get_time(row, "created_at")?,
        updated_at: get_time(row, "updated_at")?,
    })
}

/// Marks the email's pending invites that have run out as expired, so a new one may be made.
pub async fn expire_stale(
    conn: &mut AnyConnection,
    org_id: Uuid,
    email: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE invites SET status = 'expired', updated_at = $3 WHERE organization_id = $1 \
         AND email_lower = $2 AND status = 'pending' AND expires_at <= $3",
    )
    .bind(org_id.to_string())
    .bind(normalize_email(email))
    .bind(to_millis(now))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert(
    conn: &mut AnyConnection,
    invite: &Invite,
    token_hash: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO invites (id, organization_id, email, email_lower, role, status, token_hash, \
         invited_by, expires_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9, $9)",
    )
    .bind(invite.id.to_string())
    .bind(invite.organization_id.to_string())
    .bind(&invite.email)
    .bind(normalize_email(&invite.email))
    .bind(invite.role.as_str())
    .bind(token_hash)
    .bind(invite.invited_by.to_string())
    .bind(to_millis(invite.expires_at))
    .bind(to_millis(invite.created_at))
    .execute(conn)
    .await
    .map_err(StoreError::from_unique)?;
    Ok(())
}

pub async fn find(
    conn: &mut AnyConnection,
    org_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<Invite>, sqlx::Error> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM invites WHERE organization_id = $1 AND id = $2"))
        .bind(org_id.to_string())
        .bind(id.to_string())
        .fetch_optional(conn)
        .await?
        .map(|row| from_row(&row, now))
        .transpose()
}

pub async fn find_by_token(
    conn: &mut AnyConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Invite>, sqlx::Error> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM invites WHERE token_hash = $1"))
        .bind(token_hash)
        .fetch_optional(conn)
        .await?
        .map(|row| from_row(&row, now))
        .transpose()
}

/// The organization's invites as they read now, optionally of one status, newest first.
pub async fn list(
    conn: &mut AnyConnection,
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
        "SELECT {COLUMNS} FROM invites WHERE organization_id = $1 AND ($2 = '' OR id < $2) \
         {status_filter} ORDER BY id DESC LIMIT $3"
    );
    let mut query = sqlx::query(&sql)
        .bind(org_id.to_string())
        .bind(before.map(|b| b.to_string()).unwrap_or_default())
        .bind(limit);
    if needs_now {
        query = query.bind(to_millis(now));
    }
    query.fetch_all(conn).await?.iter().map(|row| from_row(row, now)).collect()
}

/// Moves a pending invite to `status`.
pub async fn set_status(
    conn: &mut AnyConnection,
    id: Uuid,
    status: InviteStatus,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE invites SET status = $2, updated_at = $3 WHERE id = $1 AND status = 'pending'",
    )
    .bind(id.to_string())
    .bind(status.as_str())
    .bind(to_millis(now))
    .execute(conn)
    .await?;
    Ok(())
}
