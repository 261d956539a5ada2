//! Reading webhooks: the organization's list and one by ID. Secrets are never shown here.

use axum::Json;
use axum::extract::State;
use uuid::Uuid;

use super::views::WebhookView;
use crate::domain::scope::Scope;
use crate::error::ApiResult;
use crate::http::access::{self, Hold};
use crate::http::extract::{ApiPath, ListQuery, PageParams, cursor};
use crate::http::principal::Principal;
use crate::http::views::{ErrorBody, Page};
use crate::state::AppState;
use crate::store::webhooks::{self, Webhook};

/// The organization's webhooks, newest first. Secrets are never listed.
#[utoipa::path(get, path = "/api/organizations/{organizationId}/webhooks", tag = "webhooks",
    security(("bearer" = []), ("oauth2" = ["webhooks:read"])),
    params(("organizationId" = Uuid, Path), PageParams),
    responses((status = 200, body = Page<WebhookView>), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(org_id): ApiPath<Uuid>,
    query: ListQuery,
) -> ApiResult<Json<Page<WebhookView>>> {
    let before = cursor::decode_uuid(query.cursor.as_deref())?;
    let mut conn = state.db.acquire().await?;
    access::as_manager(&mut conn, org_id, &principal, Scope::WebhooksRead, "view webhooks").await?;
    let rows = webhooks::list(&mut conn, org_id, before, query.limit + 1).await?;
    Ok(Json(Page::from_rows(rows, query.limit, |w| w.id.to_string(), WebhookView::from)))
}

/// One webhook, without its secret.
#[utoipa::path(get, path = "/api/organizations/{organizationId}/webhooks/{webhookId}", tag = "webhooks",
    security(("bearer" = []), ("oauth2" = ["webhooks:read"])), params(("organizationId" = Uuid, Path), ("webhookId" = Uuid, Path)),
    responses((status = 200, body = WebhookView), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((org_id, webhook_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<Json<WebhookView>> {
    let mut conn = state.db.acquire().await?;
    let (_, hook) = access::managed::<Webhook>(
        &mut conn,
        org_id,
        webhook_id,
        &principal,
        Scope::WebhooksRead,
        "view webhooks",
        Hold::Nothing,
    )
    .await?;
    Ok(Json(hook.into()))
}
