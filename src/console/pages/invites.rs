//! An organization's invites: creating one (its link shown once), listing, cancelling.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::{Value, context};
use serde_json::Value as Json;
use uuid::Uuid;

use super::members::ROLES;
use super::{Ids, Shown, done, notice, org_list, status_of};
use crate::console::api;
use crate::console::form::{Form, Posted};
use crate::console::render::{self, Section, describe};
use crate::console::session::Viewer;
use crate::http::invites;
use crate::state::AppState;

const NOTICES: &[(&str, &str)] = &[("cancelled", "Invite cancelled.")];

pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Ids([org]): Ids<1>,
    Query(shown): Query<Shown>,
) -> Response {
    invites_page(&state, &viewer, org, &shown, &Form::default(), Outcome::None).await
}

/// What the last form did, for the page to show.
enum Outcome {
    None,
    Created(Value),
    Failed((StatusCode, String)),
}

async fn invites_page(
    state: &AppState,
    viewer: &Viewer,
    org_id: Uuid,
    shown: &Shown,
    form: &Form,
    outcome: Outcome,
) -> Response {
    let (created, error) = match outcome {
        Outcome::None => (None, None),
        Outcome::Created(created) => (Some(created), None),
        Outcome::Failed(error) => (None, Some(error)),
    };
    let cursor = shown.cursor.as_deref();
    let (org, page) =
        match org_list(state, &viewer.principal, org_id, cursor, error.as_ref(), invites::list)
            .await
        {
            Ok(found) => found,
            Err(page) => return *page,
        };
    let status = if created.is_some() { StatusCode::CREATED } else { status_of(&error) };
    let values = context! {
        invites => render::of(&page.data),
        next_cursor => page.next_cursor,
        roles => ROLES,
        created => created,
        form => context! { email => form.value("email"), role => form.value("role") },
        notice => notice(shown.done.as_deref(), NOTICES),
        error => error.as_ref().map(|(_, message)| message),
        org => render::of(&org),
    };
    render::page(status, "invites.html", viewer, Section::Invites, values)
}

pub async fn create(
    State(state): State<AppState>,
    Ids([org]): Ids<1>,
    Posted { viewer, form }: Posted,
) -> Response {
    // An unticked box sends nothing; the API would then apply the server's default.
    let send_email = form.get("sendEmail") == Some("true");
    let body = api::body([
        ("email", form.text("email")),
        ("role", form.text("role")),
        ("sendEmail", Some(Json::Bool(send_email))),
    ]);
    let change =
        invites::create(api::state(&state), viewer.principal.clone(), api::path(org), body);
    let outcome = match api::in_turn(&state, org, change).await {
        Ok((_, axum::Json(created))) => Outcome::Created(context! {
            email => created.invite.email,
            link => state.outbox.link("invites/accept", &created.token),
            emailed => send_email,
        }),
        Err(error) => Outcome::Failed(describe(error)),
    };
    let form = if matches!(outcome, Outcome::Created(_)) { Form::default() } else { form };
    invites_page(&state, &viewer, org, &Shown::default(), &form, outcome).await
}

pub async fn cancel(
    State(state): State<AppState>,
    Ids([org, invite]): Ids<2>,
    Posted { viewer, form: _ }: Posted,
) -> Response {
    let change =
        invites::cancel(api::state(&state), viewer.principal.clone(), api::path((org, invite)));
    match api::in_turn(&state, org, change).await {
        Ok(_) => done(&format!("/console/organizations/{org}/invites"), "cancelled"),
        Err(error) => {
            let outcome = Outcome::Failed(describe(error));
            invites_page(&state, &viewer, org, &Shown::default(), &Form::default(), outcome).await
        }
    }
}
