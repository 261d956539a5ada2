//! Changing an OAuth app's name, redirect URIs or scopes. Narrowed scopes apply to the app's
//! tokens at once, and for good.

use axum::Json;
use axum::extract::State;
use uuid::Uuid;

use super::views::OAuthAppView;
use super::{app_ref, fields, held, revoked};
use crate::domain::event::{Change, NewEvent, OauthAppChanges, OauthAppUpdated};
use crate::error::ApiResult;
use crate::http::body::{Prop, body_schema};
use crate::http::extract::{ApiPath, JsonObject};
use crate::http::principal::Principal;
use crate::http::validate::Fields;
use crate::http::views::ErrorBody;
use crate::http::webhooks::access::narrow_app_webhooks;
use crate::state::AppState;
use crate::store::{events, oauth_apps, oauth_grants};

const UPDATE: &[Prop] = &[
    Prop { required: false, ..fields::NAME },
    Prop { required: false, ..fields::REDIRECT_URIS },
    Prop { required: false, ..fields::SCOPES }
        .about("Narrowing the scopes narrows every token the app holds at once."),
];
body_schema!(UpdateOAuthAppRequest = UPDATE);

/// Change an app's name, redirect URIs or scopes. Narrowed scopes apply to its tokens at once.
#[utoipa::path(patch, path = "/api/organizations/{organizationId}/oauth-apps/{appId}", tag = "oauth-apps",
    security(("bearer" = [])), params(("organizationId" = Uuid, Path), ("appId" = Uuid, Path)),
    request_body = UpdateOAuthAppRequest,
    responses((status = 200, body = OAuthAppView), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody),
               (status = 409, body = ErrorBody, description = "OAuth app is revoked")))]
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((org_id, app_id)): ApiPath<(Uuid, Uuid)>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<OAuthAppView>> {
    let mut f = Fields::new(body, UPDATE);
    let name = f.optional_text(&fields::NAME);
    let uris = f.take(&fields::REDIRECT_URIS);
    let uris = uris.map(|v| fields::redirect_uris(&mut f, Some(v)));
    let scopes = f.take(&fields::SCOPES);
    let scopes = scopes.map(|v| fields::scopes(&mut f, Some(v)));
    f.finish()?;

    let mut tx = state.db.begin_write().await?;
    let (org, mut app) = held(&mut tx, org_id, app_id, &principal).await?;
    if !app.is_active() {
        return Err(revoked());
    }
    let before = app.clone();
    if let Some(name) = name {
        app.name = name;
    }
    if let Some(uris) = uris {
        app.redirect_uris = uris;
    }
    if let Some(scopes) = scopes {
        app.scopes = scopes;
    }
    let (scopes_before, scopes) = (before.scopes.names(), app.scopes.names());
    let changes = OauthAppChanges {
        name: Change::between(before.name.as_str(), app.name.as_str()),
        redirect_uris: Change::between(before.redirect_uris.as_slice(), &app.redirect_uris),
        scopes: Change::between(scopes_before.as_slice(), scopes.as_slice()),
    };
    if changes.is_empty() {
        return Ok(Json(app.into()));
    }
    let now = state.clock.now();
    // Dropped scopes leave the app's tokens for good, not only while the app lacks them.
    oauth_grants::remove_scopes(&mut tx, app.id, &before.scopes.without(&app.scopes), now).await?;
    // Its webhooks would otherwise keep handing it what it may no longer read.
    narrow_app_webhooks(&mut tx, app.id, &app.scopes, now).await?;
    app.updated_at = now;
    oauth_apps::update(&mut tx, &app).await?;
    let data = OauthAppUpdated { app: app_ref(&app), changes };
    events::append(&mut tx, &NewEvent::of(&data, org.as_ref(), principal.actor(), now)).await?;
    tx.commit().await?;
    Ok(Json(app.into()))
}
