//! Personal access tokens: creating, listing, using and deleting them.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{assert_keys, assert_token_refused, assert_token_works};
use crate::common::messages::{RATE_LIMITED, WRONG_PASSWORD};
use crate::common::{
    AUTH_REQUIRED, Backend, PASSWORD, TestApp, TestUser, assert_error, assert_timestamp,
    assert_validation,
};

/// Creates a personal access token and returns the creation body.
async fn create_pat(app: &TestApp, user: &TestUser, name: &str) -> Value {
    let body = json!({"name": name, "currentPassword": PASSWORD});
    let (status, body) = app.post("/api/users/me/tokens", Some(&user.token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

fn str_field<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field].as_str().unwrap_or_else(|| panic!("{field} is a string: {value}"))
}

async fn list_pats(app: &TestApp, user: &TestUser, query: &str) -> (StatusCode, Value) {
    app.get(&format!("/api/users/me/tokens{query}"), Some(&user.token)).await
}

/// Names of one page of the user's tokens, and its next cursor.
async fn pat_page(app: &TestApp, user: &TestUser, query: &str) -> (Vec<String>, Option<String>) {
    let (status, body) = list_pats(app, user, query).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_keys(&body, &["data", "nextCursor"]);
    let names = body["data"]
        .as_array()
        .expect("data array")
        .iter()
        .map(|t| {
            assert_keys(t, &["id", "name", "createdAt", "expiresAt", "lastUsedAt"]);
            str_field(t, "name").to_owned()
        })
        .collect();
    (names, body["nextCursor"].as_str().map(str::to_owned))
}

async fn delete_pat(app: &TestApp, user: &TestUser, id: &str) -> (StatusCode, Value) {
    app.delete(&format!("/api/users/me/tokens/{id}"), Some(&user.token)).await
}

async fn pat_is_created_and_works_as_bearer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let (status, body) = app
        .post(
            "/api/users/me/tokens",
            Some(&ada.token),
            json!({"name": "CI deploys", "expiresInDays": 30, "currentPassword": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_keys(&body, &["id", "name", "createdAt", "expiresAt", "lastUsedAt", "token"]);
    assert_eq!(body["name"], json!("CI deploys"));
    assert_eq!(body["lastUsedAt"], Value::Null);
    assert_timestamp(&body["createdAt"]);
    assert_timestamp(&body["expiresAt"]);
    let token = str_field(&body, "token");
    assert!(token.starts_with("rst_pat_"), "{body}");
    assert_token_works(&app, token, &ada).await;
    let (status, listed) = list_pats(&app, &ada, "").await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_timestamp(&listed["data"][0]["lastUsedAt"]);

    let forever = create_pat(&app, &ada, "forever").await;
    assert_eq!(forever["expiresAt"], Value::Null);
    app.stop().await;
}

async fn pat_list_is_newest_first_paginated_and_hides_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    for name in ["first", "second", "third"] {
        create_pat(&app, &ada, name).await;
    }
    create_pat(&app, &bob, "bob's").await;

    let (names, cursor) = pat_page(&app, &ada, "").await;
    assert_eq!((names, cursor), (vec!["third".into(), "second".into(), "first".into()], None));

    let mut seen = Vec::new();
    let mut query = "?limit=1".to_owned();
    loop {
        let (names, cursor) = pat_page(&app, &ada, &query).await;
        assert_eq!(names.len(), 1, "{names:?}");
        seen.extend(names);
        match cursor {
            Some(c) => query = format!("?limit=1&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, ["third", "second", "first"]);
    app.stop().await;
}

async fn pat_list_rejects_bad_limits_and_cursors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let cases = [
        ("?limit=0", "limit must not be less than 1"),
        ("?limit=101", "limit must not be greater than 100"),
        ("?limit=abc", "limit must be an integer number"),
        ("?cursor=!!!", "cursor must be a cursor returned by a previous page"),
        // Valid base64url, but not of a UUID.
        ("?cursor=bm90LWEtdXVpZA", "cursor must be a cursor returned by a previous page"),
    ];
    for (query, message) in cases {
        let (status, body) = list_pats(&app, &ada, query).await;
        assert_validation(status, &body, &[message]);
    }
    app.stop().await;
}

async fn pat_delete_revokes_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let created = create_pat(&app, &ada, "script").await;
    let id = str_field(&created, "id");
    let (status, body) = delete_pat(&app, &ada, id).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    assert_token_refused(&app, str_field(&created, "token")).await;
    assert_eq!(pat_page(&app, &ada, "").await, (vec![], None));

    let (status, body) = delete_pat(&app, &ada, id).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "Token not found");
    app.stop().await;
}

async fn pat_delete_of_another_users_token_is_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let created = create_pat(&app, &ada, "ada's").await;
    let (status, body) = delete_pat(&app, &bob, str_field(&created, "id")).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "Token not found");
    assert_token_works(&app, str_field(&created, "token"), &ada).await;
    app.stop().await;
}

