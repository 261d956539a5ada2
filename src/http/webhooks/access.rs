//! How a webhook is found for its managers, who controls one written with an OAuth token, and
//! what such a webhook may receive.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::super::access::{Hold, Managed, managed};
use super::super::principal::Principal;
use crate::domain::event::EventName;
use crate::domain::scope::{self, Scope, Scopes};
use crate::error::{ApiError, ApiResult};
use crate::store::webhooks::{self, Webhook};
use crate::store::{Conn, Tx, members, oauth_apps};

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

/// Who a webhook written with an OAuth token belongs to: the token's app and, for a token
/// acting for a person, that person. What the webhook may receive is what the token reads.
pub struct Controller {
    pub app_id: Uuid,
    pub user_id: Option<Uuid>,
    /// The token's scopes, narrowed to the app's as it is now.
    pub scopes: Scopes,
}

/// For an OAuth token, who will control the webhook it writes: its app, held to the end of the
/// transaction and still active, and the person it acts for, whose membership is held too.
/// `None` for people's own tokens. Taken before any webhook row, in the order in which
/// revoking an app and removing a member lock them, so that either comes first (and this is
/// refused) or waits and then orphans the webhook written here.
pub async fn hold_controller(
    conn: &mut dyn Conn,
    principal: &Principal,
) -> ApiResult<Option<Controller>> {
    let Some(grant) = principal.oauth() else { return Ok(None) };
    let app = oauth_apps::hold(conn, grant.app_id)
        .await?
        .filter(|app| app.is_active())
        .ok_or_else(ApiError::unauthorized)?;
    let user_id = principal.user_id();
    if let Some(user) = user_id
        && !members::hold(conn, app.organization_id, user).await?
    {
        return Err(ApiError::unauthorized());
    }
    Ok(Some(Controller { app_id: app.id, user_id, scopes: grant.scopes.intersect(&app.scopes) }))
}

/// Why an OAuth app may not receive a subscription.
enum Unreadable {
    /// `oauth_app.*` events are for people only.
    PeopleOnly,
    /// The first scope missing, in catalog order.
    Lacks(Scope),
}

/// Whether an app with `scopes` may receive `events`: only what it could read through the
/// API ([`scope::reading`]), or a webhook pointed at it would hand it what its scopes withhold.
fn receivable(scopes: &Scopes, events: &[EventName]) -> Result<(), Unreadable> {
    let mut needed = Vec::new();
    for event in events {
        needed.push(scope::reading_name(event).ok_or(Unreadable::PeopleOnly)?);
    }
    match Scopes::new(needed).iter().find(|scope| !scopes.contains(*scope)) {
        Some(missing) => Err(Unreadable::Lacks(missing)),
        None => Ok(()),
    }
}

/// An OAuth token may subscribe a webhook only to events it could read through the API.
pub fn check_token_may_receive(controller: &Controller, events: &[EventName]) -> ApiResult<()> {
    receivable(&controller.scopes, events).map_err(|refusal| match refusal {
        Unreadable::PeopleOnly => {
            ApiError::forbidden("Access denied. OAuth tokens cannot subscribe to oauth_app events.")
        }
        Unreadable::Lacks(scope) => ApiError::InsufficientScope(scope),
    })
}

/// Settles who controls `hook` after a change, and checks that it may receive what it now
/// subscribes to:
/// - a change with an OAuth token makes it the token's (`controller`), limited to what the
///   token reads;
/// - a person's change that sets the url (`repointed`) takes it over: from then on it is
///   theirs, like one they made;
/// - a person's other changes leave it to the app that controls it, limited to what that app
///   reads;
/// - an orphaned webhook becomes active again only with a change that sets its url.
pub async fn settle_control(
    conn: &mut dyn Conn,
    hook: &mut Webhook,
    controller: Option<&Controller>,
    repointed: bool,
) -> ApiResult<()> {
    match controller {
        Some(controller) => {
            check_token_may_receive(controller, &hook.events)?;
            hook.oauth_app_id = Some(controller.app_id);
            hook.oauth_user_id = controller.user_id;
        }
        None if repointed => {
            hook.oauth_app_id = None;
            hook.oauth_user_id = None;
        }
        None => {
            if let (Some(app_id), None) = (hook.oauth_app_id, hook.orphaned_at) {
                check_app_may_receive(conn, hook, app_id).await?;
            }
        }
    }
    if repointed {
        hook.orphaned_at = None;
    }
    if hook.is_active && hook.orphaned_at.is_some() {
        return Err(ApiError::conflict(
            "Webhook was deactivated when its OAuth access ended; set its url to reactivate it",
        ));
    }
    Ok(())
}

/// A person's change of an app's webhook keeps it within what the app reads. The app is read
/// without a lock: the webhook is held already, and the app comes before it in the lock order.
/// A narrowing or revocation racing this holds the app, waits for the webhook, and then sees
/// what this change wrote.
async fn check_app_may_receive(conn: &mut dyn Conn, hook: &Webhook, app_id: Uuid) -> ApiResult<()> {
    let scopes = oauth_apps::find(conn, hook.organization_id, app_id)
        .await?
        .filter(|app| app.is_active())
        .map(|app| app.scopes)
        .unwrap_or_default();
    receivable(&scopes, &hook.events).map_err(|refusal| {
        ApiError::forbidden(match refusal {
            Unreadable::PeopleOnly => "Access denied. This webhook belongs to an OAuth app, and \
                 OAuth apps cannot receive oauth_app events."
                .to_owned(),
            Unreadable::Lacks(scope) => format!(
                "Access denied. This webhook belongs to an OAuth app that lacks the {scope} scope."
            ),
        })
    })
}

/// Keeps the webhooks an app controls within what it reads now that its scopes are `scopes`:
/// events it can no longer read are dropped, and a webhook left with none is deactivated
/// instead, keeping its subscription so that it reads back as it was. The caller holds the
/// app, which comes before its webhooks in the lock order.
pub async fn narrow_app_webhooks(
    tx: &mut Tx,
    app_id: Uuid,
    scopes: &Scopes,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    for mut hook in webhooks::hold_of_app(tx, app_id).await? {
        let kept: Vec<EventName> = hook
            .events
            .iter()
            .filter(|event| receivable(scopes, std::slice::from_ref(*event)).is_ok())
            .cloned()
            .collect();
        if kept.len() == hook.events.len() || (kept.is_empty() && !hook.is_active) {
            continue;
        }
        if kept.is_empty() {
            hook.is_active = false;
        } else {
            hook.events = kept;
        }
        hook.updated_at = now;
        webhooks::update(tx, &hook).await?;
    }
    Ok(())
}

/// Refuses anyone but the webhook's managers (or a token with `webhooks:read`) its delivery
/// log: the deliveries list and each delivery's attempts.
pub async fn check_delivery_reader(
    conn: &mut dyn Conn,
    org_id: Uuid,
    webhook_id: Uuid,
    principal: &Principal,
) -> ApiResult<()> {
    let read = Scope::WebhooksRead;
    let action = "view webhook deliveries";
    managed::<Webhook>(conn, org_id, webhook_id, principal, read, action, Hold::Nothing).await?;
    Ok(())
}
