//! A webhook's deliveries: the log of every attempt, and a fresh attempt chain for one that
//! has finished.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use super::access::ensure_active;
use super::views::{DeliveryView, Requeued};
use crate::domain::scope::Scope;
use crate::error::{ApiError, ApiResult};
use crate::http::access::{self, Hold};
use crate::http::extract::{ApiPath, ListQuery, PageParams, cursor};
use crate::http::principal::Principal;
use crate::http::views::{ErrorBody, Page};
use crate::state::AppState;
use crate::store::deliveries::{self, DeliveryStatus};
use crate::store::webhooks::Webhook;

/// The webhook's deliveries, newest first, each with its latest attempts and how many there
/// have been; only those in one state with `?status=`.
#[utoipa::path(get, path = "/api/organizations/{organizationId}/webhooks/{webhookId}/deliveries",
    tag = "webhooks", security(("bearer" = []), ("oauth2" = ["webhooks:read"])),
    params(("organizationId" = Uuid, Path), ("webhookId" = Uuid, Path),
           ("status" = Option<DeliveryStatus>, Query), PageParams),
    responses((status = 200, body = Page<DeliveryView>), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody)))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((org_id, webhook_id)): ApiPath<(Uuid, Uuid)>,
    query: ListQuery,
) -> ApiResult<Json<Page<DeliveryView>>> {
    let before = cursor::decode_uuid(query.cursor.as_deref())?;
    let status = query.choice("status", &DeliveryStatus::CHOICES)?;
    let mut conn = state.db.acquire().await?;
    super::access::check_delivery_reader(&mut conn, org_id, webhook_id, &principal).await?;
    let rows = deliveries::list(&mut conn, webhook_id, status, before, query.limit + 1).await?;
    Ok(Json(Page::from_rows(rows, query.limit, |d| d.id.to_string(), DeliveryView::from)))
}

/// Start a fresh attempt chain for a finished delivery.
#[utoipa::path(post,
    path = "/api/organizations/{organizationId}/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver",
    tag = "webhooks", security(("bearer" = []), ("oauth2" = ["webhooks:write"])),
    params(("organizationId" = Uuid, Path), ("webhookId" = Uuid, Path), ("deliveryId" = Uuid, Path)),
    responses((status = 202, body = Requeued), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody),
               (status = 409, body = ErrorBody,
                description = "The delivery is still pending, or the webhook is inactive")))]
pub async fn redeliver(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((org_id, webhook_id, delivery_id)): ApiPath<(Uuid, Uuid, Uuid)>,
) -> ApiResult<(StatusCode, Json<Requeued>)> {
    let mut tx = state.db.begin_write().await?;
    let (_, hook) = access::managed::<Webhook>(
        &mut tx,
        org_id,
        webhook_id,
        &principal,
        Scope::WebhooksWrite,
        "redeliver webhooks",
        Hold::Row,
    )
    .await?;
    match deliveries::find_status(&mut tx, webhook_id, delivery_id).await? {
        None => return Err(ApiError::not_found("Delivery")),
        Some(DeliveryStatus::Pending) => {
            return Err(ApiError::conflict("Delivery is still pending"));
        }
        Some(_) => {
            ensure_active(&hook)?;
            deliveries::restart(&mut tx, delivery_id, state.clock.now()).await?
        }
    }
    tx.commit().await?;
    Ok((StatusCode::ACCEPTED, Json(Requeued { requeued: 1 })))
}
