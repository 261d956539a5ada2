//! Expired credentials are pruned in the background, a configurable time after they expire;
//! credentials that have not expired, and personal tokens without expiry, stay.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use super::{counts, until_counts};
use crate::common::{Backend, PASSWORD, TestApp};

const TABLES: [&str; 7] = [
    "tokens",
    "sessions",
    "oauth_codes",
    "oauth_tokens",
    "oauth_grants",
    "account_tokens",
    "emails",
];

async fn expired_credentials_are_pruned(backend: Backend) {
    let ttl = Duration::from_secs(3600);
    let app = TestApp::spawn_with(backend, |c| {
        c.access_token_ttl = ttl;
        c.refresh_token_ttl = ttl;
        c.oauth_code_ttl = ttl;
        c.prune_interval = Duration::from_millis(200);
        c.keep_expired_for = Duration::ZERO;
        c.email.verification_ttl = ttl;
    })
    .await;
    let f = app.org_with_roles().await;
    let (status, body) = app
        .post(
            "/api/users/me/tokens",
            Some(&f.owner.token),
            json!({"name": "ci", "currentPassword": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let pat = body["token"].as_str().expect("personal token").to_owned();
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    app.client_credentials_token(&oauth, None).await;
    app.authorization_code_grant(&oauth, &f.member, None).await;
    app.authorize_code(&oauth, &f.member, None).await;

    let db = &app.state.db;
    let before = counts(db, &TABLES).await;
    // Sent emails go at the first prune, with nothing kept past their end.
    let credentials = before.iter().filter(|(table, _)| *table != "emails");
    assert!(
        credentials.clone().all(|(_, n)| *n > 0),
        "every kind of credential exists: {before:?}"
    );

    // Sessions and OAuth credentials expire together; only the personal token has no expiry.
    app.advance(ttl + Duration::from_secs(1));
    // Verification links expire with them, and the emails that carried them were sent.
    let expected = vec![
        ("tokens", 1),
        ("sessions", 0),
        ("oauth_codes", 0),
        ("oauth_tokens", 0),
        ("oauth_grants", 0),
        ("account_tokens", 0),
        ("emails", 0),
    ];
    until_counts(db, &expected).await;
    let (status, body) = app.get("/api/users/me", Some(&pat)).await;
    assert_eq!(status, StatusCode::OK, "the personal token survived and works: {body}");
    app.stop().await;
}

async fn unexpired_credentials_are_kept(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.prune_interval = Duration::from_millis(100);
        c.keep_expired_for = Duration::ZERO;
    })
    .await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let token = app.client_credentials_token(&oauth, None).await;
    let grant = app.authorization_code_grant(&oauth, &f.member, None).await;
    // Several prune passes go by.
    tokio::time::sleep(Duration::from_millis(600)).await;
    for token in [&token, grant["access_token"].as_str().expect("access token")] {
        let (status, body) =
            app.get(&format!("/api/organizations/{}/members", f.org), Some(token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = app.get("/api/users/me", Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.stop().await;
}

on_both_backends!(expired_credentials_are_pruned, unexpired_credentials_are_kept);
