//! The ways into the account: its sign-in sessions (signing out one, or every other) and its
//! personal access tokens (creating one, shown once; revoking one).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;

use super::{Outcome, Shown, account_page, answer};
use crate::console::api;
use crate::console::form::{Form, Posted};
use crate::console::pages::Ids;
use crate::console::render::describe;
use crate::console::session::{self, COOKIE};
use crate::http::account::client::Caller;
use crate::http::account::sessions;
use crate::http::users;
use crate::state::AppState;

pub async fn revoke_session(
    State(state): State<AppState>,
    Ids([id]): Ids<1>,
    Posted { viewer, .. }: Posted,
) -> Response {
    let path = api::path(id);
    let outcome =
        sessions::revoke_session(api::state(&state), viewer.principal.clone(), path).await;
    // Signing out this very session is signing out: on to the sign-in page.
    if outcome.is_ok() && sessions::current_session(&viewer.principal) == Some(id) {
        let mut response = Redirect::to("/console/sign-in").into_response();
        if let Some(cookie) = session::set_cookie(&state, COOKIE, None) {
            response.headers_mut().insert(header::SET_COOKIE, cookie);
        }
        return response;
    }
    answer(&state, &viewer, &Form::default(), outcome.map(|_| "session")).await
}

pub async fn revoke_others(
    State(state): State<AppState>,
    Posted { viewer, .. }: Posted,
) -> Response {
    let change = sessions::revoke_other_sessions(api::state(&state), viewer.principal.clone());
    answer(&state, &viewer, &Form::default(), change.await.map(|_| "others")).await
}

pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    Posted { viewer, form }: Posted,
) -> Response {
    let body = api::body([
        ("name", form.text("tokenName")),
        ("expiresInDays", form.number("expiresInDays")),
        ("currentPassword", form.text("currentPassword")),
    ]);
    let created = users::create_token(api::state(&state), viewer.principal.clone(), caller, body);
    let (form, outcome) = match created.await {
        Ok((_, axum::Json(created))) => (
            Form::default(),
            Outcome::Created(context! { name => created.info.name, token => created.token }),
        ),
        Err(error) => (form, Outcome::Failed(describe(error))),
    };
    account_page(&state, &viewer, &Shown::default(), &form, outcome).await
}

pub async fn revoke_token(
    State(state): State<AppState>,
    Ids([id]): Ids<1>,
    Posted { viewer, .. }: Posted,
) -> Response {
    let revoked = users::revoke_token(api::state(&state), viewer.principal.clone(), api::path(id));
    answer(&state, &viewer, &Form::default(), revoked.await.map(|_| "revoked")).await
}
