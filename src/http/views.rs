//! Response bodies shared by several routes.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::role::Role;
use crate::store::members::Member;
use crate::store::organizations::Organization;
use crate::store::users::User;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    /// Whether a link sent to `email` has been opened. Until it has, the account cannot
    /// accept invites, nor (by default) sign in with its password.
    pub email_verified: bool,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            email_verified: u.email_verified_at.is_some(),
            email: u.email,
            name: u.name,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// An organization, with the caller's role in it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationView {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl OrganizationView {
    pub fn new(org: Organization, role: Role) -> Self {
        Self {
            id: org.id,
            slug: org.slug,
            name: org.name,
            role,
            created_at: org.created_at,
            updated_at: org.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    pub user_id: Uuid,
    pub organization_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        Self {
            user_id: m.user_id,
            organization_id: m.organization_id,
            email: m.email,
            name: m.name,
            role: m.role,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// One page of a list, newest first. `nextCursor` is null on the last page.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows: the extra row only says another page exists.
    pub fn from_rows<R>(
        mut rows: Vec<R>,
        limit: i64,
        position: impl Fn(&R) -> String,
        view: impl Fn(R) -> T,
    ) -> Self {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| super::extract::cursor::encode(&position(r)))
        } else {
            None
        };
        Self { data: rows.into_iter().map(view).collect(), next_cursor }
    }
}

/// The error body every non-OAuth route answers with.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    pub status_code: u16,
    /// A sentence, or for validation failures every violation.
    #[schema(schema_with = error_message)]
    pub message: serde_json::Value,
}

fn error_message() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    super::body::to_schema(serde_json::json!({
        "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
    }))
}
