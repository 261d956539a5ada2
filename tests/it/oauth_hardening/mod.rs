//! Hardening of the OAuth authorization server and of OAuth tokens on the API, over real HTTP
//! on SQLite and PostgreSQL: the event log and webhook subscriptions show an OAuth token only
//! what it could read through the API; no OAuth token gives a role above MEMBER;
//! a webhook written with an OAuth token follows its app's revocation and narrowing and its
//! person's leaving, also when these race the change; leaving an
//! organization ends the user's grants there; narrowing an app rewrites its tokens for good;
//! 401s carry an RFC 6750 challenge; revocation racing a refresh leaves nothing alive; an
//! overlong `state` is not echoed; oversized OAuth form bodies are refused in RFC 6749's shape;
//! a NUL in a parameter or credential is a 4xx on both backends.

mod app_revocation;
mod challenges;
mod event_log;
mod granted_roles;
mod leaving;
mod narrowing;
mod null_characters;
mod oversized_input;
mod races;
mod webhook_control;
mod webhook_races;
mod webhooks;

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::oauth::{TestOAuthApp, creds, org_path};
use crate::common::{TestApp, TestUser};

fn webhooks_path(org: &str) -> String {
    format!("/api/organizations/{org}/webhooks")
}

#[derive(Debug, Clone)]
struct Grant {
    access: String,
    refresh: String,
    scope: String,
}

fn grant_of(body: &Value) -> Grant {
    Grant {
        access: body["access_token"].as_str().expect("access_token").to_owned(),
        refresh: body["refresh_token"].as_str().expect("refresh_token").to_owned(),
        scope: body["scope"].as_str().expect("scope").to_owned(),
    }
}

/// An `authorization_code` grant for `user`; `scope` `None` means all of the app's.
async fn code_grant(
    app: &TestApp,
    oauth: &TestOAuthApp,
    user: &TestUser,
    scope: Option<&str>,
) -> Grant {
    grant_of(&app.authorization_code_grant(oauth, user, scope).await)
}

/// A `refresh_token` grant request.
async fn refresh(
    app: &TestApp,
    oauth: &TestOAuthApp,
    refresh_token: &str,
) -> (StatusCode, HeaderMap, Value) {
    app.oauth_form(
        "/api/oauth/token",
        creds(oauth),
        &[("grant_type", "refresh_token"), ("refresh_token", refresh_token)],
    )
    .await
}

/// A refresh token that must be refused with `400 invalid_grant`.
async fn assert_invalid_grant(app: &TestApp, oauth: &TestOAuthApp, refresh_token: &str) {
    let (status, _, body) = refresh(app, oauth, refresh_token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "refresh should be invalid_grant: {body}");
    assert_eq!(body["error"], json!("invalid_grant"), "{body}");
}

async fn introspect(app: &TestApp, oauth: &TestOAuthApp, token: &str) -> Value {
    let (status, _, body) =
        app.oauth_form("/api/oauth/introspect", creds(oauth), &[("token", token)]).await;
    assert_eq!(status, StatusCode::OK, "introspect: {body}");
    body
}

async fn assert_inactive(app: &TestApp, oauth: &TestOAuthApp, token: &str) {
    let info = introspect(app, oauth, token).await;
    assert_eq!(info, json!({"active": false}), "introspection of a dead token");
}

async fn assert_active(app: &TestApp, oauth: &TestOAuthApp, token: &str) -> Value {
    let info = introspect(app, oauth, token).await;
    assert_eq!(info["active"], json!(true), "introspection of a live token: {info}");
    info
}

async fn set_app_scopes(
    app: &TestApp,
    org: &str,
    by: &TestUser,
    oauth: &TestOAuthApp,
    scopes: &[&str],
) {
    let (status, body) = app
        .patch(
            &format!("{}/oauth-apps/{}", org_path(org), oauth.id),
            Some(&by.token),
            json!({"scopes": scopes}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "PATCH app scopes: {body}");
    assert_eq!(body["scopes"], json!(scopes), "{body}");
}

/// `POST …/webhooks` with `token`.
async fn post_webhook(
    app: &TestApp,
    org: &str,
    token: &str,
    url: &str,
    events: &[&str],
) -> (StatusCode, HeaderMap, Value) {
    app.send(
        Method::POST,
        &webhooks_path(org),
        Some(token),
        Some(json!({"url": url, "events": events})),
    )
    .await
}

/// `GET …/webhooks/{id}` as `by`.
async fn get_webhook(app: &TestApp, org: &str, by: &TestUser, id: &str) -> Value {
    let (status, body) = app.get(&format!("{}/{id}", webhooks_path(org)), Some(&by.token)).await;
    assert_eq!(status, StatusCode::OK, "GET webhook {id}: {body}");
    body
}

async fn revoke_app(app: &TestApp, org: &str, by: &TestUser, oauth: &TestOAuthApp) {
    let (status, body) = app
        .post(
            &format!("{}/oauth-apps/{}/revoke", org_path(org), oauth.id),
            Some(&by.token),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "revoke app: {body}");
    assert_eq!(body["status"], json!("revoked"), "{body}");
}

/// A new app of `org` with `scopes`, a `client_credentials` token of it, and the path of a
/// webhook that token created, subscribed to `member.added`.
async fn app_with_webhook(
    app: &TestApp,
    org: &str,
    by: &TestUser,
    scopes: &[&str],
) -> (TestOAuthApp, String, String) {
    let oauth = app.create_oauth_app(org, by, scopes).await;
    let token = app.client_credentials_token(&oauth, None).await;
    let (status, _, body) =
        post_webhook(app, org, &token, "https://race.example.com/h", &["member.added"]).await;
    assert_eq!(status, StatusCode::CREATED, "the app's webhook: {body}");
    let id = body["id"].as_str().expect("webhook id");
    let path = format!("{}/{id}", webhooks_path(org));
    (oauth, token, path)
}
