//! How a webhook is found for its managers, and what an OAuth token may subscribe one to.

use crate::store::Conn;
use uuid::Uuid;

use super::super::access::{Hold, Managed};
use super::super::principal::Principal;
use crate::domain::event::EventType;
use crate::domain::scope::{self, Scopes};
use crate::error::{ApiError, ApiResult};
use crate::store::oauth_apps;
use crate::store::webhooks::{self, Webhook};

impl Managed for Webhook {
    const NAME: &'static str = "Webhook";

    async fn load(
        conn: &mut dyn Conn,
        org_id: Uuid,
        id: Uuid,
        hold: Hold,
    ) -> Result<Option<Self>, sqlx::Error> {
        match hold {
            Hold::Row => webhooks::find_locked(conn, org_id, id).await,
            Hold::Nothing => webhooks::find(conn, org_id, id).await,
        }
    }
}

/// Refuses to queue deliveries for an inactive webhook: they would end `failed` at once
/// without a request. Decided on the webhook as held by the caller's transaction.
pub fn ensure_active(hook: &Webhook) -> ApiResult<()> {
    if hook.is_active { Ok(()) } else { Err(ApiError::conflict("Webhook is inactive")) }
}

/// For an OAuth token, its app, held to the end of the transaction and still active; `None`
/// for other principals. Taken before any webhook row, the order revoking an app locks them.
pub async fn hold_app(
    conn: &mut dyn Conn,
    principal: &Principal,
) -> ApiResult<Option<oauth_apps::OAuthApp>> {
    let Some(grant) = principal.oauth() else { return Ok(None) };
    let app = oauth_apps::hold(conn, grant.app_id)
        .await?
        .filter(|app| app.is_active())
        .ok_or_else(ApiError::unauthorized)?;
    Ok(Some(app))
}

/// An OAuth token may subscribe a webhook only to events it could read through the API;
/// otherwise a webhook pointed at the app would hand it what its scopes withhold. The app's
/// row is held to the end of the transaction, so that a revocation racing this either comes
/// first (and this is refused) or deactivates the webhook written here.
pub async fn check_readable(
    conn: &mut dyn Conn,
    principal: &Principal,
    events: &[EventType],
) -> ApiResult<()> {
    let Some(grant) = principal.oauth() else { return Ok(()) };
    let Some(app) = hold_app(conn, principal).await? else { return Ok(()) };
    let scopes = grant.scopes.intersect(&app.scopes);
    let mut needed = Vec::new();
    for event in events {
        match scope::reading(*event) {
            Some(scope) => needed.push(scope),
            None => {
                return Err(ApiError::forbidden(
                    "Access denied. OAuth tokens cannot subscribe to oauth_app events.",
                ));
            }
        }
    }
    match Scopes::new(needed).iter().find(|scope| !scopes.contains(*scope)) {
        Some(missing) => Err(ApiError::InsufficientScope(missing)),
        None => Ok(()),
    }
}
