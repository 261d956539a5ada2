//! Registration, sign-in, refresh-token rotation, sign-out, the signed-in user and personal
//! access tokens, over real HTTP on both backends.

mod login;
mod logout;
mod me;
mod personal_tokens;
mod refresh;
mod register;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{AUTH_REQUIRED, TestApp, TestUser, assert_error, assert_timestamp};

const BAD_REFRESH: &str = "Invalid or expired refresh token";

async fn login(app: &TestApp, email: &str, password: &str) -> (StatusCode, Value) {
    app.post("/api/auth/login", None, json!({"email": email, "password": password})).await
}

async fn refresh(app: &TestApp, refresh_token: &str) -> (StatusCode, Value) {
    app.post("/api/auth/refresh", None, json!({"refreshToken": refresh_token})).await
}

async fn me(app: &TestApp, token: &str) -> (StatusCode, Value) {
    app.get("/api/users/me", Some(token)).await
}

/// Asserts that `token` is a working bearer token for `user`.
async fn assert_token_works(app: &TestApp, token: &str, user: &TestUser) {
    let (status, body) = me(app, token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], json!(user.id));
}

/// Asserts that `token` is refused as a bearer token with the one 401 answer.
async fn assert_token_refused(app: &TestApp, token: &str) {
    let (status, body) = me(app, token).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
}

/// Asserts `value` is an object with exactly these keys.
fn assert_keys(value: &Value, keys: &[&str]) {
    let mut actual: Vec<&str> =
        value.as_object().expect("an object").keys().map(String::as_str).collect();
    let mut expected = keys.to_vec();
    actual.sort_unstable();
    expected.sort_unstable();
    assert_eq!(actual, expected, "{value}");
}

fn assert_user(user: &Value, email: &str, name: &str) {
    assert_keys(user, &["id", "email", "emailVerified", "name", "createdAt", "updatedAt"]);
    uuid::Uuid::parse_str(user["id"].as_str().expect("id string")).expect("id is a UUID");
    assert_eq!(user["email"], json!(email));
    assert_eq!(user["name"], json!(name));
    assert_eq!(user["emailVerified"], json!(false), "no link has been opened");
    assert_timestamp(&user["createdAt"]);
    assert_timestamp(&user["updatedAt"]);
}

/// Asserts the body of a successful register, login or refresh.
fn assert_session(body: &Value, email: &str, name: &str) {
    assert_keys(body, &["user", "accessToken", "refreshToken", "tokenType", "expiresIn"]);
    assert_user(&body["user"], email, name);
    assert!(access_token(body).starts_with("rst_at_"), "{body}");
    assert!(refresh_token(body).starts_with("rst_rt_"), "{body}");
    assert_eq!(body["tokenType"], json!("Bearer"));
    assert_eq!(body["expiresIn"], json!(3600));
}

fn access_token(session: &Value) -> &str {
    session["accessToken"].as_str().expect("accessToken")
}

fn refresh_token(session: &Value) -> &str {
    session["refreshToken"].as_str().expect("refreshToken")
}
