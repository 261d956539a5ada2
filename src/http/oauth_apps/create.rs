//! Registering an OAuth app. Its client secret is in this answer only.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::views::{OAuthAppView, OAuthAppWithSecret};
use super::{app_ref, fields};
use crate::auth::token;
use crate::domain::event::{NewEvent, OauthAppCreated};
use crate::error::{ApiError, ApiResult};
use crate::http::access::{self, Need};
use crate::http::extract::{ApiPath, JsonObject};
use crate::http::principal::Principal;
use crate::http::quota;
use crate::http::validate::Fields;
use crate::http::views::ErrorBody;
use crate::state::AppState;
use crate::store::oauth_apps::{self, AppStatus, OAuthApp};
use crate::store::{events, organizations};

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateOAuthAppRequest {
    #[schema(example = "Acme CRM sync")]
    pub name: String,
    /// 1–10 absolute URLs of at most 2048 characters: `https://…`, or
    /// `http://localhost…`/`http://127.0.0.1…`/`http://[::1]…` for native apps; no fragment,
    /// no user info, no whitespace or control characters. Matched exactly.
    #[schema(example = json!(["https://crm.example.com/oauth/callback"]))]
    pub redirect_uris: Vec<String>,
    #[schema(example = json!(["members:read", "webhooks:write"]))]
    pub scopes: Vec<String>,
}

/// Register an OAuth app. Its client secret is in this answer only.
#[utoipa::path(post, path = "/api/organizations/{id}/oauth-apps", tag = "oauth-apps",
    security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = CreateOAuthAppRequest,
    responses((status = 201, body = OAuthAppWithSecret), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(org_id): ApiPath<Uuid>,
    JsonObject(mut body): JsonObject,
) -> ApiResult<(StatusCode, Json<OAuthAppWithSecret>)> {
    let uris = body.remove("redirectUris");
    let scopes = body.remove("scopes");
    let mut f = Fields::new(body, &["name"]);
    let name = f.text("name", fields::NAME_MAX);
    let redirect_uris = fields::redirect_uris(&mut f, uris);
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
