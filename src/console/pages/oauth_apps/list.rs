//! The organization's OAuth apps, and registering one: its client secret is shown once, on
//! the new app's page.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use uuid::Uuid;

use super::{detail, form_values, scopes, settings_body};
use crate::console::api;
use crate::console::form::{Form, Posted};
use crate::console::pages::detail::Detail;
use crate::console::pages::{Ids, Shown, notice, org_list, status_of};
use crate::console::render::{self, Section, describe};
use crate::console::session::Viewer;
use crate::http::oauth_apps;
use crate::state::AppState;

const NOTICES: &[(&str, &str)] = &[("revoked", "App revoked: its tokens no longer work.")];

pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Ids([org]): Ids<1>,
    Query(shown): Query<Shown>,
) -> Response {
    list_page(&state, &viewer, org, &shown, &Form::default(), None).await
}

async fn list_page(
    state: &AppState,
    viewer: &Viewer,
    org_id: Uuid,
    shown: &Shown,
    form: &Form,
    error: Option<(StatusCode, String)>,
) -> Response {
    let cursor = shown.cursor.as_deref();
    let listed =
        org_list(state, &viewer.principal, org_id, cursor, error.as_ref(), oauth_apps::read::list);
    let (org, page) = match listed.await {
        Ok(found) => found,
        Err(page) => return *page,
    };
    let values = context! {
        apps => render::of(&page.data),
        next_cursor => page.next_cursor,
        scopes => scopes(),
        form => form_values(form),
        notice => notice(shown.done.as_deref(), NOTICES),
        error => error.as_ref().map(|(_, message)| message),
        org => render::of(&org),
    };
    render::page(status_of(&error), "oauth_apps.html", viewer, Section::OauthApps, values)
}

pub async fn create(
    State(state): State<AppState>,
    Ids([org]): Ids<1>,
    Posted { viewer, form }: Posted,
) -> Response {
    let body = api::body(settings_body(&form));
    let change = oauth_apps::create::create(
        api::state(&state),
        viewer.principal.clone(),
        api::path(org),
        body,
    );
    match api::in_turn(&state, org, change).await {
        Ok((_, axum::Json(created))) => {
            let shown =
                Detail::secret(created.client_secret, "App registered: here is its client secret");
            detail::app_page(&state, &viewer, (org, created.app.id), StatusCode::CREATED, shown)
                .await
        }
        Err(error) => {
            list_page(&state, &viewer, org, &Shown::default(), &form, Some(describe(error))).await
        }
    }
}
