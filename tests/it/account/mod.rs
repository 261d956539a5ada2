//! The signed-in person's own account: sessions, profile, password change and deletion, over
//! real HTTP on both backends.

mod delete;
mod password;
mod profile;
mod sessions;

use reqwest::StatusCode;
use reqwest::header::USER_AGENT;
use serde_json::{Value, json};

use crate::common::oauth::TestOAuthApp;
use crate::common::{AUTH_REQUIRED, PASSWORD, TestApp, TestUser, assert_error, str_of};

/// Signs `user` in again from a client that calls itself `agent`: a new session.
async fn login_from(app: &TestApp, user: &TestUser, agent: &str) -> TestUser {
    let res = app
        .client
        .post(format!("{}/api/auth/login", app.base))
        .header(USER_AGENT, agent)
        .json(&json!({"email": user.email, "password": PASSWORD}))
        .send()
        .await
        .expect("login answered");
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.expect("JSON body");
    TestUser {
        token: str_of(&body, "accessToken").to_owned(),
        refresh: str_of(&body, "refreshToken").to_owned(),
        ..user.clone()
    }
}

/// A personal access token of `user`.
async fn create_pat(app: &TestApp, user: &TestUser) -> String {
    let body = json!({"name": "script", "currentPassword": PASSWORD});
    let (status, body) = app.post("/api/users/me/tokens", Some(&user.token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    str_of(&body, "token").to_owned()
}

/// An OAuth token acting for `user`, who must be a member of `org`.
pub(crate) async fn oauth_token_for(
    app: &TestApp,
    org: &str,
    owner: &TestUser,
    user: &TestUser,
) -> String {
    let oauth: TestOAuthApp = app.create_oauth_app(org, owner, &["members:read"]).await;
    let grant = app.authorization_code_grant(&oauth, user, None).await;
    str_of(&grant, "access_token").to_owned()
}

async fn assert_token_works(app: &TestApp, token: &str) {
    let (status, body) = app.get("/api/users/me", Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn assert_token_refused(app: &TestApp, token: &str) {
    let (status, body) = app.get("/api/users/me", Some(token)).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
}

async fn refresh(app: &TestApp, refresh_token: &str) -> (StatusCode, Value) {
    app.post("/api/auth/refresh", None, json!({"refreshToken": refresh_token})).await
}
