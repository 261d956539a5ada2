//! Narrowing the app's scopes narrows tokens already issued; revoked tokens are unauthenticated.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::oauth::{ALL_SCOPES, assert_insufficient_scope, org_path};
use crate::common::{AUTH_REQUIRED, Backend, TestApp, assert_error, random_id};

async fn narrowing_the_app_narrows_issued_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &ALL_SCOPES).await;
    let everything = app.client_credentials_token(&oauth, None).await;
    let just_members = app.client_credentials_token(&oauth, Some("members:read")).await;
    let members = format!("{}/members", org_path(&f.org));
    for token in [&everything, &just_members] {
        let (status, body) = app.get(&members, Some(token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    let narrowed: Vec<&str> =
        ALL_SCOPES.iter().filter(|s| **s != "members:read").copied().collect();
    let (status, body) = app
        .patch(
            &format!("{}/oauth-apps/{}", org_path(&f.org), oauth.id),
            Some(&f.admin.token),
            json!({"scopes": narrowed}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scopes"], json!(narrowed));

    // At once: tokens issued before lose members:read, and keep the rest.
    for token in [&everything, &just_members] {
        let (status, headers, body) = app.send(Method::GET, &members, Some(token), None).await;
        assert_insufficient_scope(
            "GET members after narrowing",
            status,
            &headers,
            &body,
            "members:read",
        );
    }
    let (status, body) = app.get(&org_path(&f.org), Some(&everything)).await;
    assert_eq!(status, StatusCode::OK, "the other scopes stay: {body}");
    let (status, body) = app.get(&format!("{}/invites", org_path(&f.org)), Some(&everything)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A token with nothing left is refused on what it had.
    let (status, headers, body) =
        app.send(Method::GET, &org_path(&f.org), Some(&just_members), None).await;
    assert_insufficient_scope(
        "GET org with a narrowed token",
        status,
        &headers,
        &body,
        "organization:read",
    );

    // New tokens get only what the app has now.
    let (status, _, body) = app
        .oauth_form(
            "/api/oauth/token",
            Some((&oauth.client_id, &oauth.client_secret)),
            &[("grant_type", "client_credentials"), ("scope", "members:read")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_scope", "{body}");
    let fresh = app.client_credentials_token(&oauth, None).await;
    let (status, headers, body) = app.send(Method::GET, &members, Some(&fresh), None).await;
    assert_insufficient_scope(
        "GET members with a fresh token",
        status,
        &headers,
        &body,
        "members:read",
    );
}

async fn revoked_tokens_are_unauthenticated_everywhere(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &ALL_SCOPES).await;
    let token = app.client_credentials_token(&oauth, None).await;
    let (status, body) = app
        .post(
            &format!("{}/oauth-apps/{}/revoke", org_path(&f.org), oauth.id),
            Some(&f.owner.token),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // 401 comes before any scope or tenant rule.
    for (method, path, body) in [
        (Method::GET, "/api/organizations".to_owned(), None),
        (Method::GET, org_path(&f.org), None),
        (Method::GET, format!("{}/members", org_path(&f.org)), None),
        (
            Method::POST,
            format!("{}/webhooks", org_path(&f.org)),
            Some(json!({"url": "https://e.example/h", "events": ["member.added"]})),
        ),
        (Method::GET, org_path(&random_id()), None),
        (Method::GET, "/api/users/me".to_owned(), None),
    ] {
        let (status, res) = app.call(method.clone(), &path, Some(&token), body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}: {res}");
        assert_error(status, &res, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    }
}

on_both_backends!(
    narrowing_the_app_narrows_issued_tokens,
    revoked_tokens_are_unauthenticated_everywhere
);
