//! `GET /api/users/me` and the bearer credentials it takes.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::AUTHORIZATION;
use serde_json::{Value, json};

use super::{assert_token_refused, assert_user, me};
use crate::common::{AUTH_REQUIRED, Backend, TestApp, assert_error};

/// GET /api/users/me with a raw `Authorization` header value, or none.
async fn me_with_header(app: &TestApp, authorization: Option<&str>) -> (StatusCode, Value) {
    let mut req = app.client.get(format!("{}/api/users/me", app.base));
    if let Some(value) = authorization {
        req = req.header(AUTHORIZATION, value);
    }
    let res = req.send().await.expect("request sent");
    let status = res.status();
    (status, res.json().await.expect("JSON body"))
}

async fn me_returns_the_user(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let (status, body) = me(&app, &ada.token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_user(&body, &ada.email, "ada");
    assert_eq!(body["id"], json!(ada.id));
    // The scheme is case-insensitive.
    let (status, lower) = me_with_header(&app, Some(&format!("bearer {}", ada.token))).await;
    assert_eq!((status, lower), (StatusCode::OK, body));
    app.stop().await;
}

async fn me_refuses_missing_or_malformed_credentials(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let unknown = format!("Bearer rst_at_{}", "A".repeat(43));
    let too_long = format!("Bearer rst_at_{}", "A".repeat(200));
    let cases: [Option<&str>; 6] =
        [None, Some("Bearer"), Some("Bearer "), Some("Basic xyz"), Some(&unknown), Some(&too_long)];
    for authorization in cases {
        let (status, body) = me_with_header(&app, authorization).await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    }
    // A refresh token is not a bearer token.
    assert_token_refused(&app, &ada.refresh).await;
    app.stop().await;
}

async fn me_refuses_an_expired_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    app.advance(Duration::from_secs(3601));
    assert_token_refused(&app, &ada.token).await;
    app.stop().await;
}

on_both_backends!(
    me_returns_the_user,
    me_refuses_missing_or_malformed_credentials,
    me_refuses_an_expired_token
);
