//! Signing in and out. Signing in runs the API's own check (the same fields, failure limits
//! and verified-address rule as `POST /api/auth/login`); the form is protected by a
//! double-submit token until there is a sign-in to tie a token to.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;

use crate::console::form::Posted;
use crate::console::public_form::{self, CSRF_COOKIE, PublicForm};
use crate::console::session::{self, COOKIE};
use crate::console::{api, render};
use crate::http::account::client::Caller;
use crate::http::auth::sign_in_with;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
    done: Option<String>,
}

/// What brought someone to the sign-in page from a page of emailed links.
const NOTICES: &[(&str, &str)] = &[
    (
        "password-reset",
        "Your new password is set, and every other sign-in has ended. Sign in with it.",
    ),
    ("verified", "Your email address is verified. Sign in to continue."),
    ("email-changed", "Your new email address is confirmed. Sign in with it."),
];

pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<Next>,
) -> Response {
    let next = safe_next(query.next.as_deref());
    if let Ok(Some(_)) = session::find(&state, &headers).await {
        return Redirect::to(next).into_response();
    }
    let notice = super::notice(query.done.as_deref(), NOTICES);
    form_page(&state, StatusCode::OK, next, "", Message::Notice(notice))
}

/// What the sign-in page says above its form.
enum Message {
    Notice(Option<&'static str>),
    Error(String),
}

pub async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    PublicForm(form): PublicForm,
) -> Response {
    let next = safe_next(form.get("next"));
    let email = form.value("email");
    let body = api::body([("email", form.text("email")), ("password", form.text("password"))]);
    let user = match sign_in_with(&state, &caller, body.0).await {
        Ok(user) => user,
        Err(error) => {
            let (status, message) = render::describe(error);
            return form_page(&state, status, next, email, Message::Error(message));
        }
    };
    let presented = match session::start(&state, &user, &caller.client()).await {
        Ok(presented) => presented,
        Err(error) => return render::api_error(error),
    };
    let mut response = Redirect::to(next).into_response();
    let headers = response.headers_mut();
    for cookie in [
        session::set_cookie(&state, COOKIE, Some(&presented)),
        session::set_cookie(&state, CSRF_COOKIE, None),
    ]
    .into_iter()
    .flatten()
    {
        headers.append(header::SET_COOKIE, cookie);
    }
    response
}

pub async fn sign_out(State(state): State<AppState>, posted: Posted) -> Response {
    if let Err(error) = session::end(&state, &posted.viewer).await {
        return render::api_error(error);
    }
    let mut response = Redirect::to("/console/sign-in").into_response();
    if let Some(cookie) = session::set_cookie(&state, COOKIE, None) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

fn form_page(
    state: &AppState,
    status: StatusCode,
    next: &str,
    email: &str,
    message: Message,
) -> Response {
    let (notice, error) = match message {
        Message::Notice(notice) => (notice, None),
        Message::Error(error) => (None, Some(error)),
    };
    let values = context! { next => next, email => email, notice => notice, error => error };
    public_form::page(state, status, "sign_in.html", values)
}

/// Where to go after signing in: a console page, never another site.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if path.starts_with("/console")
                && !path.contains("//")
                && path.chars().all(|c| c.is_ascii_graphic() && c != '\\') =>
        {
            path
        }
        _ => "/console",
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_console_paths_are_followed() {
        assert_eq!(safe_next(Some("/console/organizations/x")), "/console/organizations/x");
        for bad in
            ["https://evil.test", "//evil.test", "/console//evil.test", "/consolex\\y", "/api/x"]
        {
            assert_eq!(safe_next(Some(bad)), "/console", "{bad}");
        }
        assert_eq!(safe_next(None), "/console");
    }
}
