//! Changing a webhook, and deleting it. An inactive or deleted webhook gets no new
//! deliveries, and its pending ones are not attempted again.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use super::access::{hold_controller, settle_control};
use super::views::WebhookView;
use super::{fields, settings};
use crate::domain::event::{
    Change, EventName, NewEvent, WebhookChanges, WebhookDeleted, WebhookRef, WebhookUpdated,
};
use crate::domain::scope::Scope;
use crate::error::{ApiError, ApiResult};
use crate::http::access::{self, Hold};
use crate::http::body::{Prop, body_schema};
use crate::http::extract::{ApiPath, JsonObject};
use crate::http::principal::Principal;
use crate::http::validate::Fields;
use crate::http::views::ErrorBody;
use crate::state::AppState;
use crate::store::events;
use crate::store::webhooks::{self, Webhook};

const UPDATE: &[Prop] = &[
    Prop { required: false, ..fields::URL },
    Prop { required: false, ..fields::EVENTS },
    fields::IS_ACTIVE,
    settings::HEADERS,
    settings::RATE_LIMIT,
];
body_schema!(UpdateWebhookRequest = UPDATE);

pub const HEADERS_STAY: &str =
    "headers must be given again with a new url: their values go only where they were set";

/// Change a webhook's URL, subscriptions, whether it is active, its custom headers or its rate
/// limit. An inactive webhook gets no new deliveries, and its pending ones are not attempted
/// again. Making an inactive webhook active starts it afresh: its failure streak, last error
/// and `disabledReason` are cleared.
#[utoipa::path(patch, path = "/api/organizations/{organizationId}/webhooks/{webhookId}", tag = "webhooks",
    security(("bearer" = []), ("oauth2" = ["webhooks:write"])), params(("organizationId" = Uuid, Path), ("webhookId" = Uuid, Path)),
    request_body = UpdateWebhookRequest,
    responses((status = 200, body = WebhookView), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((org_id, webhook_id)): ApiPath<(Uuid, Uuid)>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<WebhookView>> {
    let mut f = Fields::new(body, UPDATE);
    let url = f.take(&fields::URL);
    let url = url.map(|v| fields::url(&mut f, Some(v), state.config.webhook_allow_private));
    let events = f.take(&fields::EVENTS);
    let registered = fields::Registered::load_for(&state.db, events.as_ref()).await?;
    let events = events.map(|v| fields::events(&mut f, Some(v), &registered));
    let is_active = f.optional_bool(&fields::IS_ACTIVE);
    let headers = settings::headers_change(&mut f);
    let rate_limit = settings::rate_limit_change(&mut f);
    f.finish()?;

    let mut tx = state.db.begin_write().await?;
    // Lock order: the token's app and person, then the webhook, as revoking an app and
    // removing a member take them.
    let controller = hold_controller(&mut tx, &principal).await?;
    let (org, mut hook) = access::managed::<Webhook>(
        &mut tx,
        org_id,
        webhook_id,
        &principal,
        Scope::WebhooksWrite,
        "update webhooks",
        Hold::Row,
    )
    .await?;
    let before = hook.clone();
    let repointed = url.is_some();
    // Header values may be credentials for the receiver they were set for: whoever moves the
    // webhook elsewhere sets them again (or clears them), or they would follow it there.
    let moved = url.as_ref().is_some_and(|url| *url != hook.url);
    if moved && headers.is_none() && !hook.delivery.header_names.is_empty() {
        return Err(ApiError::Validation(vec![HEADERS_STAY.into()]));
    }
    if let Some(url) = url {
        hook.url = url;
    }
    if let Some(events) = events {
        registered.check_new_subscriptions(&events, &hook.events).map_err(ApiError::Validation)?;
        hook.events = events;
    }
    if let Some(active) = is_active {
        hook.is_active = active;
    }
    let headers_changed = match headers {
        Some(headers) => settings::replace_headers(&state.secret_box, &mut hook.delivery, headers)?,
        None => false,
    };
    if let Some(limit) = rate_limit {
        hook.delivery.rate_limit = limit;
    }
    settle_control(&mut tx, &mut hook, controller.as_ref(), repointed).await?;
    // Borrows of the field alone, so that `updated_at` can still be set.
    let names_before = before.event_names();
    let names: Vec<&str> = hook.events.iter().map(EventName::as_str).collect();
    let changes = WebhookChanges {
        url: Change::between(before.url.as_str(), hook.url.as_str()),
        events: Change::between(names_before.as_slice(), names.as_slice()),
        is_active: Change::between(before.is_active, hook.is_active),
        header_names: headers_changed.then_some(Change {
            previous: before.delivery.header_names.as_slice(),
            current: hook.delivery.header_names.as_slice(),
        }),
        rate_limit: Change::between(before.delivery.rate_limit, hook.delivery.rate_limit),
    };
    // A change of nothing, not even of who controls it, writes and records nothing.
    if changes.is_empty() && before.control() == hook.control() {
        return Ok(Json(hook.into()));
    }
    let now = state.clock.now();
    hook.updated_at = now;
    webhooks::update(&mut tx, &hook).await?;
    if hook.is_active && !before.is_active {
        webhooks::restart_health(&mut tx, hook.id).await?;
        hook.health = Default::default();
    }
    let data = WebhookUpdated { webhook_id: hook.id, changes };
    events::append(&mut tx, &NewEvent::of(&data, org.as_ref(), principal.actor(), now)).await?;
    tx.commit().await?;
    Ok(Json(hook.into()))
}

/// Delete a webhook. It gets no further attempts.
#[utoipa::path(delete, path = "/api/organizations/{organizationId}/webhooks/{webhookId}", tag = "webhooks",
    security(("bearer" = []), ("oauth2" = ["webhooks:write"])), params(("organizationId" = Uuid, Path), ("webhookId" = Uuid, Path)),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((org_id, webhook_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin_write().await?;
    let (org, hook) = access::managed::<Webhook>(
        &mut tx,
        org_id,
        webhook_id,
        &principal,
        Scope::WebhooksWrite,
        "delete webhooks",
        Hold::Row,
    )
    .await?;
    let now = state.clock.now();
    webhooks::mark_deleted(&mut tx, hook.id, now).await?;
    let names = hook.event_names();
    let data = WebhookDeleted(WebhookRef { webhook_id: hook.id, url: &hook.url, events: &names });
    events::append(&mut tx, &NewEvent::of(&data, org.as_ref(), principal.actor(), now)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
