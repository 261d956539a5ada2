//! Registering an OAuth app. Its client secret is in this answer only.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use super::views::{OAuthAppView, OAuthAppWithSecret};
use super::{app_ref, fields};
use crate::auth::token;
use crate::domain::event::{NewEvent, OauthAppCreated};
use crate::error::{ApiError, ApiResult};
use crate::http::access::{self, Need};
use crate::http::body::{Prop, body_schema};
use crate::http::extract::{ApiPath, JsonObject};
use crate::http::principal::Principal;
use crate::http::quota;
use crate::http::validate::Fields;
use crate::http::views::ErrorBody;
use crate::state::AppState;
use crate::store::oauth_apps::{self, AppStatus, OAuthApp};
use crate::store::{events, organizations};

const CREATE: &[Prop] = &[fields::NAME, fields::REDIRECT_URIS, fields::SCOPES];
body_schema!(CreateOAuthAppRequest = CREATE);

/// Register an OAuth app. Its client secret is in this answer only.
#[utoipa::path(post, path = "/api/organizations/{organizationId}/oauth-apps", tag = "oauth-apps",
    security(("bearer" = [])), params(("organizationId" = Uuid, Path)), request_body = CreateOAuthAppRequest,
    responses((status = 201, body = OAuthAppWithSecret), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody),
               (status = 409, body = ErrorBody, description = "The organization's OAuth app quota is reached")))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(org_id): ApiPath<Uuid>,
    JsonObject(body): JsonObject,
) -> ApiResult<(StatusCode, Json<OAuthAppWithSecret>)> {
    let mut f = Fields::new(body, CREATE);
    let name = f.text(&fields::NAME);
    let uris = f.take(&fields::REDIRECT_URIS);
    let redirect_uris = fields::redirect_uris(&mut f, uris);
    let scopes = f.take(&fields::SCOPES);
    let scopes = fields::scopes(&mut f, scopes);
    f.finish()?;

    let (secret, digest) = token::client_secret();
    let mut tx = state.db.begin_write().await?;
    let (org, _) =
        access::as_manager(&mut tx, org_id, &principal, Need::NoOAuth, "create OAuth apps").await?;
    // Locked after the access check, so that concurrent creations are counted in turn.
    if !organizations::lock(&mut tx, org.id).await? {
        return Err(ApiError::not_found("Organization"));
    }
    quota::oauth_app(&mut tx, &state.config.quotas, org.id).await?;
    let now = state.clock.now();
    let app = OAuthApp {
        id: Uuid::now_v7(),
        organization_id: org.id,
        name,
        client_id: token::client_id(),
        redirect_uris,
        scopes,
        status: AppStatus::Active,
        created_at: now,
        updated_at: now,
    };
    oauth_apps::insert(&mut tx, &app, &digest).await?;
    let scopes = app.scopes.names();
    let data = OauthAppCreated { app: app_ref(&app), scopes: &scopes };
    events::append(&mut tx, &NewEvent::of(&data, org.as_ref(), principal.actor(), now)).await?;
    tx.commit().await?;
    let app = OAuthAppView::from(app);
    Ok((StatusCode::CREATED, Json(OAuthAppWithSecret { app, client_secret: secret })))
}
