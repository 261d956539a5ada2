//! The signed-in person's own account, under no organization: their name, their password,
//! their sign-in sessions ([`credentials`]) and personal access tokens (a new one shown once).

pub mod credentials;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::{Value, context};
use serde::Deserialize;

use super::{done, failed, notice};
use crate::console::api;
use crate::console::form::{Form, Posted};
use crate::console::render::{self, Section, describe};
use crate::console::session::Viewer;
use crate::error::ApiError;
use crate::http::account::client::Caller;
use crate::http::account::{password, profile, sessions};
use crate::http::users;
use crate::state::AppState;

const PATH: &str = "/console/account";
const NOTICES: &[(&str, &str)] = &[
    ("profile", "Name saved."),
    ("password", "Password changed: every other session and personal access token has ended."),
    ("session", "Session signed out."),
    ("others", "Every other session is signed out."),
    ("revoked", "Token revoked."),
];

/// The page's query: where each list continues, and what just happened.
#[derive(Debug, Default, Deserialize)]
pub struct Shown {
    done: Option<String>,
    sessions: Option<String>,
    tokens: Option<String>,
}

/// What the last form did, for the page to show.
enum Outcome {
    None,
    Created(Value),
    Failed((StatusCode, String)),
}

pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(shown): Query<Shown>,
) -> Response {
    account_page(&state, &viewer, &shown, &Form::default(), Outcome::None).await
}

async fn account_page(
    state: &AppState,
    viewer: &Viewer,
    shown: &Shown,
    form: &Form,
    outcome: Outcome,
) -> Response {
    let (created, error, status) = match outcome {
        Outcome::None => (None, None, StatusCode::OK),
        Outcome::Created(created) => (Some(created), None, StatusCode::CREATED),
        Outcome::Failed((status, message)) => (None, Some(message), status),
    };
    let fail = error.as_ref().map(|message| (status, message.clone()));
    let query = api::page(shown.sessions.as_deref(), &[]);
    let listed = sessions::list_sessions(api::state(state), viewer.principal.clone(), query);
    let sessions = match api::json(listed.await) {
        Ok(page) => page,
        Err(load) => return failed(load, fail.as_ref()),
    };
    let query = api::page(shown.tokens.as_deref(), &[]);
    let listed = users::list_tokens(api::state(state), viewer.principal.clone(), query);
    let tokens = match api::json(listed.await) {
        Ok(page) => page,
        Err(load) => return failed(load, fail.as_ref()),
    };
    // A refused form shows the name it sent; otherwise the name as it is.
    let name = form.get("name");
    let values = context! {
        sessions => render::of(&sessions.data),
        sessions_next => sessions.next_cursor,
        tokens => render::of(&tokens.data),
        tokens_next => tokens.next_cursor,
        created => created,
        form => context! {
            name => name.unwrap_or(&viewer.user.name),
            tokenName => form.value("tokenName"),
            expiresInDays => form.value("expiresInDays"),
        },
        notice => notice(shown.done.as_deref(), NOTICES),
        error => error,
    };
    render::page(status, "account.html", viewer, Section::Account, values)
}

/// Back to the page after a form: with a notice, or with the API's refusal.
async fn answer(
    state: &AppState,
    viewer: &Viewer,
    form: &Form,
    outcome: Result<&str, ApiError>,
) -> Response {
    match outcome {
        Ok(key) => done(PATH, key),
        Err(error) => {
            let failed = Outcome::Failed(describe(error));
            account_page(state, viewer, &Shown::default(), form, failed).await
        }
    }
}

pub async fn rename(State(state): State<AppState>, Posted { viewer, form }: Posted) -> Response {
    let body = api::body([("name", form.text("name"))]);
    let change = profile::update_profile(api::state(&state), viewer.principal.clone(), body);
    let outcome = change.await.map(|_| "profile");
    answer(&state, &viewer, &form, outcome).await
}

pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    Posted { viewer, form }: Posted,
) -> Response {
    let body = api::body([
        ("currentPassword", form.text("currentPassword")),
        ("newPassword", form.text("newPassword")),
    ]);
    let change =
        password::change_password(api::state(&state), viewer.principal.clone(), caller, body);
    let outcome = change.await.map(|_| "password");
    // Passwords are never shown again.
    answer(&state, &viewer, &Form::default(), outcome).await
}
