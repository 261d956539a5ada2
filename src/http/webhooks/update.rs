//! Changing a webhook, and deleting it. An inactive or deleted webhook gets no new
//! deliveries, and its pending ones are not attempted again.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use super::access::{check_readable, hold_app};
use super::fields;
use super::views::WebhookView;
use crate::domain::scope::Scope;
use crate::error::ApiResult;
use crate::http::access::{self, Hold};
use crate::http::body::{Prop, body_schema};
use crate::http::extract::{ApiPath, JsonObject};
use crate::http::principal::Principal;
use crate::http::validate::Fields;
use crate::http::views::ErrorBody;
use crate::state::AppState;
use crate::store::webhooks::{self, Webhook};

const UPDATE: &[Prop] = &[
    Prop { required: false, ..fields::URL },
    Prop { required: false, ..fields::EVENTS },
    fields::IS_ACTIVE,
];
body_schema!(UpdateWebhookRequest = UPDATE);

/// Change a webhook's URL, subscriptions or whether it is active. An inactive webhook gets no
/// new deliveries, and its pending ones are not attempted again.
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
    let events = events.map(|v| fields::events(&mut f, Some(v)));
    let is_active = f.optional_bool(&fields::IS_ACTIVE);
    f.finish()?;

    let mut tx = state.db.begin_write().await?;
    // Lock order app, then webhook, as revoking an app takes them.
    hold_app(&mut tx, &principal).await?;
    let (_, mut hook) = access::managed::<Webhook>(
        &mut tx,
        org_id,
        webhook_id,
        &principal,
        Scope::WebhooksWrite,
        "update webhooks",
        Hold::Row,
    )
    .await?;
    if let Some(url) = url {
        hook.url = url;
    }
    if let Some(events) = events {
        hook.events = events;
    }
    if let Some(active) = is_active {
        hook.is_active = active;
    }
    check_readable(&mut tx, &principal, &hook.events).await?;
    hook.updated_at = state.clock.now();
    webhooks::update(&mut tx, &hook).await?;
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
    let (_, hook) = access::managed::<Webhook>(
        &mut tx,
        org_id,
        webhook_id,
        &principal,
        Scope::WebhooksWrite,
        "delete webhooks",
        Hold::Row,
    )
    .await?;
    webhooks::mark_deleted(&mut tx, hook.id, state.clock.now()).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
