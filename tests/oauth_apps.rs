//! OAuth app management over real HTTP, on SQLite and PostgreSQL (docs/oauth.md, "Managing
//! apps"): creating an app with its client secret shown once, validation in class-validator
//! wording, listing and reading without secrets, updates, secret rotation with its overlap,
//! revocation that stops every token at once, the events both record, who may call each
//! route, and OAuth tokens being refused on these routes.
mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::oauth::{ALL_SCOPES, TestOAuthApp, random_id};
use common::{AUTH_REQUIRED, Backend, TestApp, TestUser, assert_error, assert_validation};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const ORG_NOT_FOUND: &str = "Organization not found";
const APP_NOT_FOUND: &str = "OAuth app not found";
const APP_REVOKED: &str = "OAuth app is revoked";
const BAD_UUID: &str = "Validation failed (uuid is expected)";
const OAUTH_REFUSED: &str = "Access denied. OAuth tokens cannot be used for this route.";
const BAD_REDIRECT: &str = "each value in redirectUris must be an https URL, or an http URL on \
     localhost or 127.0.0.1";
const BAD_SCOPE: &str = "each value in scopes must be one of the following values: \
     organization:read, organization:write, members:read, members:write, invites:read, \
     invites:write, webhooks:read, webhooks:write";
const NAME_EMPTY: &str = "name should not be empty";
const NAME_NOT_STRING: &str = "name must be a string";
const NAME_TOO_LONG: &str = "name must be shorter than or equal to 100 characters";
const URIS_NOT_ARRAY: &str = "redirectUris must be an array";
const URIS_EMPTY: &str = "redirectUris should not be empty";
const URIS_TOO_MANY: &str = "redirectUris must contain no more than 10 elements";
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

fn denied(action: &str) -> String {
    format!("Access denied. Only owners and admins can {action}.")
}

fn str_of<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field].as_str().unwrap_or_else(|| panic!("{field} is a string: {value}"))
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

// ---------------------------------------------------------------------------------------------
// POST …/oauth-apps
// ---------------------------------------------------------------------------------------------

