//! The list of the viewer's organizations, creating one, and an organization's overview.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use uuid::Uuid;

use super::{Ids, Shown, done, failed, notice, organization, status_of};
use crate::console::form::{Form, Posted};
use crate::console::render::{self, Section};
use crate::console::session::Viewer;
use crate::console::{api, render::describe};
use crate::http::{events, organizations};
use crate::state::AppState;

const NOTICES: &[(&str, &str)] = &[
    ("created", "Organization created."),
    ("saved", "Settings saved."),
    ("left", "You left the organization."),
    ("joined", "Invite accepted: you are a member now."),
];

pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(shown): Query<Shown>,
) -> Response {
    list_page(&state, &viewer, &shown, &Form::default(), None).await
}

async fn list_page(
    state: &AppState,
    viewer: &Viewer,
    shown: &Shown,
    form: &Form,
    error: Option<(StatusCode, String)>,
) -> Response {
    let query = api::page(shown.cursor.as_deref(), &[]);
    let page = match api::json(
        organizations::list(api::state(state), viewer.principal.clone(), query).await,
    ) {
        Ok(page) => page,
        Err(load) => return failed(load, error.as_ref()),
    };
    let values = context! {
        organizations => render::of(&page.data),
        next_cursor => page.next_cursor,
        form => context! { name => form.value("name"), slug => form.value("slug") },
        notice => notice(shown.done.as_deref(), NOTICES),
        error => error.as_ref().map(|(_, message)| message),
    };
    render::page(status_of(&error), "organizations.html", viewer, Section::Organizations, values)
}

pub async fn create(State(state): State<AppState>, Posted { viewer, form }: Posted) -> Response {
    let body = api::body([("name", form.text("name")), ("slug", non_empty(&form, "slug"))]);
    match organizations::create(api::state(&state), viewer.principal.clone(), body).await {
        Ok((_, axum::Json(org))) => done(&format!("/console/organizations/{}", org.id), "created"),
        Err(error) => {
            list_page(&state, &viewer, &Shown::default(), &form, Some(describe(error))).await
        }
    }
}

pub async fn overview(
    State(state): State<AppState>,
    viewer: Viewer,
    Ids([org]): Ids<1>,
    Query(shown): Query<Shown>,
) -> Response {
    overview_page(&state, &viewer, org, &shown, None, None).await
}

async fn overview_page(
    state: &AppState,
    viewer: &Viewer,
    org_id: Uuid,
    shown: &Shown,
    form: Option<&Form>,
    error: Option<(StatusCode, String)>,
) -> Response {
    let org = match organization(state, &viewer.principal, org_id).await {
        Ok(org) => org,
        Err(load) => return failed(load, error.as_ref()),
    };
    let mut recent = api::page(None, &[]);
    recent.limit = 5;
    // The log is for OWNERs and ADMINs; a MEMBER's overview goes without it.
    let events =
        events::list_events(api::state(state), viewer.principal.clone(), api::path(org_id), recent)
            .await
            .ok()
            .map(|axum::Json(page)| page.data);
    let (name, slug) = match form {
        Some(form) => (form.value("name"), form.value("slug")),
        None => (org.name.as_str(), org.slug.as_str()),
    };
    let values = context! {
        form => context! { name => name, slug => slug },
        events => events.map(|events| render::of(&events)),
        notice => notice(shown.done.as_deref(), NOTICES),
        error => error.as_ref().map(|(_, message)| message),
        org => render::of(&org),
    };
    render::page(status_of(&error), "overview.html", viewer, Section::Overview, values)
}

pub async fn rename(
    State(state): State<AppState>,
    Ids([org]): Ids<1>,
    Posted { viewer, form }: Posted,
) -> Response {
    let body = api::body([("name", form.text("name")), ("slug", form.text("slug"))]);
    let change =
        organizations::update(api::state(&state), viewer.principal.clone(), api::path(org), body);
    match api::in_turn(&state, org, change).await {
        Ok(_) => done(&format!("/console/organizations/{org}"), "saved"),
        Err(error) => {
            let error = Some(describe(error));
            overview_page(&state, &viewer, org, &Shown::default(), Some(&form), error).await
        }
    }
}

/// A field left empty, for an optional value: absent, so the API applies its default.
pub fn non_empty(form: &Form, name: &str) -> Option<serde_json::Value> {
    let value = form.get(name).filter(|v| !v.trim().is_empty());
    value.map(|v| serde_json::Value::String(v.to_owned()))
}
