//! The token endpoint: client authentication, malformed requests, token lifetimes.

use std::time::Duration;

use oauth2::{
    AuthType, AuthorizationCode, PkceCodeVerifier, StandardRevocableToken,
    TokenIntrospectionResponse, TokenResponse,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{
    assert_dead, assert_inactive, assert_oauth_error, assert_token_response, grant_of, introspect,
    mint_code, oauth_client, oauth2_revoke, refresh, token_error,
};
use crate::common::oauth::{TestOAuthApp, assert_works, browser, creds};
use crate::common::{Backend, PASSWORD, TestApp};

async fn token_client_authentication_failures(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let other = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let cc = [("grant_type", "client_credentials")];
    let unauthorized = StatusCode::UNAUTHORIZED;

    token_error(&app, None, &cc, unauthorized, "invalid_client").await;
    token_error(
        &app,
        Some((&oauth_app.client_id, "rst_cs_wrong")),
        &cc,
        unauthorized,
        "invalid_client",
    )
    .await;
    token_error(
        &app,
        Some((&oauth_app.client_id, &other.client_secret)),
        &cc,
        unauthorized,
        "invalid_client",
    )
    .await;
    token_error(
        &app,
        Some(("rst_ci_unknown", &oauth_app.client_secret)),
        &cc,
        unauthorized,
        "invalid_client",
    )
    .await;
    // client_secret_post with a wrong secret, and a client_id alone: no authentication.
    token_error(
        &app,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &oauth_app.client_id),
            ("client_secret", "rst_cs_wrong"),
        ],
        unauthorized,
        "invalid_client",
    )
    .await;
    token_error(
        &app,
        None,
        &[("grant_type", "client_credentials"), ("client_id", &oauth_app.client_id)],
        unauthorized,
        "invalid_client",
    )
    .await;
    // Both methods at once.
    token_error(
        &app,
        creds(&oauth_app),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &oauth_app.client_id),
            ("client_secret", &oauth_app.client_secret),
        ],
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    app.stop().await;
}

async fn token_malformed_requests(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app =
        app.create_oauth_app(&f.org, &f.owner, &["members:read", "organization:read"]).await;
    let client = creds(&oauth_app);
    let bad = StatusCode::BAD_REQUEST;

    token_error(&app, client, &[("scope", "members:read")], bad, "invalid_request").await;
    token_error(
        &app,
        client,
        &[("grant_type", "password"), ("username", &f.member.email), ("password", PASSWORD)],
        bad,
        "unsupported_grant_type",
    )
    .await;
    token_error(&app, client, &[("grant_type", "implicit")], bad, "unsupported_grant_type").await;
    token_error(
        &app,
        client,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "members:read"),
            ("scope", "organization:read"),
        ],
        bad,
        "invalid_request",
    )
    .await;
    token_error(
        &app,
        client,
        &[("grant_type", "client_credentials"), ("grant_type", "client_credentials")],
        bad,
        "invalid_request",
    )
    .await;
    token_error(
        &app,
        client,
        &[("grant_type", "authorization_code"), ("redirect_uri", &oauth_app.redirect_uri)],
        bad,
        "invalid_request",
    )
    .await;
    token_error(&app, client, &[("grant_type", "refresh_token")], bad, "invalid_request").await;

    // JSON is not the token endpoint's content type.
    let res = app
        .client
        .post(format!("{}/api/oauth/token", app.base))
        .basic_auth(&oauth_app.client_id, Some(&oauth_app.client_secret))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .expect("answered");
    let status = res.status();
    let headers = res.headers().clone();
    let body: Value = res.json().await.expect("JSON body");
    assert_oauth_error(status, &headers, &body, bad, "invalid_request");
    app.stop().await;
}