async fn create_returns_the_app_with_its_secret_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;

    let uris = ["https://app.example.com/callback", "http://localhost:8080/cb"];
    // Scopes come back in the catalog's order whatever the request's.
    let (status, body) = create_raw(
        &app,
        &f.org,
        &f.owner,
        json!({
            "name": "Dashboard",
            "redirectUris": uris,
            "scopes": ["webhooks:read", "members:read", "organization:read"],
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let scopes = ["organization:read", "members:read", "webhooks:read"];
    let secret = assert_app_with_secret(&body, &f.org, "Dashboard", &uris, &scopes);
    let id = str_of(&body, "id").to_owned();
    let client_id = str_of(&body, "clientId").to_owned();
    assert_eq!(body["createdAt"], body["updatedAt"], "a new app was never updated: {body}");

    // The secret works, and is never shown again.
    assert_secret_works(&app, &client_id, &secret).await;
    let (status, one) = app.get(&app_path(&f.org, &id), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_app_view(&one, &f.org, "Dashboard", &uris, &scopes, "active");
    let mut expected = body.clone();
    expected.as_object_mut().expect("object").remove("clientSecret");
    assert_eq!(one, expected, "GET shows what create did, minus the secret");
    assert_no_secret(&one, &[&secret]);
    let (status, list) = app.get(&apps_path(&f.org), Some(&f.admin.token)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list, json!({"data": [expected], "nextCursor": null}));
    assert_no_secret(&list, &[&secret]);

    // An ADMIN registers apps too; every documented scope, and native-app redirect URIs.
    let native = [
        "http://localhost:8080/cb",
        "http://127.0.0.1/cb",
        "http://[::1]:7/cb",
        "http://localhost/cb?x=1",
        "https://x.example/cb?a=b&c=d",
    ];
    let (status, body) = create_raw(
        &app,
        &f.org,
        &f.admin,
        json!({"name": "CLI", "redirectUris": native, "scopes": ALL_SCOPES}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let cli_secret = assert_app_with_secret(&body, &f.org, "CLI", &native, &ALL_SCOPES);
    assert_ne!(cli_secret, secret, "every app has its own secret");
    assert_ne!(body["clientId"], json!(client_id), "every app has its own client ID");
    assert_ne!(body["id"], json!(id));

    // The limits themselves are allowed: 100-character names, 10 URIs, 2048-character URIs.
    let longest =
        format!("https://example.com/{}", "a".repeat(2048 - "https://example.com/".len()));
    assert_eq!(longest.len(), 2048);
    let mut ten: Vec<String> = (1..10).map(|i| format!("https://example.com/cb{i}")).collect();
    ten.push(longest);
    let name = "n".repeat(100);
    let (status, body) = create_raw(
        &app,
        &f.org,
        &f.owner,
        json!({"name": name, "redirectUris": ten, "scopes": ["members:write"]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let ten: Vec<&str> = ten.iter().map(String::as_str).collect();
    assert_app_with_secret(&body, &f.org, &name, &ten, &["members:write"]);

    let (status, list) = app.get(&apps_path(&f.org), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["data"].as_array().expect("data").len(), 3, "{list}");
    assert_no_secret(&list, &[&secret, &cli_secret]);
}

async fn create_validates_in_class_validator_wording(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let path = apps_path(&f.org);
    let token = Some(f.owner.token.as_str());
    let uris = json!(["https://app.example.com/cb"]);
    let scopes = json!(["members:read"]);

    // name
    let (status, body) =
        app.post(&path, token, json!({"redirectUris": uris, "scopes": scopes})).await;
    assert_validation(status, &body, &[NAME_EMPTY, NAME_NOT_STRING]);
    for name in [json!(""), json!("   ")] {
        let (status, body) = app
            .post(&path, token, json!({"name": name, "redirectUris": uris, "scopes": scopes}))
            .await;
        assert_validation(status, &body, &[NAME_EMPTY]);
    }
    for name in [json!(42), json!(["Dashboard"]), json!({"a": 1}), json!(true)] {
        let (status, body) = app
            .post(&path, token, json!({"name": name, "redirectUris": uris, "scopes": scopes}))
            .await;
        assert_validation(status, &body, &[NAME_NOT_STRING]);
    }
    let (status, body) = app
        .post(
            &path,
            token,
            json!({"name": "n".repeat(101), "redirectUris": uris, "scopes": scopes}),
        )
        .await;
    assert_validation(status, &body, &[NAME_TOO_LONG]);

    // redirectUris
    for bad in [json!("https://app.example.com/cb"), json!(null), json!(7), json!({"a": "b"})] {
        let (status, body) = app
            .post(&path, token, json!({"name": "A", "redirectUris": bad, "scopes": scopes}))
            .await;
        assert_validation(status, &body, &[URIS_NOT_ARRAY]);
    }
    let (status, body) = app.post(&path, token, json!({"name": "A", "scopes": scopes})).await;
    assert_validation(status, &body, &[URIS_NOT_ARRAY]);
    let (status, body) =
        app.post(&path, token, json!({"name": "A", "redirectUris": [], "scopes": scopes})).await;
    assert_validation(status, &body, &[URIS_EMPTY]);
    for bad in [
        json!("http://example.com/cb"),
        json!("ftp://example.com/cb"),
        json!("/cb"),
        json!("cb"),
        json!("https://x.example/cb#frag"),
        json!("https://x.example/cb#"),
        json!("not a url"),
        json!(""),
        json!("https://"),
        json!("javascript:alert(1)"),
        json!("http://localhost.example.com/cb"),
        json!("http://192.168.1.1/cb"),
        json!(7),
        json!(null),
    ] {
        let (status, body) = app
            .post(&path, token, json!({"name": "A", "redirectUris": [bad], "scopes": scopes}))
            .await;
        assert_validation(status, &body, &[BAD_REDIRECT]);
    }
    // One bad entry among good ones is one message.
    let (status, body) = app
        .post(
            &path,
            token,
            json!({
                "name": "A",
                "redirectUris": ["https://ok.example/cb", "http://example.com/cb", "/cb"],
                "scopes": scopes,
            }),
        )
        .await;
    assert_validation(status, &body, &[BAD_REDIRECT]);
    let eleven: Vec<String> = (0..11).map(|i| format!("https://example.com/cb{i}")).collect();
    let (status, body) = app
        .post(&path, token, json!({"name": "A", "redirectUris": eleven, "scopes": scopes}))
        .await;
    assert_validation(status, &body, &[URIS_TOO_MANY]);
    let too_long =
        format!("https://example.com/{}", "a".repeat(2049 - "https://example.com/".len()));
    assert_eq!(too_long.len(), 2049);
    let (status, body) = app
        .post(&path, token, json!({"name": "A", "redirectUris": [too_long], "scopes": scopes}))
        .await;
    // docs/oauth.md gives one wording for every bad entry, the too-long one included.
    assert_validation(status, &body, &[BAD_REDIRECT]);

    // scopes
    for bad in [json!("members:read"), json!(null), json!(1), json!({"members:read": true})] {
        let (status, body) =
            app.post(&path, token, json!({"name": "A", "redirectUris": uris, "scopes": bad})).await;
        assert_validation(status, &body, &[SCOPES_NOT_ARRAY]);
    }
    let (status, body) = app.post(&path, token, json!({"name": "A", "redirectUris": uris})).await;
    assert_validation(status, &body, &[SCOPES_NOT_ARRAY]);
    let (status, body) =
        app.post(&path, token, json!({"name": "A", "redirectUris": uris, "scopes": []})).await;
    assert_validation(status, &body, &[SCOPES_EMPTY]);
    for bad in [
        json!(["members:read", "members:delete"]),
        json!(["MEMBERS:READ"]),
        json!(["members"]),
        json!(["openid"]),
        json!(["members:read members:write"]),
        json!([""]),
        json!([7]),
        json!([null]),
    ] {
        let (status, body) =
            app.post(&path, token, json!({"name": "A", "redirectUris": uris, "scopes": bad})).await;
        assert_validation(status, &body, &[BAD_SCOPE]);
    }

    // Unknown properties, including the ones the server sets itself.
    for field in ["foo", "clientSecret", "clientId", "status", "organizationId"] {
        let mut body = json!({"name": "A", "redirectUris": uris, "scopes": scopes});
        body[field] = json!("x");
        let (status, res) = app.post(&path, token, body).await;
        let message = format!("property {field} should not exist");
        assert_validation(status, &res, &[message.as_str()]);
    }

    // Every violation at once.
    let (status, body) = app
        .post(&path, token, json!({"foo": 1, "name": "", "redirectUris": [], "scopes": "x"}))
        .await;
    assert_validation(
        status,
        &body,
        &["property foo should not exist", NAME_EMPTY, URIS_EMPTY, SCOPES_NOT_ARRAY],
    );
    let (status, body) = app.post(&path, token, json!({})).await;
    assert_validation(
        status,
        &body,
        &[NAME_EMPTY, NAME_NOT_STRING, URIS_NOT_ARRAY, SCOPES_NOT_ARRAY],
    );

    // A body that is not JSON, or not an object.
    let res = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(&f.owner.token)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .expect("request sent");
    let status = res.status();
    let body: Value = res.json().await.expect("JSON error body");
    assert_error(status, &body, StatusCode::BAD_REQUEST, "Request body must be valid JSON");
    let (status, body) = app.post(&path, token, json!(["name"])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["statusCode"], 400, "{body}");

    // Nothing was created by any of it.
    let (status, body) = app.get(&path, token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"data": [], "nextCursor": null}));
    assert!(events_of(&app, &f.org, &f.owner, "oauth_app.created").await.is_empty());
}

// ---------------------------------------------------------------------------------------------
// GET …/oauth-apps, GET …/oauth-apps/{appId}
// ---------------------------------------------------------------------------------------------

async fn list_is_paginated_newest_first_with_revoked_apps(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let mut ids = Vec::new();
    let mut secrets = Vec::new();
    for name in ["First", "Second", "Third"] {
        let (status, body) = create_raw(
            &app,
            &f.org,
            &f.owner,
            json!({"name": name, "redirectUris": ["https://a.example/cb"], "scopes": ["members:read"]}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        ids.push(str_of(&body, "id").to_owned());
        secrets.push(str_of(&body, "clientSecret").to_owned());
        // Distinct creation times, so "newest first" has one meaning.
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    let (status, body) = app
        .post(&format!("{}/revoke", app_path(&f.org, &ids[1])), Some(&f.owner.token), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let path = apps_path(&f.org);
    let token = Some(f.admin.token.as_str());
    let (status, page1) = app.get(&format!("{path}?limit=2"), token).await;
    assert_eq!(status, StatusCode::OK, "{page1}");
    let data = page1["data"].as_array().expect("data");
    assert_eq!(data.len(), 2, "{page1}");
    assert_app_view(
        &data[0],
        &f.org,
        "Third",
        &["https://a.example/cb"],
        &["members:read"],
        "active",
    );
    assert_eq!(data[0]["id"], json!(ids[2]));
    assert_app_view(
        &data[1],
        &f.org,
        "Second",
        &["https://a.example/cb"],
        &["members:read"],
        "revoked",
    );
    assert_eq!(data[1]["id"], json!(ids[1]));
    let cursor = page1["nextCursor"].as_str().unwrap_or_else(|| panic!("a next page: {page1}"));

    let (status, page2) = app.get(&format!("{path}?limit=2&cursor={cursor}"), token).await;
    assert_eq!(status, StatusCode::OK, "{page2}");
    let data = page2["data"].as_array().expect("data");
    assert_eq!(data.len(), 1, "{page2}");
    assert_eq!(data[0]["id"], json!(ids[0]));
    assert_app_view(
        &data[0],
        &f.org,
        "First",
        &["https://a.example/cb"],
        &["members:read"],
        "active",
    );
    assert_eq!(page2["nextCursor"], Value::Null, "{page2}");

    // The whole list by default, every page without secrets.
    let all = app.list_all(&path, &f.owner.token).await;
    let listed: Vec<&str> = all.iter().map(|a| a["id"].as_str().expect("id")).collect();
    assert_eq!(listed, [ids[2].as_str(), ids[1].as_str(), ids[0].as_str()]);
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert_no_secret(&page1, &secrets);
    assert_no_secret(&page2, &secrets);
    for id in &ids {
        let (status, one) = app.get(&app_path(&f.org, id), Some(&f.member.token)).await;
        assert_error(status, &one, StatusCode::FORBIDDEN, &denied("view OAuth apps"));
        let (status, one) = app.get(&app_path(&f.org, id), Some(&f.admin.token)).await;
        assert_eq!(status, StatusCode::OK, "{one}");
        assert_no_secret(&one, &secrets);
    }

    // Bad pagination parameters are validation errors.
    for (query, message) in [
        ("limit=0", "limit must not be less than 1"),
        ("limit=101", "limit must not be greater than 100"),
        ("cursor=Zm9v", "cursor must be a cursor returned by a previous page"),
    ] {
        let (status, body) = app.get(&format!("{path}?{query}"), token).await;
        assert_validation(status, &body, &[message]);
    }

    // Another organization's list is its own.
    let other = app.create_org(&f.outsider, "Other Corp").await;
    let (status, body) = app.get(&apps_path(&other), Some(&f.outsider.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"data": [], "nextCursor": null}));
}

// ---------------------------------------------------------------------------------------------
// Who may call what
// ---------------------------------------------------------------------------------------------

async fn every_route_is_for_owners_and_admins_of_the_organization(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let target = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let other_org = app.create_org(&f.outsider, "Other Corp").await;
    let foreign = app.create_oauth_app(&other_org, &f.outsider, &["members:read"]).await;
    let ap = app_path(&f.org, &target.id);
    let good = json!({"name": "New", "redirectUris": ["https://n.example/cb"], "scopes": ["invites:read"]});

    // (method, path, body, action, what an ADMIN gets); revoke last.
    let routes: Vec<(Method, String, Option<Value>, &str, StatusCode)> = vec![
        (
            Method::POST,
            apps_path(&f.org),
            Some(good.clone()),
            "create OAuth apps",
            StatusCode::CREATED,
        ),
        (Method::GET, apps_path(&f.org), None, "view OAuth apps", StatusCode::OK),
        (Method::GET, ap.clone(), None, "view OAuth apps", StatusCode::OK),
        (
            Method::PATCH,
            ap.clone(),
            Some(json!({"name": "Renamed"})),
            "manage OAuth apps",
            StatusCode::OK,
        ),
        (
            Method::POST,
            format!("{ap}/rotate-secret"),
            Some(json!({})),
            "manage OAuth apps",
            StatusCode::OK,
        ),
        (
            Method::POST,
            format!("{ap}/revoke"),
            Some(json!({})),
            "manage OAuth apps",
            StatusCode::OK,
        ),
    ];

    for (method, path, body, action, ok) in &routes {
        let what = format!("{method} {path}");
        for token in [None, Some("garbage"), Some("rst_at_0000000000000000000000000000")] {
            let (status, res) = app.call(method.clone(), path, token, body.clone()).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{what} with {token:?}: {res}");
            assert_error(status, &res, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
        }

        let (status, res) =
            app.call(method.clone(), path, Some(&f.member.token), body.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{what} as MEMBER: {res}");
        assert_error(status, &res, StatusCode::FORBIDDEN, &denied(action));

        let (status, res) =
            app.call(method.clone(), path, Some(&f.outsider.token), body.clone()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{what} as outsider: {res}");
        assert_error(status, &res, StatusCode::NOT_FOUND, ORG_NOT_FOUND);

        // An organization that does not exist looks like one the caller is not in.
        let missing = path.replacen(&f.org, &random_id(), 1);
        let (status, res) =
            app.call(method.clone(), &missing, Some(&f.owner.token), body.clone()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{what} in an unknown org: {res}");
        assert_error(status, &res, StatusCode::NOT_FOUND, ORG_NOT_FOUND);

        let malformed = path.replacen(&f.org, "not-a-uuid", 1);
        let (status, res) =
            app.call(method.clone(), &malformed, Some(&f.owner.token), body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what} with a bad org ID: {res}");
        assert_error(status, &res, StatusCode::BAD_REQUEST, BAD_UUID);

        if path.starts_with(&ap) {
            let unknown = path.replacen(&target.id, &random_id(), 1);
            let (status, res) =
                app.call(method.clone(), &unknown, Some(&f.owner.token), body.clone()).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{what} of an unknown app: {res}");
            assert_error(status, &res, StatusCode::NOT_FOUND, APP_NOT_FOUND);

            let malformed = path.replacen(&target.id, "nope", 1);
            let (status, res) =
                app.call(method.clone(), &malformed, Some(&f.owner.token), body.clone()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{what} with a bad app ID: {res}");
            assert_error(status, &res, StatusCode::BAD_REQUEST, BAD_UUID);

            // Another organization's app, through an organization the caller does manage.
            let theirs = path.replacen(&target.id, &foreign.id, 1);
            let (status, res) =
                app.call(method.clone(), &theirs, Some(&f.owner.token), body.clone()).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{what} of another org's app: {res}");
            assert_error(status, &res, StatusCode::NOT_FOUND, APP_NOT_FOUND);
            // …and this org's app through the other organization.
            let via_other = path.replacen(&f.org, &other_org, 1);
            let (status, res) =
                app.call(method.clone(), &via_other, Some(&f.outsider.token), body.clone()).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{what} via another org: {res}");
            assert_error(status, &res, StatusCode::NOT_FOUND, APP_NOT_FOUND);
        }

        let (status, res) =
            app.call(method.clone(), path, Some(&f.admin.token), body.clone()).await;
        assert_eq!(status, *ok, "{what} as ADMIN: {res}");
    }

    // The refused calls changed nothing: the other organization's app is untouched and works.
    let (status, body) = app.get(&app_path(&other_org, &foreign.id), Some(&f.outsider.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "active", "{body}");
    assert_eq!(body["name"], "Test app", "{body}");
    assert_secret_works(&app, &foreign.client_id, &foreign.client_secret).await;
    // Only the ADMIN's create happened in this organization, besides the fixture's.
    let created = events_of(&app, &f.org, &f.owner, "oauth_app.created").await;
    assert_eq!(created.len(), 2, "{created:?}");
    assert_eq!(events_of(&app, &f.org, &f.owner, "oauth_app.revoked").await.len(), 1);
}

async fn oauth_tokens_cannot_manage_oauth_apps(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &ALL_SCOPES).await;
    let token = app.client_credentials_token(&oauth, None).await;
    let other_org = app.create_org(&f.outsider, "Other Corp").await;
    let foreign = app.create_oauth_app(&other_org, &f.outsider, &["members:read"]).await;
    let good = json!({"name": "Sneaky", "redirectUris": ["https://n.example/cb"], "scopes": ["members:read"]});

    let routes = |org: &str, id: &str| -> Vec<(Method, String, Option<Value>)> {
        let ap = app_path(org, id);
        vec![
            (Method::POST, apps_path(org), Some(good.clone())),
            (Method::GET, apps_path(org), None),
            (Method::GET, ap.clone(), None),
            (Method::PATCH, ap.clone(), Some(json!({"scopes": ["members:read"]}))),
            (Method::POST, format!("{ap}/rotate-secret"), Some(json!({}))),
            (Method::POST, format!("{ap}/revoke"), Some(json!({}))),
        ]
    };
    for (method, path, body) in routes(&f.org, &oauth.id) {
        let (status, res) = app.call(method.clone(), &path, Some(&token), body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {res}");
        assert_error(status, &res, StatusCode::FORBIDDEN, OAUTH_REFUSED);
    }
    for (method, path, body) in routes(&other_org, &foreign.id) {
        let (status, res) = app.call(method.clone(), &path, Some(&token), body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {res}");
        assert_error(status, &res, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    }

    // Nothing changed: the app kept its scopes and status, and its token still works.
    let (status, body) = app.get(&app_path(&f.org, &oauth.id), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_app_view(&body, &f.org, "Test app", &[&oauth.redirect_uri], &ALL_SCOPES, "active");
    let (status, body) = app.get(&apps_path(&f.org), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"].as_array().expect("data").len(), 1, "{body}");
    assert_secret_works(&app, &oauth.client_id, &oauth.client_secret).await;
    assert_secret_works(&app, &foreign.client_id, &foreign.client_secret).await;
    let (status, body) = app.get(&format!("/api/organizations/{}", f.org), Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

// ---------------------------------------------------------------------------------------------
// PATCH …/oauth-apps/{appId}
// ---------------------------------------------------------------------------------------------

async fn patch_changes_name_redirect_uris_and_scopes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["members:read", "invites:read"]).await;
    let path = app_path(&f.org, &oauth.id);
    let (status, before) = app.get(&path, Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{before}");
    tokio::time::sleep(Duration::from_millis(10)).await;

    let (status, body) = app.patch(&path, Some(&f.admin.token), json!({"name": "Renamed"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let uri = oauth.redirect_uri.as_str();
    assert_app_view(&body, &f.org, "Renamed", &[uri], &["members:read", "invites:read"], "active");
    assert_eq!(body["id"], before["id"]);
    assert_eq!(body["clientId"], before["clientId"], "the client ID never changes");
    assert_eq!(body["createdAt"], before["createdAt"]);
    assert!(time_of(&body, "updatedAt") > time_of(&before, "updatedAt"), "{before} → {body}");
    assert_no_secret(&body, &[&oauth.client_secret]);

    let uris = ["https://new.example/cb", "http://127.0.0.1:5000/cb"];
    let (status, body) =
        app.patch(&path, Some(&f.owner.token), json!({"redirectUris": uris})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_app_view(&body, &f.org, "Renamed", &uris, &["members:read", "invites:read"], "active");

    let (status, body) = app
        .patch(
            &path,
            Some(&f.owner.token),
            json!({"scopes": ["webhooks:write", "organization:read"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let scopes = ["organization:read", "webhooks:write"];
    assert_app_view(&body, &f.org, "Renamed", &uris, &scopes, "active");

    // All three at once, and an empty patch changes nothing.
    let (status, body) = app
        .patch(
            &path,
            Some(&f.owner.token),
            json!({"name": "Final", "redirectUris": ["https://final.example/cb"], "scopes": ["members:write"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_app_view(
        &body,
        &f.org,
        "Final",
        &["https://final.example/cb"],
        &["members:write"],
        "active",
    );
    let (status, same) = app.patch(&path, Some(&f.owner.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{same}");
    assert_app_view(
        &same,
        &f.org,
        "Final",
        &["https://final.example/cb"],
        &["members:write"],
        "active",
    );
    let (status, got) = app.get(&path, Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got, same, "GET shows the patched app");

    // The token endpoint follows the app's scopes, and the secret did not change.
    let (status, _, body) = token_with(&app, &oauth.client_id, &oauth.client_secret).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], "members:write", "{body}");

    // Validation, as for create.
    let token = Some(f.owner.token.as_str());
    for (patch, messages) in [
        (json!({"name": ""}), vec![NAME_EMPTY]),
        (json!({"name": 5}), vec![NAME_NOT_STRING]),
        (json!({"name": "n".repeat(101)}), vec![NAME_TOO_LONG]),
        (json!({"redirectUris": []}), vec![URIS_EMPTY]),
        (json!({"redirectUris": "https://a.example/cb"}), vec![URIS_NOT_ARRAY]),
        (json!({"redirectUris": ["http://example.com/cb"]}), vec![BAD_REDIRECT]),
        (json!({"redirectUris": ["https://a.example/cb#x"]}), vec![BAD_REDIRECT]),
        (json!({"scopes": []}), vec![SCOPES_EMPTY]),
        (json!({"scopes": "members:read"}), vec![SCOPES_NOT_ARRAY]),
        (json!({"scopes": ["members:admin"]}), vec![BAD_SCOPE]),
        (json!({"foo": 1}), vec!["property foo should not exist"]),
        (json!({"clientId": "rst_ci_mine"}), vec!["property clientId should not exist"]),
        (json!({"status": "active"}), vec!["property status should not exist"]),
        (
            json!({"foo": 1, "name": "", "scopes": []}),
            vec!["property foo should not exist", NAME_EMPTY, SCOPES_EMPTY],
        ),
    ] {
        let (status, body) = app.patch(&path, token, patch.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{patch}: {body}");
        assert_validation(status, &body, &messages);
    }
    let (status, got) = app.get(&path, Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got, same, "refused patches changed nothing");
}

async fn a_revoked_app_cannot_be_changed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let path = app_path(&f.org, &oauth.id);
    let (status, body) = app.post(&format!("{path}/revoke"), Some(&f.owner.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let revoked = body.clone();

    for patch in [
        json!({"name": "Back again"}),
        json!({"redirectUris": ["https://x.example/cb"]}),
        json!({"scopes": ALL_SCOPES}),
    ] {
        let (status, body) = app.patch(&path, Some(&f.owner.token), patch).await;
        assert_error(status, &body, StatusCode::CONFLICT, APP_REVOKED);
    }
    let (status, body) =
        app.post(&format!("{path}/rotate-secret"), Some(&f.admin.token), json!({})).await;
    assert_error(status, &body, StatusCode::CONFLICT, APP_REVOKED);

    let (status, body) = app.get(&path, Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, revoked, "nothing changed");
    assert_secret_refused(&app, &oauth.client_id, &oauth.client_secret).await;
}

// ---------------------------------------------------------------------------------------------
// POST …/oauth-apps/{appId}/rotate-secret
// ---------------------------------------------------------------------------------------------

async fn rotate_secret_keeps_the_previous_one_during_the_overlap(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let path = app_path(&f.org, &oauth.id);
    let (status, before) = app.get(&path, Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{before}");

    let (status, body) =
        app.post(&format!("{path}/rotate-secret"), Some(&f.admin.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let uri = oauth.redirect_uri.as_str();
    let second = assert_app_with_secret(&body, &f.org, "Test app", &[uri], &["members:read"]);
    assert_ne!(second, oauth.client_secret, "a new secret");
    assert_eq!(body["id"], before["id"]);
    assert_eq!(body["clientId"], before["clientId"], "the client ID stays");

    // Both work during the overlap, with Basic and with client_secret_post.
    assert_secret_works(&app, &oauth.client_id, &second).await;
    assert_secret_works(&app, &oauth.client_id, &oauth.client_secret).await;
    for secret in [second.as_str(), oauth.client_secret.as_str()] {
        let (status, _, body) = app
            .oauth_form(
                "/api/oauth/token",
                None,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", &oauth.client_id),
                    ("client_secret", secret),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "client_secret_post: {body}");
    }
    assert_secret_refused(&app, &oauth.client_id, "rst_cs_not-the-secret").await;

    // The new secret is not shown again.
    let (status, got) = app.get(&path, Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_no_secret(&got, &[&second, &oauth.client_secret]);
    let (status, list) = app.get(&apps_path(&f.org), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_no_secret(&list, &[&second, &oauth.client_secret]);

    // Rotating again: only the latest previous secret stays valid.
    let (status, body) =
        app.post(&format!("{path}/rotate-secret"), Some(&f.owner.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let third = assert_app_with_secret(&body, &f.org, "Test app", &[uri], &["members:read"]);
    assert_ne!(third, second);
    assert_ne!(third, oauth.client_secret);
    assert_secret_works(&app, &oauth.client_id, &third).await;
    assert_secret_works(&app, &oauth.client_id, &second).await;
    assert_secret_refused(&app, &oauth.client_id, &oauth.client_secret).await;
    // Another app's secret is no secret of this one.
    let other = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    assert_secret_refused(&app, &oauth.client_id, &other.client_secret).await;
    assert_secret_refused(&app, &other.client_id, &third).await;
}

async fn the_previous_secret_stops_after_the_overlap(backend: Backend) {
    let overlap = Duration::from_millis(1500);
    let app = TestApp::spawn_with(backend, |config| config.oauth_secret_overlap = overlap).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let path = app_path(&f.org, &oauth.id);

    let (status, body) =
        app.post(&format!("{path}/rotate-secret"), Some(&f.owner.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let new_secret = str_of(&body, "clientSecret").to_owned();
    assert_secret_works(&app, &oauth.client_id, &oauth.client_secret).await;

    tokio::time::sleep(overlap + Duration::from_millis(700)).await;
    assert_secret_refused(&app, &oauth.client_id, &oauth.client_secret).await;
    // client_secret_post is refused alike.
    let (status, headers, body) = app
        .oauth_form(
            "/api/oauth/token",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &oauth.client_id),
                ("client_secret", &oauth.client_secret),
            ],
        )
        .await;
    assert_invalid_client(status, &headers, &body);
    assert_secret_works(&app, &oauth.client_id, &new_secret).await;
}

// ---------------------------------------------------------------------------------------------
// POST …/oauth-apps/{appId}/revoke
// ---------------------------------------------------------------------------------------------

async fn revoke_stops_every_token_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &ALL_SCOPES).await;
    let bystander = app.create_oauth_app(&f.org, &f.owner, &ALL_SCOPES).await;
    let token = app.client_credentials_token(&oauth, None).await;
    let narrow = app.client_credentials_token(&oauth, Some("members:read")).await;
    let other_token = app.client_credentials_token(&bystander, None).await;
    let grant = app.authorization_code_grant(&oauth, &f.member, None).await;
    let user_token = str_of(&grant, "access_token").to_owned();
    let refresh = str_of(&grant, "refresh_token").to_owned();
    let org_path = format!("/api/organizations/{}", f.org);
    for t in [&token, &user_token] {
        let (status, body) = app.get(&org_path, Some(t)).await;
        assert_eq!(status, StatusCode::OK, "the token works before: {body}");
    }
    let path = app_path(&f.org, &oauth.id);
    let (status, before) = app.get(&path, Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{before}");

    let (status, body) = app.post(&format!("{path}/revoke"), Some(&f.admin.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let uri = oauth.redirect_uri.as_str();
    assert_app_view(&body, &f.org, "Test app", &[uri], &ALL_SCOPES, "revoked");
    assert_eq!(body["id"], before["id"]);
    assert_eq!(body["clientId"], before["clientId"]);
    assert_no_secret(&body, &[&oauth.client_secret]);
    let revoked = body.clone();

    // Every token it holds stops at once, a user's included.
    for t in [&token, &narrow, &user_token] {
        let (status, body) = app.get(&org_path, Some(t)).await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
        let (status, body) = app.get(&format!("{org_path}/members"), Some(t)).await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    }
    // The app can get no new ones, not even with the refresh token it holds.
    assert_secret_refused(&app, &oauth.client_id, &oauth.client_secret).await;
    let (status, headers, body) = app
        .oauth_form(
            "/api/oauth/token",
            Some((&oauth.client_id, &oauth.client_secret)),
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        )
        .await;
    assert_invalid_client(status, &headers, &body);
    // Other apps are untouched.
    let (status, body) = app.get(&org_path, Some(&other_token)).await;
    assert_eq!(status, StatusCode::OK, "another app's token still works: {body}");
    assert_secret_works(&app, &bystander.client_id, &bystander.client_secret).await;

    // Revoking again answers 200 and changes nothing.
    let (status, again) =
        app.post(&format!("{path}/revoke"), Some(&f.owner.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again, revoked, "a second revoke changes nothing");
    let (status, got) = app.get(&path, Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got, revoked);

    // One oauth_app.revoked, by the ADMIN who revoked it.
    let events = events_of(&app, &f.org, &f.owner, "oauth_app.revoked").await;
    assert_eq!(events.len(), 1, "revoked is emitted once: {events:?}");
    assert_eq!(
        events[0]["data"],
        json!({
            "actor": {"type": "user", "id": f.admin.id},
            "appId": oauth.id,
            "name": "Test app",
            "clientId": oauth.client_id,
        })
    );
}

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

async fn creation_and_revocation_are_recorded_as_events(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let (status, org) =
        app.get(&format!("/api/organizations/{}", f.org), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{org}");
    let org_ref = json!({"id": org["id"], "slug": org["slug"], "name": org["name"]});

    let (status, body) = create_raw(
        &app,
        &f.org,
        &f.owner,
        json!({
            "name": "Reporting",
            "redirectUris": ["https://r.example/cb"],
            "scopes": ["webhooks:read", "organization:read"],
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = str_of(&body, "id").to_owned();
    let client_id = str_of(&body, "clientId").to_owned();
    let secret = str_of(&body, "clientSecret").to_owned();
    // PATCH and rotation emit no events of their own.
    let path = app_path(&f.org, &id);
    let (status, body) = app.patch(&path, Some(&f.admin.token), json!({"name": "Reports"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) =
        app.post(&format!("{path}/rotate-secret"), Some(&f.admin.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let new_secret = str_of(&body, "clientSecret").to_owned();
    let (status, body) = app.post(&format!("{path}/revoke"), Some(&f.admin.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let events = app.events(&f.org, &f.owner).await;
    let ours: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"].as_str().is_some_and(|t| t.starts_with("oauth_app.")))
        .collect();
    assert_eq!(ours.len(), 2, "{ours:?}");
    // Newest first.
    let (revoked, created) = (ours[0], ours[1]);
    assert_eq!(created["event"], "oauth_app.created");
    assert_eq!(created["organization"], org_ref);
    assert_eq!(
        created["data"],
        json!({
            "actor": {"type": "user", "id": f.owner.id},
            "appId": id,
            "name": "Reporting",
            "clientId": client_id,
            "scopes": ["organization:read", "webhooks:read"],
        })
    );
    uuid::Uuid::parse_str(str_of(created, "id")).expect("event id is a UUID");
    time_of(created, "timestamp");
    assert_eq!(revoked["event"], "oauth_app.revoked");
    assert_eq!(revoked["organization"], org_ref);
    assert_eq!(
        revoked["data"],
        json!({
            "actor": {"type": "user", "id": f.admin.id},
            "appId": id,
            "name": "Reports",
            "clientId": client_id,
        })
    );
    // The event log never carries a secret.
    assert_no_secret(&json!(events), &[&secret, &new_secret]);

    // Filterable by type.
    let (status, body) = app
        .get(
            &format!("/api/organizations/{}/events?event=oauth_app.created", f.org),
            Some(&f.owner.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = body["data"].as_array().expect("data");
    assert_eq!(data.len(), 1, "{body}");
    assert_eq!(&data[0], created);
}

async fn stories_of_other_organizations_stay_apart(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let other_org = app.create_org(&f.outsider, "Other Corp").await;
    let mine: TestOAuthApp = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let theirs = app.create_oauth_app(&other_org, &f.outsider, &["members:read"]).await;

    let (status, body) = app.get(&apps_path(&f.org), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ids: Vec<&str> = body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|a| a["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, [mine.id.as_str()]);
    let (status, body) = app.get(&apps_path(&other_org), Some(&f.outsider.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ids: Vec<&str> = body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|a| a["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, [theirs.id.as_str()]);
    assert!(
        events_of(&app, &f.org, &f.owner, "oauth_app.created")
            .await
            .iter()
            .all(|e| e["data"]["appId"] == json!(mine.id))
    );

    // The owner of one organization cannot revoke the other's app by its ID.
    let (status, body) = app
        .post(&format!("{}/revoke", app_path(&f.org, &theirs.id)), Some(&f.owner.token), json!({}))
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, APP_NOT_FOUND);
    let (status, body) = app
        .post(
            &format!("{}/revoke", app_path(&other_org, &theirs.id)),
            Some(&f.owner.token),
            json!({}),
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    assert_secret_works(&app, &theirs.client_id, &theirs.client_secret).await;
}

async fn concurrent_revokes_emit_one_event(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let path = format!("{}/revoke", app_path(&f.org, &oauth.id));
    let answers = futures::future::join_all((0..6).map(|i| {
        let api = app.api.clone();
        let path = path.clone();
        let token = if i % 2 == 0 { f.owner.token.clone() } else { f.admin.token.clone() };
        async move { api.post(&path, Some(&token), json!({})).await }
    }))
    .await;
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "revoked", "{body}");
    }
    let events = events_of(&app, &f.org, &f.owner, "oauth_app.revoked").await;
    assert_eq!(events.len(), 1, "one oauth_app.revoked however many revokes raced: {events:?}");
    assert_eq!(events[0]["data"]["appId"], json!(oauth.id));
    assert_secret_refused(&app, &oauth.client_id, &oauth.client_secret).await;
}

on_both_backends!(
    create_returns_the_app_with_its_secret_once,
    create_validates_in_class_validator_wording,
    list_is_paginated_newest_first_with_revoked_apps,
    every_route_is_for_owners_and_admins_of_the_organization,
    oauth_tokens_cannot_manage_oauth_apps,
    patch_changes_name_redirect_uris_and_scopes,
    a_revoked_app_cannot_be_changed,
    rotate_secret_keeps_the_previous_one_during_the_overlap,
    the_previous_secret_stops_after_the_overlap,
    revoke_stops_every_token_at_once,
    concurrent_revokes_emit_one_event,
    creation_and_revocation_are_recorded_as_events,
    stories_of_other_organizations_stay_apart,
);
