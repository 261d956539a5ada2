//! One OAuth app: its client ID and settings, editing them, rotating its client secret (the
//! new one shown once) and revoking it.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use uuid::Uuid;

use super::{form_values, scopes, settings_body};
use crate::console::api;
use crate::console::form::{Form, Posted};
use crate::console::pages::detail::{Detail, org_and};
use crate::console::pages::{self, Ids, done};
use crate::console::render::{self, Section};
use crate::console::session::Viewer;
use crate::error::ApiError;
use crate::http::oauth_apps;
use crate::state::AppState;

const NOTICES: &[(&str, &str)] = &[("saved", "App saved.")];

pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Ids([org, app]): Ids<2>,
    Query(query): Query<pages::Shown>,
) -> Response {
    app_page(&state, &viewer, (org, app), StatusCode::OK, Detail::from_query(query)).await
}

pub async fn app_page(
    state: &AppState,
    viewer: &Viewer,
    (org_id, app_id): (Uuid, Uuid),
    status: StatusCode,
    shown: Detail,
) -> Response {
    let path = api::path((org_id, app_id));
    let read = oauth_apps::read::get(api::state(state), viewer.principal.clone(), path);
    let (org, app) = match org_and(state, viewer, org_id, &shown, read).await {
        Ok(found) => found,
        Err(page) => return *page,
    };
    let form = match &shown.form {
        Some(form) => form_values(form),
        None => context! {
            name => app.name.clone(),
            redirectUris => app.redirect_uris.join("\n"),
            scopes => app.scopes.clone(),
        },
    };
    let values = context! {
        ..shown.values(NOTICES),
        ..context! {
        base => format!("/console/organizations/{org_id}/oauth-apps/{app_id}"),
        app => render::of(&app),
        scopes => scopes(),
        form => form,
        org => render::of(&org),
        }
    };
    render::page(shown.status(status), "oauth_app.html", viewer, Section::OauthApps, values)
}

/// After a form: to `then` (a path and a notice key), or the app's page with the refusal.
async fn answer(
    state: &AppState,
    viewer: &Viewer,
    (org, app): (Uuid, Uuid),
    form: Form,
    outcome: Result<(String, &str), ApiError>,
) -> Response {
    match outcome {
        Ok((path, key)) => done(&path, key),
        Err(error) => {
            app_page(state, viewer, (org, app), StatusCode::OK, Detail::refused(form, error)).await
        }
    }
}

pub async fn edit(
    State(state): State<AppState>,
    Ids([org, app]): Ids<2>,
    Posted { viewer, form }: Posted,
) -> Response {
    let body = api::body(settings_body(&form));
    let path = api::path((org, app));
    let change =
        oauth_apps::update::update(api::state(&state), viewer.principal.clone(), path, body);
    let then = format!("/console/organizations/{org}/oauth-apps/{app}");
    let outcome = api::in_turn(&state, org, change).await.map(|_| (then, "saved"));
    answer(&state, &viewer, (org, app), form, outcome).await
}

pub async fn rotate(
    State(state): State<AppState>,
    Ids([org, app]): Ids<2>,
    Posted { viewer, .. }: Posted,
) -> Response {
    let path = api::path((org, app));
    let change =
        oauth_apps::secrets::rotate_secret(api::state(&state), viewer.principal.clone(), path);
    let shown = match api::in_turn(&state, org, change).await {
        Ok(axum::Json(rotated)) => Detail::secret(
            rotated.client_secret,
            "Secret rotated: here is the new one (the previous one works for a while longer)",
        ),
        Err(error) => Detail::refused(Form::default(), error),
    };
    app_page(&state, &viewer, (org, app), StatusCode::OK, shown).await
}

pub async fn revoke(
    State(state): State<AppState>,
    Ids([org, app]): Ids<2>,
    Posted { viewer, .. }: Posted,
) -> Response {
    let path = api::path((org, app));
    let change = oauth_apps::revoke::revoke(api::state(&state), viewer.principal.clone(), path);
    let then = format!("/console/organizations/{org}/oauth-apps");
    let outcome = api::in_turn(&state, org, change).await.map(|_| (then, "revoked"));
    answer(&state, &viewer, (org, app), Form::default(), outcome).await
}
