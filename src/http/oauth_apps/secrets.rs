//! Rotating an app's client secret. The previous one keeps working for the configured
//! overlap ([`crate::domain::secret::retired_at`]), so every instance of the app can switch.

use axum::Json;
use axum::extract::State;
use uuid::Uuid;

use super::views::OAuthAppWithSecret;
use super::{app_ref, held, revoked};
use crate::auth::token;
use crate::domain::event::{NewEvent, OauthAppSecretRotated};
use crate::domain::secret;
use crate::error::ApiResult;
use crate::http::extract::ApiPath;
use crate::http::principal::Principal;
use crate::http::views::ErrorBody;
use crate::state::AppState;
use crate::store::{events, oauth_apps};

/// Issue a new client secret. The previous one keeps working for 24 hours, so that every
/// instance of the app can switch over.
#[utoipa::path(post, path = "/api/organizations/{organizationId}/oauth-apps/{appId}/rotate-secret",
    tag = "oauth-apps", security(("bearer" = [])),
    params(("organizationId" = Uuid, Path), ("appId" = Uuid, Path)),
    responses((status = 200, body = OAuthAppWithSecret), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody),
               (status = 409, body = ErrorBody, description = "OAuth app is revoked")))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((org_id, app_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<Json<OAuthAppWithSecret>> {
    let (secret, digest) = token::client_secret();
    let mut tx = state.db.begin_write().await?;
    let (org, mut app) = held(&mut tx, org_id, app_id, &principal).await?;
    if !app.is_active() {
        return Err(revoked());
    }
    let now = state.clock.now();
    let retired_at = secret::retired_at(now, state.config.oauth_secret_overlap);
    oauth_apps::rotate_secret(&mut tx, app.id, &digest, retired_at, now).await?;
    let data = OauthAppSecretRotated { app: app_ref(&app), previous_secret_expires_at: retired_at };
    events::append(&mut tx, &NewEvent::of(&data, org.as_ref(), principal.actor(), now)).await?;
    tx.commit().await?;
    app.updated_at = now;
    Ok(Json(OAuthAppWithSecret { app: app.into(), client_secret: secret }))
}