async fn pat_delete_rejects_non_uuid_id(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let (status, body) = delete_pat(&app, &ada, "not-a-uuid").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "Validation failed (uuid is expected)");
    app.stop().await;
}

async fn pat_create_validates_input(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let cases = [
        (
            json!({"name": "ci", "expiresInDays": 0, "currentPassword": PASSWORD}),
            vec!["expiresInDays must not be less than 1"],
        ),
        (
            json!({"name": "ci", "expiresInDays": 3651, "currentPassword": PASSWORD}),
            vec!["expiresInDays must not be greater than 3650"],
        ),
        (
            json!({"expiresInDays": "soon"}),
            vec![
                "name should not be empty",
                "name must be a string",
                "expiresInDays must be an integer number",
                "currentPassword must be a string",
            ],
        ),
        (json!({"name": "ci", "currentPassword": ""}), vec!["currentPassword should not be empty"]),
    ];
    for (request, messages) in cases {
        let (status, body) = app.post("/api/users/me/tokens", Some(&ada.token), request).await;
        assert_validation(status, &body, &messages);
    }
    app.stop().await;
}

async fn pat_routes_require_authentication(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app.post("/api/users/me/tokens", None, json!({"name": "ci"})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    let (status, body) = app.get("/api/users/me/tokens", None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    app.stop().await;
}

/// Minting a token takes the password again, and a wrong one counts as a failed sign-in.
async fn pat_create_confirms_the_password(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.login_max_failures = 2).await;
    let ada = app.register("ada").await;
    let wrong = json!({"name": "ci", "currentPassword": "not the password"});
    for _ in 0..2 {
        let (status, body) =
            app.post("/api/users/me/tokens", Some(&ada.token), wrong.clone()).await;
        assert_error(status, &body, StatusCode::FORBIDDEN, WRONG_PASSWORD);
    }
    assert_eq!(pat_page(&app, &ada, "").await, (vec![], None));
    // Past the limit even the right password waits, at the token route and at login alike.
    let right = json!({"name": "ci", "currentPassword": PASSWORD});
    let (status, body) = app.post("/api/users/me/tokens", Some(&ada.token), right).await;
    assert_error(status, &body, StatusCode::TOO_MANY_REQUESTS, RATE_LIMITED);
    let login = json!({"email": ada.email, "password": PASSWORD});
    let (status, body) = app.post("/api/auth/login", None, login).await;
    assert_error(status, &body, StatusCode::TOO_MANY_REQUESTS, RATE_LIMITED);
    app.stop().await;
}

on_both_backends!(
    pat_create_confirms_the_password,
    pat_is_created_and_works_as_bearer,
    pat_list_is_newest_first_paginated_and_hides_tokens,
    pat_list_rejects_bad_limits_and_cursors,
    pat_delete_revokes_it,
    pat_delete_of_another_users_token_is_not_found,
    pat_delete_rejects_non_uuid_id,
    pat_create_validates_input,
    pat_routes_require_authentication
);
