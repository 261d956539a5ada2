//! Test deliveries: one `webhook.test` event, delivered only to the webhook under test,
//! whatever it subscribes to.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use super::access::ensure_active;
use super::views::Requeued;
use crate::domain::event::{NewEvent, WebhookTest};
use crate::domain::scope::Scope;
use crate::error::ApiResult;
use crate::http::access::{self, Hold};
use crate::http::extract::ApiPath;
use crate::http::principal::Principal;
use crate::http::views::ErrorBody;
use crate::state::AppState;
use crate::store::events;
use crate::store::webhooks::Webhook;

/// Send one `webhook.test` delivery with sample data, whatever the subscriptions.
#[utoipa::path(post, path = "/api/organizations/{organizationId}/webhooks/{webhookId}/test",
    tag = "webhooks", security(("bearer" = []), ("oauth2" = ["webhooks:write"])),
    params(("organizationId" = Uuid, Path), ("webhookId" = Uuid, Path)),
    responses((status = 202, body = Requeued), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody),
               (status = 409, body = ErrorBody, description = "The webhook is inactive")))]
pub async fn test(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((org_id, webhook_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<(StatusCode, Json<Requeued>)> {
    let mut tx = state.db.begin_write().await?;
    let (org, hook) = access::managed::<Webhook>(
        &mut tx,
        org_id,
        webhook_id,
        &principal,
        Scope::WebhooksWrite,
        "test webhooks",
        Hold::Row,
    )
    .await?;
    ensure_active(&hook)?;
    let data = WebhookTest { webhook_id: hook.id, message: WebhookTest::MESSAGE };
    let event = NewEvent::of(&data, org.as_ref(), principal.actor(), state.clock.now());
    events::append_for(&mut tx, &event, &[hook.id]).await?;
    tx.commit().await?;
    Ok((StatusCode::ACCEPTED, Json(Requeued { requeued: 1 })))
}
