//! The sign-in and consent page and its form. The page carries the request in hidden fields
//! and a CSRF token made for that request under the browser's cookie ([`csrf`]); denying
//! needs no sign-in,
//! allowing needs a member's email and password under the sign-in limits.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::super::error::OAuthError;
use super::super::form::OAuthForm;
use super::super::page::{self, Consent};
use super::{
    Authorization, AuthorizeQuery, PARAMS, approve, check, csrf, error_redirect, problem_page,
    redirect, refusal_response, request_fields, secure_cookie,
};
use crate::auth::sign_in::{PASSWORD_MAX, SignInError};
use crate::error::ApiError;
use crate::http::body::{Prop, Rule};
use crate::state::AppState;
use std::net::SocketAddr;

/// The sign-in and consent page for an authorization request with PKCE (S256).
#[utoipa::path(get, path = "/api/oauth/authorize", tag = "oauth",
    params(AuthorizeQuery),
    responses((status = 200, description = "The sign-in and consent page", content_type = "text/html"),
              (status = 302, description = "An error sent back to the app's redirect URI"),
              (status = 400, description = "Unknown client or unregistered redirect URI", content_type = "text/html")))]
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = match OAuthForm::parse(query.unwrap_or_default().as_bytes()) {
        Ok(params) => params,
        Err(error) => return problem_page(&error),
    };
    let checked = match state.db.acquire().await {
        Ok(mut conn) => check(&mut conn, &params).await,
        Err(err) => Err(err.into()),
    };
    match checked {
        Err(refusal) => refusal_response(refusal, StatusCode::FOUND),
        Ok(auth) => {
            let (secret, new) = csrf::secret_for_page(&headers);
            let fields = request_fields(&params);
            let csrf = csrf::form_token(&secret, &fields);
            let page = Page { csrf: &csrf, set_secret: new.then_some(secret.as_str()) };
            render_consent(&state, &auth, &fields, page, "", None, StatusCode::OK)
        }
    }
}

/// The form's CSRF token, and the browser secret to set when the browser had none.
#[derive(Clone, Copy)]
struct Page<'a> {
    csrf: &'a str,
    set_secret: Option<&'a str>,
}

fn render_consent(
    state: &AppState,
    auth: &Authorization,
    fields: &[(&str, String)],
    page: Page<'_>,
    email: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let html = page::consent(&Consent {
        app_name: &auth.app.name,
        org_name: &auth.org.name,
        scopes: &auth.scopes,
        request: fields,
        csrf: page.csrf,
        email,
        error,
    });
    let cookie = page.set_secret.map(|secret| (secret, secure_cookie(state)));
    page::respond(status, html, cookie)
}

const CONSENT_EXTRA: [Prop; 4] = [
    Prop::required("csrf_token", Rule::Raw { min: 1, max: usize::MAX })
        .about("The page's, matching its cookie."),
    Prop::optional("decision", Rule::Raw { min: 0, max: usize::MAX })
        .about("`approve` to allow; anything else denies."),
    Prop::optional("email", Rule::Raw { min: 0, max: usize::MAX }),
    Prop::optional("password", Rule::Raw { min: 0, max: usize::MAX }),
];

/// The consent form: the authorization request and the page's own fields.
pub struct ConsentForm;

impl utoipa::PartialSchema for ConsentForm {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let props: Vec<Prop> = PARAMS.iter().chain(&CONSENT_EXTRA).copied().collect();
        crate::http::body::to_schema(crate::http::body::form_schema(&props))
    }
}

impl utoipa::ToSchema for ConsentForm {}

/// The consent form's target: deny, or sign in and allow.
#[utoipa::path(post, path = "/api/oauth/authorize/consent", tag = "oauth",
    request_body(content = ConsentForm, content_type = "application/x-www-form-urlencoded",
                 description = "The consent page's form: the authorization request, csrf_token, email, password and decision (approve or deny)"),
    responses((status = 303, description = "Back to the app with a code, or with error=access_denied"),
              (status = 400, description = "A request that cannot continue: unknown client, unregistered redirect URI, unstorable text", content_type = "text/html"),
              (status = 401, description = "The form again: invalid email or password", content_type = "text/html"),
              (status = 403, description = "Not a member of the app's organization, or a bad CSRF token", content_type = "text/html"),
              (status = 429, description = "The form again: too many sign-in attempts", content_type = "text/html")))]
pub async fn consent(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let message = "The form could not be read. Go back to the app and start again.";
            return page::respond(rejection.status(), page::problem(message), None);
        }
    };
    let form = match OAuthForm::parse(&body) {
        Ok(form) => form,
        Err(error) => return problem_page(&error),
    };
    let presented = form.get("csrf_token").ok().flatten().unwrap_or_default();
    let fields = request_fields(&form);
    let made_here = csrf::browser_secret(&headers)
        .is_some_and(|secret| csrf::verify(secret, &fields, presented));
    if !made_here {
        return page::respond(
            StatusCode::FORBIDDEN,
            page::problem(
                "This form has expired or did not come from this page. Go back to the app and start again.",
            ),
            None,
        );
    }
    let checked = match state.db.acquire().await {
        Ok(mut conn) => check(&mut conn, &form).await,
        Err(err) => Err(err.into()),
    };
    let auth = match checked {
        Ok(auth) => auth,
        Err(refusal) => return refusal_response(refusal, StatusCode::SEE_OTHER),
    };
    if form.get("decision").ok().flatten() != Some("approve") {
        let denied = OAuthError::access_denied("The user denied the request");
        return redirect(
            StatusCode::SEE_OTHER,
            &error_redirect(&auth.redirect_uri, auth.state.as_deref(), &denied),
        );
    }
    let email = form.get("email").ok().flatten().unwrap_or_default().trim().to_owned();
    let password = form.get("password").ok().flatten().unwrap_or_default().to_owned();
    let again = |status: StatusCode, message: &str| {
        let page = Page { csrf: presented, set_secret: None };
        render_consent(&state, &auth, &fields, page, &email, Some(message), status)
    };
    if email.is_empty() || password.is_empty() || password.len() > PASSWORD_MAX || email.len() > 320
    {
        return again(StatusCode::UNAUTHORIZED, "Invalid email or password");
    }
    let user = match state.sign_in().check(peer.ip(), &email, password, state.clock.now()).await {
        Ok(user) => user,
        Err(SignInError::TooManyAttempts { retry_after_secs }) => {
            let mut response =
                again(StatusCode::TOO_MANY_REQUESTS, "Too many sign-in attempts. Try again later.");
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            return response;
        }
        Err(SignInError::Invalid) => {
            return again(StatusCode::UNAUTHORIZED, "Invalid email or password");
        }
        Err(err) => return OAuthError::from(ApiError::from(err)).into_response(),
    };
    match approve(&state, &auth, user.id).await {
        Ok(location) => redirect(StatusCode::SEE_OTHER, &location),
        Err(err) if err.status == StatusCode::FORBIDDEN => {
            let message = format!("{} is not a member of {}.", user.email, auth.org.name);
            again(StatusCode::FORBIDDEN, &message)
        }
        Err(err) => problem_page(&err),
    }
}
