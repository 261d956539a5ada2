//! The authorization endpoint (RFC 6749 §4.1, PKCE per RFC 7636): the sign-in and consent
//! page with its form, and a JSON variant for first-party front ends that hold a user's token.
//!
//! A request whose client or redirect URI cannot be trusted is never redirected (§4.1.2.1);
//! every other fault goes back to the app at its redirect URI.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use sqlx::AnyConnection;
use subtle::ConstantTimeEq;
use utoipa::ToSchema;
use uuid::Uuid;

use super::error::{OAuthError, OAuthResult};
use super::form::OAuthForm;
use super::page::{self, CSRF_COOKIE, Consent};
use super::token::requested_scopes;
use crate::auth::sign_in::{PASSWORD_MAX, SignInError};
use crate::auth::token;
use crate::domain::scope::Scopes;
use crate::error::ApiError;
use crate::http::extract::JsonObject;
use crate::http::principal::Principal;
use crate::state::AppState;
use crate::store::members;
use crate::store::oauth_apps::{self, OAuthApp};
use crate::store::oauth_grants::{self, AuthorizationCode};
use crate::store::organizations::{self, Organization};

/// The parameters of an authorization request, as the query, the form and the JSON body
/// carry them.
const PARAMS: [&str; 7] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
];

/// Longest `state` carried back to the app.
const STATE_MAX: usize = 1024;

/// A checked authorization request.
struct Authorization {
    app: OAuthApp,
    org: Organization,
    redirect_uri: String,
    scopes: Scopes,
    state: Option<String>,
    code_challenge: String,
}

enum Refusal {
    /// The client or redirect URI is not trustworthy: tell the person, never redirect.
    Untrusted(OAuthError),
    /// Tell the app, at its redirect URI.
    ToClient { redirect_uri: String, state: Option<String>, error: OAuthError },
}

impl From<sqlx::Error> for Refusal {
    fn from(err: sqlx::Error) -> Self {
        Refusal::Untrusted(err.into())
    }
}

/// `uri` with the given query parameters added to any it has.
fn redirect_to(uri: &str, params: &[(&str, &str)]) -> String {
    match url::Url::parse(uri) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(params);
            url.into()
        }
        Err(_) => uri.to_owned(),
    }
}

fn error_redirect(redirect_uri: &str, state: Option<&str>, error: &OAuthError) -> String {
    let mut params = vec![("error", error.code), ("error_description", error.description.as_str())];
    if let Some(state) = state {
        params.push(("state", state));
    }
    redirect_to(redirect_uri, &params)
}

async fn check(conn: &mut AnyConnection, params: &OAuthForm) -> Result<Authorization, Refusal> {
    let untrusted = |e: OAuthError| Refusal::Untrusted(e);
    let client_id = params.require("client_id").map_err(untrusted)?;
    let redirect_uri = params.require("redirect_uri").map_err(untrusted)?.to_owned();
    let unknown = || Refusal::Untrusted(OAuthError::invalid_client("Unknown or revoked client"));
    let (app, _) = oauth_apps::find_client(conn, client_id).await?.ok_or_else(unknown)?;
    if !app.is_active() {
        return Err(unknown());
    }
    if !app.redirect_uris.contains(&redirect_uri) {
        return Err(Refusal::Untrusted(OAuthError::invalid_request(
            "redirect_uri is not registered for this client",
        )));
    }
    let raw_state = params.get("state").ok().flatten();
    // An overlong state is refused, and not echoed into a redirect either.
    let state = raw_state.filter(|s| s.len() <= STATE_MAX).map(str::to_owned);
    let to_client = |error: OAuthError| Refusal::ToClient {
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
        error,
    };
    let check_rest = || -> OAuthResult<(Scopes, String)> {
        if raw_state.is_some_and(|s| s.len() > STATE_MAX) {
            return Err(OAuthError::invalid_request(format!(
                "state must be at most {STATE_MAX} characters"
            )));
        }
        params.get("state")?;
        match params.require("response_type")? {
            "code" => {}
            other => {
                return Err(OAuthError::unsupported_response_type(format!(
                    "response_type {other} is not supported; use code"
                )));
            }
        }
        let challenge = params.get("code_challenge")?.ok_or_else(|| {
            OAuthError::invalid_request("code_challenge is required (PKCE with S256)")
        })?;
        if params.get("code_challenge_method")? != Some("S256") {
            return Err(OAuthError::invalid_request("code_challenge_method must be S256"));
        }
        // BASE64URL of a SHA-256 digest, without padding.
        let well_formed = challenge.len() == 43
            && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !well_formed {
            return Err(OAuthError::invalid_request("code_challenge is not an S256 challenge"));
        }
        let scopes = requested_scopes(params.get("scope")?, &app.scopes)?;
        Ok((scopes, challenge.to_owned()))
    };
    let (scopes, code_challenge) = check_rest().map_err(to_client)?;
    let org = organizations::find(conn, app.organization_id).await?.ok_or_else(unknown)?;
    Ok(Authorization { app, org, redirect_uri, scopes, state, code_challenge })
}

