//! Roster as an OAuth 2.0 authorization server (docs/oauth.md; RFC 6749, 7636, 7009, 7662,
//! 8414, 6750), over real HTTP on both backends: the authorization-code flow with PKCE through
//! the HTML consent page and through the JSON shortcut, the token endpoint's grants and errors,
//! revocation, introspection, revoking an app, and the server metadata. The happy paths are
//! driven by the `oauth2` crate, a client nobody on this project wrote.

mod authorization_code;
mod client_credentials;
mod introspection;
mod metadata;
mod pages;
mod refresh;
mod revocation;
mod token_endpoint;

use std::collections::BTreeSet;

use oauth2::basic::BasicClient;
use oauth2::url::Url;
use oauth2::{
    AsyncHttpClient, AuthType, AuthUrl, ClientId, ClientSecret, EndpointNotSet, EndpointSet,
    IntrospectionUrl, PkceCodeChallenge, RedirectUrl, RevocationUrl, Scope, StandardRevocableToken,
    TokenUrl,
};
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderMap, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::oauth::{
    TestOAuthApp, assert_insufficient_scope, browser, creds, header, members_path, query,
};
use crate::common::{AUTH_REQUIRED, TestApp, TestUser, assert_error};

/// An `oauth2` client with every endpoint this server offers.
type OAuthClient = BasicClient<EndpointSet, EndpointNotSet, EndpointSet, EndpointSet, EndpointSet>;

fn oauth_client(app: &TestApp, oauth_app: &TestOAuthApp) -> OAuthClient {
    BasicClient::new(ClientId::new(oauth_app.client_id.clone()))
        .set_client_secret(ClientSecret::new(oauth_app.client_secret.clone()))
        .set_auth_uri(AuthUrl::new(format!("{}/api/oauth/authorize", app.base)).expect("auth URL"))
        .set_token_uri(TokenUrl::new(format!("{}/api/oauth/token", app.base)).expect("token URL"))
        .set_revocation_url(
            RevocationUrl::new(format!("{}/api/oauth/revoke", app.base)).expect("revocation URL"),
        )
        .set_introspection_url(
            IntrospectionUrl::new(format!("{}/api/oauth/introspect", app.base))
                .expect("introspection URL"),
        )
        .set_redirect_uri(RedirectUrl::new(oauth_app.redirect_uri.clone()).expect("redirect URL"))
}

/// Revokes `token` through oauth2's RFC 7009 support. oauth2 refuses a revocation URL that is
/// not https (RFC 7009 §2); the test server speaks plain HTTP on loopback, so the client is
/// given the https URL and this transport carries the request there over http.
async fn oauth2_revoke(
    app: &TestApp,
    oauth_app: &TestOAuthApp,
    auth: AuthType,
    token: StandardRevocableToken,
) {
    let https = format!("{}/api/oauth/revoke", app.base).replacen("http://", "https://", 1);
    let client = oauth_client(app, oauth_app)
        .set_auth_type(auth)
        .set_revocation_url(RevocationUrl::new(https).expect("revocation URL"));
    let http = browser();
    let transport = |request: oauth2::HttpRequest| {
        let http = http.clone();
        async move {
            let (mut parts, body) = request.into_parts();
            let uri = parts.uri.to_string().replacen("https://", "http://", 1);
            parts.uri = uri.parse().expect("plain-HTTP URI");
            http.call(oauth2::http::Request::from_parts(parts, body)).await
        }
    };
    client
        .revoke_token(token)
        .expect("https revocation URL")
        .request_async(&transport)
        .await
        .expect("revocation through oauth2");
}

fn set_of<'a>(items: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    items.into_iter().map(str::to_owned).collect()
}

fn scope_set(scope: &str) -> BTreeSet<String> {
    set_of(scope.split_whitespace())
}

fn oauth2_scopes(scopes: Option<&Vec<Scope>>) -> BTreeSet<String> {
    scopes.expect("scope in the answer").iter().map(|s| s.as_str().to_owned()).collect()
}

