//! `POST /api/auth/register`.

use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};

use super::{access_token, assert_session, login, me};
use crate::common::messages::BAD_LOGIN;
use crate::common::{Backend, PASSWORD, TestApp, assert_error, assert_validation};

/// Sends `body` as-is with the given content type, for bodies `TestApp::post` cannot express.
async fn post_raw(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: &str,
) -> (StatusCode, Value) {
    let res = app
        .client
        .post(format!("{}{path}", app.base))
        .header(CONTENT_TYPE, content_type)
        .body(body.to_owned())
        .send()
        .await
        .expect("request sent");
    let status = res.status();
    (status, res.json().await.expect("JSON error body"))
}

async fn register_returns_user_and_token_pair(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app
        .post(
            "/api/auth/register",
            None,
            json!({"email": "ada@example.com", "password": PASSWORD, "name": "Ada Lovelace"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_session(&body, "ada@example.com", "Ada Lovelace");
    assert_eq!(body["user"]["createdAt"], body["user"]["updatedAt"]);
    let (status, me_body) = me(&app, access_token(&body)).await;
    assert_eq!(status, StatusCode::OK, "{me_body}");
    assert_eq!(me_body, body["user"]);
    app.stop().await;
}

async fn register_rejects_email_taken_in_other_case(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.register("ada").await;
    let (status, body) = app
        .post(
            "/api/auth/register",
            None,
            json!({"email": "ADA@Example.COM", "password": PASSWORD, "name": "Other Ada"}),
        )
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, "Email already registered");
    app.stop().await;
}

async fn register_reports_every_violation_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app
        .post(
            "/api/auth/register",
            None,
            json!({"email": "not-an-email", "password": "short", "foo": 1}),
        )
        .await;
    assert_validation(
        status,
        &body,
        &[
            "property foo should not exist",
            "email must be an email",
            "password must be longer than or equal to 8 characters",
            "name should not be empty",
            "name must be a string",
        ],
    );
    app.stop().await;
}

async fn register_rejects_broken_json(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) =
        post_raw(&app, "/api/auth/register", "application/json", r#"{"email": "a@b.co","#).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "Request body must be valid JSON");
    app.stop().await;
}

async fn register_rejects_non_json_content_type(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let body = json!({"email": "ada@example.com", "password": PASSWORD, "name": "Ada"});
    let (status, body) =
        post_raw(&app, "/api/auth/register", "text/plain", &body.to_string()).await;
    assert_error(
        status,
        &body,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "Content-Type must be application/json",
    );
    app.stop().await;
}

async fn register_refused_when_signup_disabled(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.allow_signup = false).await;
    let (status, body) = app
        .post(
            "/api/auth/register",
            None,
            json!({"email": "ada@example.com", "password": PASSWORD, "name": "Ada"}),
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "Sign-up is disabled");
    let (status, body) = login(&app, "ada@example.com", PASSWORD).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, BAD_LOGIN);
    app.stop().await;
}

on_both_backends!(
    register_returns_user_and_token_pair,
    register_rejects_email_taken_in_other_case,
    register_reports_every_violation_at_once,
    register_rejects_broken_json,
    register_rejects_non_json_content_type,
    register_refused_when_signup_disabled
);
