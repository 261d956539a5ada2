//! Revoking an OAuth app: its tokens stop working at once, its webhooks stop, and it gets no
//! new tokens.

use axum::Json;
use axum::extract::State;
use uuid::Uuid;

use super::views::OAuthAppView;
use super::{app_ref, held};
use crate::domain::event::{NewEvent, OauthAppRevoked};
use crate::error::ApiResult;
use crate::http::extract::ApiPath;
use crate::http::principal::Principal;
use crate::http::views::ErrorBody;
use crate::state::AppState;
use crate::store::oauth_apps::{self, AppStatus};
use crate::store::{events, webhooks};

/// Revoke an app: every token it holds stops working at once, and it gets no new ones.
/// Revoking a revoked app changes nothing.
#[utoipa::path(post, path = "/api/organizations/{organizationId}/oauth-apps/{appId}/revoke",
    tag = "oauth-apps", security(("bearer" = [])),
    params(("organizationId" = Uuid, Path), ("appId" = Uuid, Path)),
    responses((status = 200, body = OAuthAppView), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((org_id, app_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<Json<OAuthAppView>> {
    let mut tx = state.db.begin_write().await?;
    let (org, mut app) = held(&mut tx, org_id, app_id, &principal).await?;
    if !app.is_active() {
        return Ok(Json(app.into()));
    }
    app.status = AppStatus::Revoked;
    app.updated_at = state.clock.now();
    oauth_apps::update(&mut tx, &app).await?;
    // Its webhooks would otherwise keep handing it the organization's events.
    webhooks::orphan_of_app(&mut tx, app.id, app.updated_at).await?;
    let data = OauthAppRevoked(app_ref(&app));
    events::append(&mut tx, &NewEvent::of(&data, org.as_ref(), principal.actor(), app.updated_at))
        .await?;
    tx.commit().await?;
    Ok(Json(app.into()))
}