/// The usual authorization request parameters for `oauth_app`.
fn code_params<'a>(
    oauth_app: &'a TestOAuthApp,
    scope: &'a str,
    state: &'a str,
    challenge: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", oauth_app.client_id.as_str()),
        ("redirect_uri", oauth_app.redirect_uri.as_str()),
        ("scope", scope),
        ("state", state),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
}

/// `url` is `redirect_uri` plus a query.
fn assert_redirects_to(url: &Url, redirect_uri: &str) {
    let mut bare = url.clone();
    bare.set_query(None);
    assert_eq!(bare.as_str(), redirect_uri, "redirect target of {url}");
    assert!(url.fragment().is_none(), "no fragment: {url}");
}

fn authorize_body(
    oauth_app: &TestOAuthApp,
    scope: Option<&str>,
    state: &str,
    challenge: &str,
) -> Value {
    let mut body = json!({
        "response_type": "code",
        "client_id": oauth_app.client_id,
        "redirect_uri": oauth_app.redirect_uri,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    });
    if let Some(scope) = scope {
        body["scope"] = json!(scope);
    }
    body
}

/// A fresh code for `user` through `POST /api/oauth/authorize`, and its PKCE verifier.
async fn mint_code(
    app: &TestApp,
    oauth_app: &TestOAuthApp,
    user: &TestUser,
    scope: Option<&str>,
) -> (String, String) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (status, body) = app
        .post(
            "/api/oauth/authorize",
            Some(&user.token),
            authorize_body(oauth_app, scope, "xyz-state", challenge.as_str()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "authorize: {body}");
    let to = Url::parse(body["redirect_to"].as_str().expect("redirect_to")).expect("absolute");
    assert_redirects_to(&to, &oauth_app.redirect_uri);
    assert_eq!(query(&to, "state").as_deref(), Some("xyz-state"));
    let code = query(&to, "code").expect("code");
    assert!(code.starts_with("rst_ac_"), "code {code}");
    (code, verifier.secret().clone())
}

/// An `authorization_code` exchange that must succeed; returns the token response.
async fn exchange(app: &TestApp, oauth_app: &TestOAuthApp, code: &str, verifier: &str) -> Value {
    let (status, headers, body) = app.exchange_code(oauth_app, code, verifier).await;
    assert_token_response(status, &headers, &body);
    body
}

/// A successful token response (RFC 6749 §5.1).
fn assert_token_response(status: StatusCode, headers: &HeaderMap, body: &Value) {
    assert_eq!(status, StatusCode::OK, "{body}");
    let cache = header(headers, CACHE_CONTROL).unwrap_or_default();
    assert!(cache.contains("no-store"), "Cache-Control {cache}");
    let content_type = header(headers, CONTENT_TYPE).unwrap_or_default();
    assert!(content_type.starts_with("application/json"), "Content-Type {content_type}");
    assert_eq!(body["token_type"], json!("Bearer"), "{body}");
    assert_eq!(body["expires_in"], json!(3600), "{body}");
    let access = body["access_token"].as_str().expect("access_token");
    assert!(access.starts_with("rst_oat_"), "access token {access}");
    assert!(body["scope"].is_string(), "{body}");
}

struct Grant {
    access: String,
    refresh: String,
    scope: String,
}

fn grant_of(body: &Value) -> Grant {
    let refresh = body["refresh_token"].as_str().expect("refresh_token").to_owned();
    assert!(refresh.starts_with("rst_ort_"), "refresh token {refresh}");
    Grant {
        access: body["access_token"].as_str().expect("access_token").to_owned(),
        refresh,
        scope: body["scope"].as_str().expect("scope").to_owned(),
    }
}

/// Tokens for `user` by the code flow (JSON shortcut, then the token endpoint).
async fn code_grant(
    app: &TestApp,
    oauth_app: &TestOAuthApp,
    user: &TestUser,
    scope: Option<&str>,
) -> Grant {
    let (code, verifier) = mint_code(app, oauth_app, user, scope).await;
    grant_of(&exchange(app, oauth_app, &code, &verifier).await)
}

