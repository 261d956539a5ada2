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
use crate::http::body::{Prop, Rule, body_schema};
use crate::http::extract::query_param;
use crate::state::AppState;
use crate::store::members;
use crate::store::oauth_apps::{self, OAuthApp};
use crate::store::oauth_grants::{self, AuthorizationCode};
use crate::store::organizations::{self, Organization};
use utoipa::openapi::Required;

/// The parameters of an authorization request, as the query, the form and the JSON body
/// carry them; the document describes each from here.
const PARAMS: [Prop; 7] = [
    Prop::required("response_type", Rule::OneOf(|| vec!["code"])),
    Prop::required("client_id", Rule::Raw { min: 1, max: usize::MAX }),
    Prop::required("redirect_uri", Rule::Raw { min: 1, max: usize::MAX })
        .about("One of the app's redirect URIs, exactly."),
    Prop::optional(
        "scope",
        Rule::Matching { pattern: scope_list, format: None, min: 0, max: usize::MAX },
    )
    .about("Space-separated scopes of the app's; all of them when absent."),
    Prop::optional("state", Rule::Raw { min: 0, max: STATE_MAX })
        .about("Carried back to the app unchanged."),
    Prop::required(
        "code_challenge",
        Rule::Matching { pattern: s256_challenge, format: None, min: 43, max: 43 },
    )
    .about("BASE64URL(SHA-256(code_verifier)), without padding (RFC 7636)."),
    Prop::required("code_challenge_method", Rule::OneOf(|| vec!["S256"])),
];

/// A space-separated list of known scopes, as RFC 6749 §3.3 writes them.
fn scope_list() -> String {
    let names: Vec<&str> = crate::domain::scope::Scope::ALL.iter().map(|s| s.as_str()).collect();
    let one = format!("(?:{})", names.join("|"));
    format!("^ *(?:{one}(?: +{one})*)? *$")
}

/// What [`check`] takes for an S256 challenge: BASE64URL of a SHA-256 digest, unpadded.
fn s256_challenge() -> String {
    "^[A-Za-z0-9_-]{43}$".to_owned()
}

fn is_param(name: &str) -> bool {
    PARAMS.iter().any(|p| p.name == name)
}

body_schema!(
    /// The JSON variant's body: the authorization request's parameters.
    AuthorizeRequest = &PARAMS
);

/// The page's query: the authorization request's parameters.
pub struct AuthorizeQuery;

impl utoipa::IntoParams for AuthorizeQuery {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        // Only the client and its redirect URI are refused here; every other fault of the
        // request goes back to the app as a redirect, so the page takes any value for them.
        PARAMS
            .iter()
            .map(|p| {
                let trusted = matches!(p.name, "client_id" | "redirect_uri");
                let schema = Rule::Raw { min: usize::from(trusted), max: usize::MAX }.schema();
                let mut param = query_param(p.name, p.about, schema);
                param.required = if trusted { Required::True } else { Required::False };
                param
            })
            .collect()
    }
}

/// Longest `state` carried back to the app, in characters.
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
    let state = raw_state.filter(|s| s.chars().count() <= STATE_MAX).map(str::to_owned);
    let to_client = |error: OAuthError| Refusal::ToClient {
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
        error,
    };
    let check_rest = || -> OAuthResult<(Scopes, String)> {
        if raw_state.is_some_and(|s| s.chars().count() > STATE_MAX) {
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
        .filter_map(|p| params.get(p.name).ok().flatten().map(|v| (p.name, v.to_owned())))
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