fn redirect(status: StatusCode, location: &str) -> Response {
    let mut response = status.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    super::error::no_store(response.headers_mut());
    response
}

fn problem_page(error: &OAuthError) -> Response {
    let status = match error.status {
        StatusCode::UNAUTHORIZED => StatusCode::BAD_REQUEST,
        other => other,
    };
    page::respond(status, page::problem(&error.description), None)
}

fn secure_cookie(state: &AppState) -> bool {
    state.config.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
}

fn request_fields(params: &OAuthForm) -> Vec<(&'static str, String)> {
    PARAMS
        .iter()
        .filter_map(|name| params.get(name).ok().flatten().map(|v| (*name, v.to_owned())))
        .collect()
}

/// Where the browser goes after the person or the request said no.
fn refusal_response(refusal: Refusal, status: StatusCode) -> Response {
    match refusal {
        Refusal::Untrusted(error) => problem_page(&error),
        Refusal::ToClient { redirect_uri, state, error } => {
            redirect(status, &error_redirect(&redirect_uri, state.as_deref(), &error))
        }
    }
}

/// The sign-in and consent page for an authorization request with PKCE (S256).
#[utoipa::path(get, path = "/api/oauth/authorize", tag = "oauth",
    params(("response_type" = String, Query, description = "code"),
           ("client_id" = String, Query), ("redirect_uri" = String, Query, description = "One of the app's, exactly"),
           ("scope" = Option<String>, Query, description = "Space-separated; default all of the app's"),
           ("state" = Option<String>, Query),
           ("code_challenge" = String, Query), ("code_challenge_method" = String, Query, description = "S256")),
    responses((status = 200, description = "The sign-in and consent page", content_type = "text/html"),
              (status = 302, description = "An error sent back to the app's redirect URI"),
              (status = 400, description = "Unknown client or unregistered redirect URI", content_type = "text/html")))]