/// A `refresh_token` grant request.
async fn refresh(
    app: &TestApp,
    oauth_app: &TestOAuthApp,
    refresh_token: &str,
    scope: Option<&str>,
) -> (StatusCode, HeaderMap, Value) {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    app.oauth_form("/api/oauth/token", creds(oauth_app), &form).await
}

/// An RFC 6749 §5.2 error: status, exact code, a string description, nothing unexpected.
fn assert_oauth_error(
    status: StatusCode,
    headers: &HeaderMap,
    body: &Value,
    expected: StatusCode,
    code: &str,
) {
    assert_eq!(status, expected, "expected {code}: {body}");
    assert_eq!(body["error"], json!(code), "{body}");
    assert!(body["error_description"].is_string(), "error_description is a string: {body}");
    let object = body.as_object().expect("error body is an object");
    assert!(
        object.keys().all(|k| ["error", "error_description", "error_uri"].contains(&k.as_str())),
        "RFC 6749 error shape: {body}"
    );
    let content_type = header(headers, CONTENT_TYPE).unwrap_or_default();
    assert!(content_type.starts_with("application/json"), "Content-Type {content_type}");
    if code == "invalid_client" && expected == StatusCode::UNAUTHORIZED {
        let challenge = header(headers, WWW_AUTHENTICATE).expect("WWW-Authenticate on 401");
        assert!(
            challenge.starts_with("Basic") && challenge.contains("realm=\"roster\""),
            "WWW-Authenticate {challenge}"
        );
    }
}

/// Posts a form to the token endpoint that must fail with `code`.
async fn token_error(
    app: &TestApp,
    client: Option<(&str, &str)>,
    form: &[(&str, &str)],
    expected: StatusCode,
    code: &str,
) {
    let (status, headers, body) = app.oauth_form("/api/oauth/token", client, form).await;
    assert_oauth_error(status, &headers, &body, expected, code);
}

/// An RFC 6749 error body with one of several acceptable codes (where the contract leaves
/// the choice open); returns the code.
fn assert_oauth_error_among(status: StatusCode, body: &Value, codes: &[&str]) -> String {
    assert!(status.is_client_error(), "expected one of {codes:?}, got {status}: {body}");
    let code = body["error"].as_str().unwrap_or_else(|| panic!("OAuth error body: {body}"));
    assert!(codes.contains(&code), "expected one of {codes:?}: {body}");
    assert!(body["error_description"].is_string(), "error_description is a string: {body}");
    code.to_owned()
}

async fn introspect(app: &TestApp, oauth_app: &TestOAuthApp, token: &str) -> Value {
    let (status, headers, body) =
        app.oauth_form("/api/oauth/introspect", creds(oauth_app), &[("token", token)]).await;
    assert_eq!(status, StatusCode::OK, "introspect: {body}");
    let content_type = header(&headers, CONTENT_TYPE).unwrap_or_default();
    assert!(content_type.starts_with("application/json"), "Content-Type {content_type}");
    body
}

async fn assert_inactive(app: &TestApp, oauth_app: &TestOAuthApp, token: &str) {
    assert_eq!(introspect(app, oauth_app, token).await, json!({"active": false}));
}

/// Revokes `token` as `oauth_app`; it must answer 200 with an empty body.
async fn revoke(app: &TestApp, oauth_app: &TestOAuthApp, token: &str, hint: Option<&str>) {
    let mut form = vec![("token", token)];
    if let Some(hint) = hint {
        form.push(("token_type_hint", hint));
    }
    let (status, _, body) = app.oauth_form("/api/oauth/revoke", creds(oauth_app), &form).await;
    assert_eq!(status, StatusCode::OK, "revoke: {body}");
    assert_eq!(body, Value::Null, "revocation answers an empty body");
}

async fn assert_dead(app: &TestApp, org: &str, token: &str) {
    let (status, body) = app.get(&members_path(org), Some(token)).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
}

/// A route the token lacks `scope` for: 403 with the RFC 6750 challenge.
async fn assert_lacks_scope(app: &TestApp, path: &str, token: &str, scope: &str) {
    let (status, headers, body) = app.send(Method::GET, path, Some(token), None).await;
    assert_insufficient_scope(&format!("GET {path}"), status, &headers, &body, scope);
}
