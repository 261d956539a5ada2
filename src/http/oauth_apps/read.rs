//! Reading OAuth apps: the organization's list and one by ID, revoked ones included. No
//! secrets.

use axum::Json;
use axum::extract::State;
use uuid::Uuid;

use super::views::OAuthAppView;
use crate::error::ApiResult;
use crate::http::access::{self, Hold, Need};
use crate::http::extract::{ApiPath, ListQuery, PageParams, cursor};
use crate::http::principal::Principal;
use crate::http::views::{ErrorBody, Page};
use crate::state::AppState;
use crate::store::oauth_apps::{self, OAuthApp};

/// The organization's OAuth apps, newest first, revoked ones included. No secrets.
#[utoipa::path(get, path = "/api/organizations/{organizationId}/oauth-apps", tag = "oauth-apps",
    security(("bearer" = [])),
    params(("organizationId" = Uuid, Path), PageParams),
    responses((status = 200, body = Page<OAuthAppView>), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(org_id): ApiPath<Uuid>,
    query: ListQuery,
) -> ApiResult<Json<Page<OAuthAppView>>> {
    let before = cursor::decode_uuid(query.cursor.as_deref())?;
    let mut conn = state.db.acquire().await?;
    access::as_manager(&mut conn, org_id, &principal, Need::NoOAuth, "view OAuth apps").await?;
    let rows = oauth_apps::list(&mut conn, org_id, before, query.limit + 1).await?;
    Ok(Json(Page::from_rows(rows, query.limit, |a| a.id.to_string(), OAuthAppView::from)))
}

/// One OAuth app, without its secret.
#[utoipa::path(get, path = "/api/organizations/{organizationId}/oauth-apps/{appId}", tag = "oauth-apps",
    security(("bearer" = [])), params(("organizationId" = Uuid, Path), ("appId" = Uuid, Path)),
    responses((status = 200, body = OAuthAppView), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((org_id, app_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<Json<OAuthAppView>> {
    let mut conn = state.db.acquire().await?;
    let (_, app) = access::managed::<OAuthApp>(
        &mut conn,
        org_id,
        app_id,
        &principal,
        Need::NoOAuth,
        "view OAuth apps",
        Hold::Nothing,
    )
    .await?;
    Ok(Json(app.into()))
}
