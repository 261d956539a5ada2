//! An organization's members: adding one by email, changing a role, removing one, leaving.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use uuid::Uuid;

use super::{Ids, Shown, done, notice, org_list, status_of};
use crate::console::api;
use crate::console::form::{Form, Posted};
use crate::console::render::{self, Section, describe};
use crate::console::session::Viewer;
use crate::http::members;
use crate::state::AppState;

pub const ROLES: [&str; 3] = ["OWNER", "ADMIN", "MEMBER"];
const NOTICES: &[(&str, &str)] =
    &[("added", "Member added."), ("role", "Role changed."), ("removed", "Member removed.")];

pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Ids([org]): Ids<1>,
    Query(shown): Query<Shown>,
) -> Response {
    members_page(&state, &viewer, org, &shown, &Form::default(), None).await
}

async fn members_page(
    state: &AppState,
    viewer: &Viewer,
    org_id: Uuid,
    shown: &Shown,
    form: &Form,
    error: Option<(StatusCode, String)>,
) -> Response {
    let cursor = shown.cursor.as_deref();
    let (org, page) =
        match org_list(state, &viewer.principal, org_id, cursor, error.as_ref(), members::list)
            .await
        {
            Ok(found) => found,
            Err(page) => return *page,
        };
    let values = context! {
        manager => org.role != crate::domain::role::Role::Member,
        members => render::of(&page.data),
        next_cursor => page.next_cursor,
        viewer_id => viewer.user_id().to_string(),
        roles => ROLES,
        form => context! { email => form.value("email"), role => form.value("role") },
        notice => notice(shown.done.as_deref(), NOTICES),
        error => error.as_ref().map(|(_, message)| message),
        org => render::of(&org),
    };
    render::page(status_of(&error), "members.html", viewer, Section::Members, values)
}

/// What each form's answer is: back to the list with a notice, or the list with the error.
async fn answer(
    state: &AppState,
    viewer: &Viewer,
    org: Uuid,
    form: &Form,
    outcome: Result<&str, crate::error::ApiError>,
) -> Response {
    match outcome {
        Ok(key) => done(&format!("/console/organizations/{org}/members"), key),
        Err(error) => {
            members_page(state, viewer, org, &Shown::default(), form, Some(describe(error))).await
        }
    }
}

pub async fn add(
    State(state): State<AppState>,
    Ids([org]): Ids<1>,
    Posted { viewer, form }: Posted,
) -> Response {
    let body = api::body([("email", form.text("email")), ("role", form.text("role"))]);
    let change = members::add(api::state(&state), viewer.principal.clone(), api::path(org), body);
    let outcome = api::in_turn(&state, org, change).await.map(|_| "added");
    answer(&state, &viewer, org, &form, outcome).await
}

pub async fn change_role(
    State(state): State<AppState>,
    Ids([org, user]): Ids<2>,
    Posted { viewer, form }: Posted,
) -> Response {
    let body = api::body([("role", form.text("role"))]);
    let change =
        members::update(api::state(&state), viewer.principal.clone(), api::path((org, user)), body);
    let outcome = api::in_turn(&state, org, change).await.map(|_| "role");
    answer(&state, &viewer, org, &Form::default(), outcome).await
}

pub async fn remove(
    State(state): State<AppState>,
    Ids([org, user]): Ids<2>,
    Posted { viewer, form: _ }: Posted,
) -> Response {
    let change =
        members::remove(api::state(&state), viewer.principal.clone(), api::path((org, user)));
    match api::in_turn(&state, org, change).await {
        // Who left no longer sees the organization.
        Ok(_) if user == viewer.user_id() => done("/console", "left"),
        outcome => answer(&state, &viewer, org, &Form::default(), outcome.map(|_| "removed")).await,
    }
}
