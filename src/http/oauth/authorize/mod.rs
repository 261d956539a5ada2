//! The authorization endpoint (RFC 6749 §4.1, PKCE per RFC 7636): the sign-in and consent
//! page with its form, and a JSON variant for first-party front ends that hold a user's token.
//!
//! A request whose client or redirect URI cannot be trusted is never redirected (§4.1.2.1);
//! every other fault goes back to the app at its redirect URI.
//!
//! Here: checking a request and issuing its code, shared by both ways in — the page and its
//! form ([`consent`]), and the JSON variant ([`json`]).

pub mod consent;
mod csrf;
pub mod json;

use crate::store::Conn;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use super::error::{OAuthError, OAuthResult};
use super::form::OAuthForm;
use super::page;
use super::token::requested_scopes;
use crate::auth::token;
use crate::domain::scope::Scopes;
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

async fn check(conn: &mut dyn Conn, params: &OAuthForm) -> Result<Authorization, Refusal> {
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

/// Issues a code to a member of the app's organization and returns where to send the
/// browser. The membership is held while the code is written, so a removal racing this
/// either comes first or expires the code.
async fn approve(state: &AppState, auth: &Authorization, user: Uuid) -> OAuthResult<String> {
    let code = token::generate(token::OAUTH_CODE_PREFIX);
    let now = state.clock.now();
    let not_member =
        || OAuthError::access_denied("The user is not a member of the app's organization");
    let mut tx = state.db.begin_write().await?;
    // Anyone signed in may get this far with any app: only a member may lock its rows.
    if organizations::find_membership(&mut tx, auth.org.id, user).await?.is_none() {
        return Err(not_member());
    }
    let app = oauth_apps::hold(&mut tx, auth.app.id).await?;
    if !app.as_ref().is_some_and(OAuthApp::is_active) {
        return Err(OAuthError::invalid_request("Unknown or revoked client"));
    }
    if !members::hold(&mut tx, auth.org.id, user).await? {
        return Err(not_member());
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
