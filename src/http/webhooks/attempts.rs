//! Every attempt of one delivery, a page at a time: the deliveries list shows only the
//! latest few of each, since a delivery redelivered again and again has no bound.

use axum::Json;
use axum::extract::State;
use uuid::Uuid;

use super::views::AttemptView;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{ApiPath, ListQuery, PageParams, cursor};
use crate::http::principal::Principal;
use crate::http::views::{ErrorBody, Page};
use crate::state::AppState;
use crate::store::deliveries;

/// The delivery's attempts, oldest first.
#[utoipa::path(get,
    path = "/api/organizations/{organizationId}/webhooks/{webhookId}/deliveries/{deliveryId}/attempts",
    tag = "webhooks", security(("bearer" = []), ("oauth2" = ["webhooks:read"])),
    params(("organizationId" = Uuid, Path), ("webhookId" = Uuid, Path), ("deliveryId" = Uuid, Path),
           PageParams),
    responses((status = 200, body = Page<AttemptView>), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody)))]
pub async fn list_attempts(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((org_id, webhook_id, delivery_id)): ApiPath<(Uuid, Uuid, Uuid)>,
    query: ListQuery,
) -> ApiResult<Json<Page<AttemptView>>> {
    let after = match query.cursor.as_deref() {
        None => 0,
        Some(c) => cursor::decode(c)?.parse::<i64>().map_err(|_| cursor::invalid())?,
    };
    let mut conn = state.db.acquire().await?;
    super::access::check_delivery_reader(&mut conn, org_id, webhook_id, &principal).await?;
    let rows = deliveries::attempts(&mut conn, webhook_id, delivery_id, after, query.limit + 1)
        .await?
        .ok_or_else(|| ApiError::not_found("Delivery"))?;
    Ok(Json(Page::from_rows(rows, query.limit, |a| a.number.to_string(), AttemptView::from)))
}
