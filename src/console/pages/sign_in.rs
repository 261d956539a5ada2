//! Signing in and out. Signing in runs the API's own check (the same fields, failure limits
//! and verified-address rule as `POST /api/auth/login`); the form is protected by a
//! double-submit token until there is a sign-in to tie a token to.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;

use crate::auth::token;
use crate::console::form::{self, CSRF_FIELD, Posted};
use crate::console::session::{self, COOKIE};
use crate::console::{api, render};
use crate::http::account::client::Caller;
use crate::http::auth::sign_in_with;
use crate::state::AppState;

/// The sign-in form's double-submit cookie.
const CSRF_COOKIE: &str = "roster_console_csrf";

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<Next>,
) -> Response {
    let next = safe_next(query.next.as_deref());
    if let Ok(Some(_)) = session::find(&state, &headers).await {
        return Redirect::to(next).into_response();
    }
    form_page(&state, StatusCode::OK, next, "", None)
}

pub async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = form::read(body).await;
    let expected = session::cookie(&headers, CSRF_COOKIE).unwrap_or_default();
    let presented = form.get(CSRF_FIELD).unwrap_or_default();
    if !session::same_token(presented, expected) {
        return form::forged();
    }
    let next = safe_next(form.get("next"));
    let email = form.value("email");
    let body = api::body([("email", form.text("email")), ("password", form.text("password"))]);
    let user = match sign_in_with(&state, &caller, body.0).await {
        Ok(user) => user,
        Err(error) => {
            let (status, message) = render::describe(error);
            return form_page(&state, status, next, email, Some(message));
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
    error: Option<String>,
) -> Response {
    let csrf = token::generate("");
    let values = context! { csrf => &csrf, next => next, email => email, error => error };
    let mut response = render::public(status, "sign_in.html", values);
    if let Some(cookie) = session::set_cookie(state, CSRF_COOKIE, Some(&csrf)) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
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
