//! Forms with no sign-in behind them: signing in, asking for a reset or verification link,
//! and using an emailed link. There is no session to tie a CSRF token to, so each such page
//! sets a random token both in a cookie and in its form (double submit): another site can
//! make a browser post, but can neither read the cookie nor set it for this origin.

use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use axum::response::Response;
use minijinja::{Value, context};

use super::form::{CSRF_FIELD, Form, MAX_FORM_BYTES, Refused};
use super::{render, session};
use crate::auth::token;
use crate::state::AppState;

/// The cookie holding a public form's token.
pub const CSRF_COOKIE: &str = "roster_console_csrf";

/// A page holding a public form: `values` and the form's `csrf`, with the cookie to match.
pub fn page(state: &AppState, status: StatusCode, template: &str, values: Value) -> Response {
    let csrf = token::generate("");
    let values = context! { ..values, ..context! { csrf => &csrf } };
    let mut response = render::public(status, template, values);
    if let Some(cookie) = session::set_cookie(state, CSRF_COOKIE, Some(&csrf)) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// A public form's fields, read whole (a larger body is refused with 413, never cut) and
/// its token checked against the cookie.
pub struct PublicForm(pub Form);

impl FromRequest<AppState> for PublicForm {
    type Rejection = Refused;

    async fn from_request(req: Request, _: &AppState) -> Result<Self, Refused> {
        let expected = session::cookie(req.headers(), CSRF_COOKIE).unwrap_or_default().to_owned();
        let body = axum::body::to_bytes(req.into_body(), MAX_FORM_BYTES)
            .await
            .map_err(|_| Refused::Unreadable)?;
        let form = Form::parse(&body);
        if !session::same_token(form.value(CSRF_FIELD), &expected) {
            return Err(Refused::Forged);
        }
        Ok(Self(form))
    }
}
