//! Who may see and change an organization. Non-members get the same 404 as a missing
//! organization, so IDs reveal nothing across tenants.

use sqlx::AnyConnection;
use uuid::Uuid;

use crate::auth::principal::Principal;
use crate::domain::role::Role;
use crate::error::{ApiError, ApiResult};
use crate::store::organizations::{self, Organization};

pub async fn membership(
    conn: &mut AnyConnection,
    org_id: Uuid,
    principal: &Principal,
) -> ApiResult<(Organization, Role)> {
    organizations::find_membership(conn, org_id, principal.user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("Organization"))
}

/// The organization, if the caller is an OWNER or ADMIN of it.
pub async fn as_manager(
    conn: &mut AnyConnection,
    org_id: Uuid,
    principal: &Principal,
    action: &str,
) -> ApiResult<(Organization, Role)> {
    let (org, role) = membership(conn, org_id, principal).await?;
    if !role.can_manage() {
        return Err(ApiError::managers_only(action));
    }
    Ok((org, role))
}

pub fn owners_only(action: &str) -> ApiError {
    ApiError::forbidden(format!("Access denied. Only owners can {action}."))
}

/// Reads the caller's membership inside a transaction that has locked the organization.
pub async fn locked_membership(
    conn: &mut AnyConnection,
    org_id: Uuid,
    principal: &Principal,
) -> ApiResult<(Organization, Role)> {
    if !organizations::lock(conn, org_id).await? {
        return Err(ApiError::not_found("Organization"));
    }
    membership(conn, org_id, principal).await
}