pub async fn page(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let params = OAuthForm::parse(query.unwrap_or_default().as_bytes());
    let checked = match state.db.acquire().await {
        Ok(mut conn) => check(&mut conn, &params).await,
        Err(err) => Err(err.into()),
    };
    match checked {
        Err(refusal) => refusal_response(refusal, StatusCode::FOUND),
        Ok(auth) => {
            let csrf = token::generate("");
            let fields = request_fields(&params);
            render_consent(&state, &auth, &fields, &csrf, "", None, StatusCode::OK, true)
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn render_consent(
    state: &AppState,
    auth: &Authorization,
    fields: &[(&str, String)],
    csrf: &str,
    email: &str,
    error: Option<&str>,
    status: StatusCode,
    set_cookie: bool,
) -> Response {
    let html = page::consent(&Consent {
        app_name: &auth.app.name,
        org_name: &auth.org.name,
        scopes: &auth.scopes,
        request: fields,
        csrf,
        email,
        error,
    });
    page::respond(status, html, set_cookie.then_some((csrf, secure_cookie(state))))
}

fn csrf_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == CSRF_COOKIE)
        .map(|(_, value)| value)
}

/// The consent form's target: deny, or sign in and allow.
#[utoipa::path(post, path = "/api/oauth/authorize/consent", tag = "oauth",
    request_body(content_type = "application/x-www-form-urlencoded",
                 description = "The consent page's form: the authorization request, csrf_token, email, password and decision (approve or deny)"),
    responses((status = 303, description = "Back to the app with a code, or with error=access_denied"),
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
    let form = OAuthForm::parse(&body);
    let presented = form.get("csrf_token").ok().flatten().unwrap_or_default();
    let expected = csrf_cookie(&headers).unwrap_or_default();
    if expected.is_empty() || !bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
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
    let fields = request_fields(&form);
    let again = |status: StatusCode, message: &str| {
        render_consent(&state, &auth, &fields, presented, &email, Some(message), status, false)
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

/// Issues a code to a member of the app's organization and returns where to send the
/// browser. The membership is held while the code is written, so a removal racing this
/// either comes first or expires the code.
async fn approve(state: &AppState, auth: &Authorization, user: Uuid) -> OAuthResult<String> {
    let code = token::generate(token::OAUTH_CODE_PREFIX);
    let now = state.clock.now();
    let mut tx = state.db.begin_write().await?;
    let app = oauth_apps::hold(&mut tx, state.db.backend(), auth.app.id).await?;
    if !app.as_ref().is_some_and(OAuthApp::is_active) {
        return Err(OAuthError::invalid_request("Unknown or revoked client"));
    }
    if !members::hold(&mut tx, auth.org.id, user).await? {
        return Err(OAuthError::access_denied(
            "The user is not a member of the app's organization",
        ));
    }
    let record = AuthorizationCode {
        id: Uuid::now_v7(),
        app_id: auth.app.id,
        user_id: user,
        scopes: auth.scopes.clone(),
        redirect_uri: auth.redirect_uri.clone(),
        code_challenge: auth.code_challenge.clone(),
        grant_id: Uuid::now_v7(),
        expires_at: now + state.config.oauth_code_ttl,
        created_at: now,
    };
    oauth_grants::insert_code(&mut tx, &record, &token::digest(&code)).await?;
    tx.commit().await?;
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = &auth.state {
        params.push(("state", s));
    }
    Ok(redirect_to(&auth.redirect_uri, &params))
}

#[derive(Serialize, ToSchema)]
pub struct AuthorizeResponse {
    /// The app's redirect URI with `code` and `state`: send the browser there.
    pub redirect_to: String,
}

/// Authorize an app for the signed-in user without the consent page, for first-party front
/// ends. The body carries the same parameters as the page's query.
#[utoipa::path(post, path = "/api/oauth/authorize", tag = "oauth",
    security(("bearer" = [])),
    request_body(content = Object, description = "response_type, client_id, redirect_uri, scope?, state?, code_challenge, code_challenge_method"),
    responses((status = 200, body = AuthorizeResponse),
              (status = 400, description = "invalid_request, invalid_client, invalid_scope or unsupported_response_type"),
              (status = 401, description = "invalid_token"),
              (status = 403, description = "access_denied: not a member of the app's organization")))]
pub async fn authorize_json(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    body: Result<JsonObject, ApiError>,
) -> OAuthResult<Json<AuthorizeResponse>> {
    let principal = principal.map_err(|_| {
        OAuthError::invalid_token("Authentication required. Provide a valid bearer token.")
    })?;
    let JsonObject(body) = body?;
    let mut pairs = Vec::new();
    for (name, value) in body {
        match value {
            Value::String(s) if PARAMS.contains(&name.as_str()) => pairs.push((name, s)),
            Value::Null => {}
            _ if PARAMS.contains(&name.as_str()) => {
                return Err(OAuthError::invalid_request(format!("{name} must be a string")));
            }
            _ => {
                return Err(OAuthError::invalid_request(format!(
                    "property {name} should not exist"
                )));
            }
        }
    }
    let user = principal
        .person()
        .map_err(|_| OAuthError::access_denied("OAuth tokens cannot authorize apps"))?;
    let mut conn = state.db.acquire().await?;
    let checked = check(&mut conn, &OAuthForm(pairs)).await;
    drop(conn);
    let auth = checked.map_err(|refusal| match refusal {
        // No client authenticates here: an unknown client is a bad request, not a 401.
        Refusal::Untrusted(error) | Refusal::ToClient { error, .. } => error.as_bad_request(),
    })?;
    let redirect_to = approve(&state, &auth, user).await?;
    Ok(Json(AuthorizeResponse { redirect_to }))
}