/// client_secret_post through oauth2 for every endpoint, and by hand.
async fn client_secret_post_works(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let http = browser();
    let client = oauth_client(&app, &oauth_app).set_auth_type(AuthType::RequestBody);

    let (code, verifier) = mint_code(&app, &oauth_app, &f.member, None).await;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(PkceCodeVerifier::new(verifier))
        .request_async(&http)
        .await
        .expect("code exchange with client_secret_post");
    let rotated = client
        .exchange_refresh_token(tokens.refresh_token().expect("refresh token"))
        .request_async(&http)
        .await
        .expect("refresh with client_secret_post");
    let access = rotated.access_token().clone();
    assert_works(&app, &f.org, access.secret()).await;

    let info = client.introspect(&access).request_async(&http).await.expect("introspection");
    assert!(info.active());
    assert_eq!(info.client_id().map(|c| c.as_str()), Some(oauth_app.client_id.as_str()));

    oauth2_revoke(
        &app,
        &oauth_app,
        AuthType::RequestBody,
        StandardRevocableToken::AccessToken(access.clone()),
    )
    .await;
    assert_dead(&app, &f.org, access.secret()).await;

    let (status, headers, body) = app
        .oauth_form(
            "/api/oauth/token",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &oauth_app.client_id),
                ("client_secret", &oauth_app.client_secret),
            ],
        )
        .await;
    assert_token_response(status, &headers, &body);
    app.stop().await;
}

/// OAuth tokens live as long as the configured token lifetimes.
async fn oauth_tokens_expire(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.access_token_ttl = Duration::from_secs(60);
        c.refresh_token_ttl = Duration::from_secs(180);
    })
    .await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let (code, verifier) = mint_code(&app, &oauth_app, &f.member, None).await;
    let (status, _, body) = app
        .oauth_form(
            "/api/oauth/token",
            creds(&oauth_app),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", &oauth_app.redirect_uri),
                ("code_verifier", &verifier),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["expires_in"], json!(60), "{body}");
    let grant = grant_of(&body);
    let info = introspect(&app, &oauth_app, &grant.access).await;
    let lifetime = info["exp"].as_i64().expect("exp") - info["iat"].as_i64().expect("iat");
    assert!((59..=61).contains(&lifetime), "exp - iat = {lifetime}: {info}");

    app.advance(Duration::from_secs(61));
    assert_dead(&app, &f.org, &grant.access).await;
    assert_inactive(&app, &oauth_app, &grant.access).await;
    // The refresh token outlives it…
    let (status, _, body) = refresh(&app, &oauth_app, &grant.refresh, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rotated = grant_of(&body);
    assert_works(&app, &f.org, &rotated.access).await;
    // …until its own lifetime is over.
    app.advance(Duration::from_secs(181));
    let (status, headers, body) = refresh(&app, &oauth_app, &rotated.refresh, None).await;
    assert_oauth_error(status, &headers, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    app.stop().await;
}

/// After rotate-secret, the token endpoint takes both secrets for the overlap, then only the
/// new one.
async fn rotated_secret_works_during_overlap_only(backend: Backend) {
    let app =
        TestApp::spawn_with(backend, |c| c.oauth_secret_overlap = Duration::from_secs(60)).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let (status, body) = app
        .post(
            &format!("/api/organizations/{}/oauth-apps/{}/rotate-secret", f.org, oauth_app.id),
            Some(&f.owner.token),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rotated = TestOAuthApp {
        client_secret: body["clientSecret"].as_str().expect("new secret").to_owned(),
        ..oauth_app.clone()
    };
    assert_ne!(rotated.client_secret, oauth_app.client_secret);
    let cc = [("grant_type", "client_credentials")];
    for client in [&oauth_app, &rotated] {
        let (status, headers, body) = app.oauth_form("/api/oauth/token", creds(client), &cc).await;
        assert_token_response(status, &headers, &body);
    }
    app.advance(Duration::from_secs(61));
    token_error(&app, creds(&oauth_app), &cc, StatusCode::UNAUTHORIZED, "invalid_client").await;
    let (status, headers, body) = app.oauth_form("/api/oauth/token", creds(&rotated), &cc).await;
    assert_token_response(status, &headers, &body);
    app.stop().await;
}

on_both_backends!(
    token_client_authentication_failures,
    token_malformed_requests,
    client_secret_post_works,
    oauth_tokens_expire,
    rotated_secret_works_during_overlap_only
);
