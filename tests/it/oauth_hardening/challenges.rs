//! 401s carry an RFC 6750 challenge.

use reqwest::header::WWW_AUTHENTICATE;
use reqwest::{Method, StatusCode};
use serde_json::json;

use super::code_grant;
use crate::common::oauth::{TestOAuthApp, creds, header, members_path};
use crate::common::{AUTH_REQUIRED, Backend, TestApp, assert_error};

/// `POST /api/oauth/revoke token=<token>` as the app: 200 with an empty body.
async fn revoke_token(app: &TestApp, oauth: &TestOAuthApp, token: &str) {
    let (status, _, body) =
        app.oauth_form("/api/oauth/revoke", creds(oauth), &[("token", token)]).await;
    assert_eq!(status, StatusCode::OK, "revoke: {body}");
}

async fn unauthenticated_answers_carry_a_challenge(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let revoked = app.client_credentials_token(&oauth, None).await;
    revoke_token(&app, &oauth, &revoked).await;
    let revoked_grant = code_grant(&app, &oauth, &f.member, None).await;
    revoke_token(&app, &oauth, &revoked_grant.refresh).await;

    let paths = ["/api/users/me".to_owned(), members_path(&f.org)];
    for path in &paths {
        let (status, headers, body) = app.send(Method::GET, path, None, None).await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
        assert_eq!(body, json!({"statusCode": 401, "message": AUTH_REQUIRED}));
        let challenge = header(&headers, WWW_AUTHENTICATE)
            .unwrap_or_else(|| panic!("GET {path} without a token: WWW-Authenticate: {headers:?}"));
        assert!(challenge.starts_with("Bearer"), "GET {path}: {challenge}");
        assert!(challenge.contains("realm=\"roster\""), "GET {path}: {challenge}");
        // RFC 6750 §3.1: no error code when no credentials were sent.
        assert!(!challenge.contains("error="), "GET {path} without a token: {challenge}");
    }

    let bad_tokens = [
        ("garbage", "not-a-token-at-all".to_owned()),
        ("garbage with a prefix", "rst_oat_0123456789abcdef".to_owned()),
        ("revoked client_credentials token", revoked),
        ("access token of a revoked grant", revoked_grant.access.clone()),
    ];
    for path in &paths {
        for (what, token) in &bad_tokens {
            let (status, headers, body) = app.send(Method::GET, path, Some(token), None).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "GET {path} with {what}: {body}");
            assert_eq!(body, json!({"statusCode": 401, "message": AUTH_REQUIRED}), "{what}");
            let challenge = header(&headers, WWW_AUTHENTICATE)
                .unwrap_or_else(|| panic!("GET {path} with {what}: WWW-Authenticate: {headers:?}"));
            assert!(challenge.starts_with("Bearer"), "{what}: {challenge}");
            assert!(challenge.contains("realm=\"roster\""), "{what}: {challenge}");
            assert!(challenge.contains("error=\"invalid_token\""), "{what}: {challenge}");
        }
    }

    // A person's session token after logout is invalid too.
    let (status, body) = app.post("/api/auth/logout", Some(&f.admin.token), json!({})).await;
    assert!(status.is_success(), "logout: {status} {body}");
    let (status, headers, body) =
        app.send(Method::GET, "/api/users/me", Some(&f.admin.token), None).await;
    assert_eq!(body, json!({"statusCode": 401, "message": AUTH_REQUIRED}), "{status}");
    let challenge = header(&headers, WWW_AUTHENTICATE).expect("WWW-Authenticate after logout");
    assert!(
        challenge.starts_with("Bearer") && challenge.contains("error=\"invalid_token\""),
        "after logout: {challenge}"
    );
    app.stop().await;
}

on_both_backends!(unauthenticated_answers_carry_a_challenge);
