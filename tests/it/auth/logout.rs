//! `POST /api/auth/logout`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{BAD_REFRESH, assert_token_refused, refresh};
use crate::common::{AUTH_REQUIRED, Backend, TestApp, assert_error};

async fn logout_revokes_access_and_refresh_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let (status, body) = app.post("/api/auth/logout", Some(&ada.token), json!({})).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    assert_token_refused(&app, &ada.token).await;
    let (status, body) = refresh(&app, &ada.refresh).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, BAD_REFRESH);
    app.stop().await;
}

async fn logout_requires_a_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app.post("/api/auth/logout", None, json!({})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    app.stop().await;
}

on_both_backends!(logout_revokes_access_and_refresh_tokens, logout_requires_a_token);
