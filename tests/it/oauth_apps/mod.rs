//! OAuth app management over real HTTP, on SQLite and PostgreSQL (docs/oauth.md, "Managing
//! apps"): creating an app with its client secret shown once, validation in class-validator
//! wording, listing and reading without secrets, updates, secret rotation with its overlap,
//! revocation that stops every token at once, the events both record, who may call each
//! route, and OAuth tokens being refused on these routes.

mod access;
mod create;
mod events;
mod list;
mod revoke;
mod secrets;
mod update;

use std::collections::HashSet;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::common::{TestApp, TestUser, str_of};

const BAD_REDIRECT: &str = "each value in redirectUris must be an https URL, or an http URL on \
     localhost or 127.0.0.1";

const BAD_SCOPE: &str = "each value in scopes must be one of the following values: \
     organization:read, organization:write, members:read, members:write, invites:read, \
     invites:write, webhooks:read, webhooks:write, events:publish";

const NAME_EMPTY: &str = "name should not be empty";
const NAME_NOT_STRING: &str = "name must be a string";
const NAME_TOO_LONG: &str = "name must be shorter than or equal to 100 characters";
const URIS_NOT_ARRAY: &str = "redirectUris must be an array";
const URIS_EMPTY: &str = "redirectUris should not be empty";
const SCOPES_NOT_ARRAY: &str = "scopes must be an array";
const SCOPES_EMPTY: &str = "scopes should not be empty";

/// The exact keys of an OAuthApp as the API shows it (never with its secret).
const APP_KEYS: [&str; 9] = [
    "id",
    "organizationId",
    "name",
    "clientId",
    "redirectUris",
    "scopes",
    "status",
    "createdAt",
    "updatedAt",
];

fn apps_path(org: &str) -> String {
    format!("/api/organizations/{org}/oauth-apps")
}

fn app_path(org: &str, app_id: &str) -> String {
    format!("/api/organizations/{org}/oauth-apps/{app_id}")
}

fn time_of(value: &Value, field: &str) -> chrono::DateTime<chrono::Utc> {
    let text = str_of(value, field);
    assert!(text.ends_with('Z'), "{field} in UTC with a Z suffix: {text}");
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{field} is RFC 3339 ({text}): {e}"))
        .with_timezone(&chrono::Utc)
}

/// An OAuthApp without its secret: exactly the documented fields, with these values.
fn assert_app_view(
    body: &Value,
    org: &str,
    name: &str,
    redirect_uris: &[&str],
    scopes: &[&str],
    status: &str,
) {
    let object = body.as_object().unwrap_or_else(|| panic!("app is an object: {body}"));
    let keys: HashSet<&str> = object.keys().map(String::as_str).collect();
    assert_eq!(keys, HashSet::from(APP_KEYS), "{body}");
    uuid::Uuid::parse_str(str_of(body, "id")).expect("id is a UUID");
    assert_eq!(body["organizationId"], json!(org), "{body}");
    assert_eq!(body["name"], json!(name), "{body}");
    assert_eq!(body["redirectUris"], json!(redirect_uris), "{body}");
    assert_eq!(body["scopes"], json!(scopes), "{body}");
    assert_eq!(body["status"], json!(status), "{body}");
    let client_id = str_of(body, "clientId");
    assert!(
        client_id.starts_with("rst_ci_") && client_id.len() > "rst_ci_".len() + 8,
        "client ID looks like rst_ci_…: {client_id}"
    );
    assert!(time_of(body, "updatedAt") >= time_of(body, "createdAt"), "{body}");
}

/// The view plus a fresh `rst_cs_…` client secret; returns the secret.
fn assert_app_with_secret(
    body: &Value,
    org: &str,
    name: &str,
    redirect_uris: &[&str],
    scopes: &[&str],
) -> String {
    let mut view = body.clone();
    let secret = view
        .as_object_mut()
        .expect("app is an object")
        .remove("clientSecret")
        .unwrap_or_else(|| panic!("clientSecret is shown: {body}"));
    assert_app_view(&view, org, name, redirect_uris, scopes, "active");
    let secret = secret.as_str().unwrap_or_else(|| panic!("secret is a string: {body}"));
    assert!(
        secret.starts_with("rst_cs_") && secret.len() >= "rst_cs_".len() + 20,
        "client secret looks like rst_cs_… with enough randomness: {secret}"
    );
    secret.to_owned()
}

/// No `clientSecret` key anywhere, nor any of `secrets` anywhere in the text.
fn assert_no_secret(value: &Value, secrets: &[&str]) {
    fn walk(value: &Value) {
        match value {
            Value::Object(map) => {
                assert!(!map.contains_key("clientSecret"), "secret shown again: {value}");
                map.values().for_each(walk);
            }
            Value::Array(items) => items.iter().for_each(walk),
            _ => {}
        }
    }
    walk(value);
    let text = value.to_string();
    for secret in secrets {
        assert!(!text.contains(secret), "secret {secret} leaked: {text}");
    }
}

async fn create_raw(app: &TestApp, org: &str, by: &TestUser, body: Value) -> (StatusCode, Value) {
    app.post(&apps_path(org), Some(&by.token), body).await
}

/// A `client_credentials` grant with HTTP Basic client authentication.
async fn token_with(
    app: &TestApp,
    client_id: &str,
    secret: &str,
) -> (StatusCode, HeaderMap, Value) {
    app.oauth_form(
        "/api/oauth/token",
        Some((client_id, secret)),
        &[("grant_type", "client_credentials")],
    )
    .await
}

async fn assert_secret_works(app: &TestApp, client_id: &str, secret: &str) {
    let (status, _, body) = token_with(app, client_id, secret).await;
    assert_eq!(status, StatusCode::OK, "the secret gets a token: {body}");
    let token = str_of(&body, "access_token");
    assert!(token.starts_with("rst_oat_"), "access token looks like rst_oat_…: {token}");
    assert_eq!(body["token_type"], "Bearer", "{body}");
}

/// The token endpoint's `invalid_client` answer: 401, RFC 6749 body, and a Basic challenge.
fn assert_invalid_client(status: StatusCode, headers: &HeaderMap, body: &Value) {
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"], "invalid_client", "{body}");
    assert!(body["error_description"].is_string(), "{body}");
    let challenge = headers
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("invalid_client carries WWW-Authenticate: {headers:?}"));
    assert!(challenge.starts_with("Basic"), "a Basic challenge: {challenge}");
    assert!(challenge.contains("realm=\"roster\""), "realm=\"roster\": {challenge}");
}

async fn assert_secret_refused(app: &TestApp, client_id: &str, secret: &str) {
    let (status, headers, body) = token_with(app, client_id, secret).await;
    assert_invalid_client(status, &headers, &body);
}

/// The organization's events of type `event`, newest first.
async fn events_of(app: &TestApp, org: &str, owner: &TestUser, event: &str) -> Vec<Value> {
    app.events(org, owner).await.into_iter().filter(|e| e["event"] == event).collect()
}
