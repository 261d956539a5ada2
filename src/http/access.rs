//! Who may see and change an organization. Non-members get the same 404 as a missing
//! organization, so IDs reveal nothing across tenants.
//!
//! Every organization route names what an OAuth token needs to use it ([`Need`]). An OAuth
//! token reaches only its own organization (anything else reads as missing) and only with
//! the scope; then the route's role rules apply as for people. An app acting as itself has
//! the role of an ADMIN; a token acting for a user has that user's role.

use std::future::Future;

use crate::store::Conn;
use uuid::Uuid;

use super::principal::{Principal, oauth_not_allowed};
use crate::domain::event::Actor;
use crate::domain::role::{OAUTH_GRANTABLE, Role};
use crate::domain::scope::Scope;
use crate::error::{ApiError, ApiResult};
use crate::store::organizations::{self, Organization};

/// What an OAuth token must hold to use a route.
#[derive(Debug, Clone, Copy)]
pub enum Need {
    Scope(Scope),
    /// No scope opens the route: it is for people's own tokens only.
    NoOAuth,
}

impl From<Scope> for Need {
    fn from(scope: Scope) -> Self {
        Need::Scope(scope)
    }
}

/// The role an app acting as itself has in its organization.
pub const APP_ROLE: Role = Role::Admin;

pub async fn membership(
    conn: &mut dyn Conn,
    org_id: Uuid,
    principal: &Principal,
    need: impl Into<Need>,
) -> ApiResult<(Organization, Role)> {
    let missing = || ApiError::not_found("Organization");
    if let Some(grant) = principal.oauth() {
        if grant.organization_id != org_id {
            return Err(missing());
        }
        match need.into() {
            Need::Scope(scope) if !grant.scopes.contains(scope) => {
                return Err(ApiError::InsufficientScope(scope));
            }
            Need::Scope(_) => {}
            Need::NoOAuth => {
                // Still a 404 when the organization is gone or the user has left it.
                resolve(conn, org_id, principal).await?.ok_or_else(missing)?;
                return Err(oauth_not_allowed());
            }
        }
    }
    resolve(conn, org_id, principal).await?.ok_or_else(missing)
}

async fn resolve(
    conn: &mut dyn Conn,
    org_id: Uuid,
    principal: &Principal,
) -> ApiResult<Option<(Organization, Role)>> {
    Ok(match principal.actor() {
        Actor::User(user) => organizations::find_membership(conn, org_id, user).await?,
        Actor::OauthApp(_) => organizations::find(conn, org_id).await?.map(|org| (org, APP_ROLE)),
        // No request acts as Roster itself.
        Actor::System => None,
    })
}

/// The organization, if the caller is an OWNER or ADMIN of it.
pub async fn as_manager(
    conn: &mut dyn Conn,
    org_id: Uuid,
    principal: &Principal,
    need: impl Into<Need>,
    action: &str,
) -> ApiResult<(Organization, Role)> {
    let (org, role) = membership(conn, org_id, principal, need).await?;
    if !role.can_manage() {
        return Err(ApiError::managers_only(action));
    }
    Ok((org, role))
}

/// An OAuth token gives no role but [`OAUTH_GRANTABLE`], on every route that gives one.
pub fn check_oauth_grant(principal: &Principal, role: Role) -> ApiResult<()> {
    if principal.oauth().is_some() && role != OAUTH_GRANTABLE {
        return Err(ApiError::forbidden(format!(
            "Access denied. OAuth tokens can only grant the {} role.",
            OAUTH_GRANTABLE.as_str()
        )));
    }
    Ok(())
}

pub fn owners_only(action: &str) -> ApiError {
    ApiError::forbidden(format!("Access denied. Only owners can {action}."))
}

/// Reads the caller's membership inside a transaction that has locked the organization.
/// The caller's access is checked before the lock is taken, so that no one outside the
/// organization can hold up its changes; it is read again under the lock, where it counts.
pub async fn locked_membership(
    conn: &mut dyn Conn,
    org_id: Uuid,
    principal: &Principal,
    need: impl Into<Need>,
) -> ApiResult<(Organization, Role)> {
    let need = need.into();
    membership(conn, org_id, principal, need).await?;
    if !organizations::lock(conn, org_id).await? {
        return Err(ApiError::not_found("Organization"));
    }
    membership(conn, org_id, principal, need).await
}

/// A resource one organization owns and its OWNERs and ADMINs manage: a webhook, an OAuth
/// app. A resource of another organization reads as missing.
pub trait Managed: Sized {
    /// How a 404 names it: `"<NAME> not found"`.
    const NAME: &'static str;

    /// The organization's resource `id`. With [`Hold::Row`] its row stays locked to the end
    /// of the transaction, so that concurrent changes to it run one after the other.
    fn load(
        conn: &mut dyn Conn,
        org_id: Uuid,
        id: Uuid,
        hold: Hold,
    ) -> impl Future<Output = Result<Option<Self>, sqlx::Error>> + Send;
}

/// Whether a managed resource is read or held for a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    Nothing,
    Row,
}

/// The organization and its resource `id`, if the caller is an OWNER or ADMIN of it.
pub async fn managed<T: Managed>(
    conn: &mut dyn Conn,
    org_id: Uuid,
    id: Uuid,
    principal: &Principal,
    need: impl Into<Need>,
    action: &str,
    hold: Hold,
) -> ApiResult<(Organization, T)> {
    let (org, _) = as_manager(conn, org_id, principal, need, action).await?;
    let found = T::load(conn, org_id, id, hold).await?;
    Ok((org, found.ok_or_else(|| ApiError::not_found(T::NAME))?))
}
