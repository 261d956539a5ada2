//! `POST /api/auth/refresh`: rotation, and reuse revoking the family.

use reqwest::StatusCode;
use serde_json::json;

use super::{
    BAD_REFRESH, access_token, assert_session, assert_token_refused, assert_token_works, login,
    refresh, refresh_token,
};
use crate::common::{Backend, PASSWORD, TestApp, assert_error, assert_validation};

async fn refresh_rotates_the_pair(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let (status, first) = refresh(&app, &ada.refresh).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_session(&first, &ada.email, "ada");
    assert_ne!(access_token(&first), ada.token);
    assert_ne!(refresh_token(&first), ada.refresh);
    assert_token_works(&app, access_token(&first), &ada).await;

    let (status, second) = refresh(&app, refresh_token(&first)).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_ne!(refresh_token(&second), refresh_token(&first));
    assert_token_works(&app, access_token(&second), &ada).await;
    app.stop().await;
}

async fn refresh_reuse_revokes_the_family(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let (status, rotated) = refresh(&app, &ada.refresh).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");

    let (status, body) = refresh(&app, &ada.refresh).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, BAD_REFRESH);

    assert_token_refused(&app, access_token(&rotated)).await;
    assert_token_refused(&app, &ada.token).await;
    let (status, body) = refresh(&app, refresh_token(&rotated)).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, BAD_REFRESH);
    app.stop().await;
}

/// Concurrent uses of one refresh token: at most one rotates, the rest are refused as reuse,
/// and none fails on the server (their revocations of the family take turns).
async fn parallel_refreshes_rotate_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let answers = futures::future::join_all((0..8).map(|_| refresh(&app, &ada.refresh))).await;
    let statuses: Vec<StatusCode> = answers.iter().map(|(status, _)| *status).collect();
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK || *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    assert!(statuses.iter().filter(|s| **s == StatusCode::OK).count() <= 1, "{statuses:?}");
    // Reuse happened, so the family is gone, including any pair the winner got.
    for (status, body) in &answers {
        if *status == StatusCode::OK {
            let token = body["accessToken"].as_str().expect("access token");
            let (status, _) = app.get("/api/users/me", Some(token)).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
    }
    app.stop().await;
}

async fn refresh_reuse_leaves_other_sessions_alone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let (status, other) = login(&app, &ada.email, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{other}");
    assert_eq!(refresh(&app, &ada.refresh).await.0, StatusCode::OK);
    assert_eq!(refresh(&app, &ada.refresh).await.0, StatusCode::UNAUTHORIZED);
    assert_token_works(&app, access_token(&other), &ada).await;
    app.stop().await;
}

async fn refresh_rejects_garbage_and_access_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    for bad in ["rst_rt_garbage", "nonsense", ada.token.as_str()] {
        let (status, body) = refresh(&app, bad).await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, BAD_REFRESH);
    }
    app.stop().await;
}

async fn refresh_requires_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app.post("/api/auth/refresh", None, json!({})).await;
    assert_validation(status, &body, &["refreshToken must be a string"]);
    let (status, body) = app.post("/api/auth/refresh", None, json!({"refreshToken": 5})).await;
    assert_validation(status, &body, &["refreshToken must be a string"]);
    app.stop().await;
}

on_both_backends!(
    refresh_rotates_the_pair,
    refresh_reuse_revokes_the_family,
    parallel_refreshes_rotate_once,
    refresh_reuse_leaves_other_sessions_alone,
    refresh_rejects_garbage_and_access_tokens,
    refresh_requires_the_field
);
