//! Redeeming a code: once, with its verifier, redirect URI and client, before it expires.

use std::time::Duration;

use oauth2::PkceCodeChallenge;
use reqwest::StatusCode;
use serde_json::Value;

use crate::common::oauth::{assert_works, creds};
use crate::common::{Backend, TestApp};
use crate::oauth_server::{
    assert_dead, assert_inactive, assert_oauth_error, assert_oauth_error_among,
    assert_token_response, code_grant, exchange, grant_of, mint_code, refresh, token_error,
};

async fn code_is_single_use_and_reuse_revokes_its_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let (code, verifier) = mint_code(&app, &oauth_app, &f.member, None).await;
    let grant = grant_of(&exchange(&app, &oauth_app, &code, &verifier).await);
    assert_works(&app, &f.org, &grant.access).await;

    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", oauth_app.redirect_uri.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    token_error(&app, creds(&oauth_app), &form, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert_dead(&app, &f.org, &grant.access).await;
    let (status, headers, body) = refresh(&app, &oauth_app, &grant.refresh, None).await;
    assert_oauth_error(status, &headers, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    assert_inactive(&app, &oauth_app, &grant.access).await;
    app.stop().await;
}

/// RFC 6749 §4.1.2: a replayed code revokes every token issued on it, rotated ones included.
async fn code_reuse_after_refresh_revokes_rotated_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let (code, verifier) = mint_code(&app, &oauth_app, &f.member, None).await;
    let grant = grant_of(&exchange(&app, &oauth_app, &code, &verifier).await);
    let (status, headers, body) = refresh(&app, &oauth_app, &grant.refresh, None).await;
    assert_token_response(status, &headers, &body);
    let rotated = grant_of(&body);
    assert_works(&app, &f.org, &rotated.access).await;

    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", oauth_app.redirect_uri.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    token_error(&app, creds(&oauth_app), &form, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert_dead(&app, &f.org, &rotated.access).await;
    let (status, headers, body) = refresh(&app, &oauth_app, &rotated.refresh, None).await;
    assert_oauth_error(status, &headers, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    app.stop().await;
}

/// Racing exchanges of one code, or refreshes of one refresh token: exactly one wins.
async fn parallel_redemptions_issue_one_grant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;

    let (code, verifier) = mint_code(&app, &oauth_app, &f.member, None).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", oauth_app.redirect_uri.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    let answers = futures::future::join_all(
        (0..8).map(|_| app.oauth_form("/api/oauth/token", creds(&oauth_app), &form)),
    )
    .await;
    let won: Vec<&Value> =
        answers.iter().filter(|(s, _, _)| *s == StatusCode::OK).map(|(_, _, b)| b).collect();
    let statuses: Vec<u16> = answers.iter().map(|(s, _, _)| s.as_u16()).collect();
    assert_eq!(won.len(), 1, "exactly one exchange wins: {statuses:?}");
    for (status, headers, body) in answers.iter().filter(|(s, _, _)| *s != StatusCode::OK) {
        assert_oauth_error(*status, headers, body, StatusCode::BAD_REQUEST, "invalid_grant");
    }

    let grant = code_grant(&app, &oauth_app, &f.member, None).await;
    let answers =
        futures::future::join_all((0..8).map(|_| refresh(&app, &oauth_app, &grant.refresh, None)))
            .await;
    let statuses: Vec<u16> = answers.iter().map(|(s, _, _)| s.as_u16()).collect();
    assert!(
        answers.iter().all(|(s, _, _)| !s.is_server_error()),
        "racing refreshes must not fail the server: statuses {statuses:?}"
    );
    let won = answers.iter().filter(|(s, _, _)| *s == StatusCode::OK).count();
    assert!(won <= 1, "at most one refresh wins: {statuses:?}");
    for (status, headers, body) in answers.iter().filter(|(s, _, _)| *s != StatusCode::OK) {
        assert_oauth_error(*status, headers, body, StatusCode::BAD_REQUEST, "invalid_grant");
    }
    app.stop().await;
}

async fn expired_code_is_invalid_grant(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.oauth_code_ttl = Duration::from_secs(60)).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    // A fresh code still works under the short TTL…
    let (code, verifier) = mint_code(&app, &oauth_app, &f.member, None).await;
    exchange(&app, &oauth_app, &code, &verifier).await;
    // …one past it does not.
    let (code, verifier) = mint_code(&app, &oauth_app, &f.member, None).await;
    app.advance(Duration::from_secs(61));
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", oauth_app.redirect_uri.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    token_error(&app, creds(&oauth_app), &form, StatusCode::BAD_REQUEST, "invalid_grant").await;
    app.stop().await;
}

async fn code_exchange_checks_verifier_redirect_and_client(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app
        .create_oauth_app_with(
            &f.org,
            &f.owner,
            "Two URIs",
            &["http://127.0.0.1:9/callback", "http://127.0.0.1:9/second"],
            &["members:read"],
        )
        .await;
    let other = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let bad = StatusCode::BAD_REQUEST;
    let redirect = oauth_app.redirect_uri.as_str();

    // Wrong verifier (RFC 7636 §4.6).
    let (code, _verifier) = mint_code(&app, &oauth_app, &f.member, None).await;
    let (_, wrong) = PkceCodeChallenge::new_random_sha256();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect),
        ("code_verifier", wrong.secret().as_str()),
    ];
    token_error(&app, creds(&oauth_app), &form, bad, "invalid_grant").await;

    // No verifier at all: the contract only names wrong ones, so either code will do.
    let (code, _verifier) = mint_code(&app, &oauth_app, &f.member, None).await;
    let form =
        [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", redirect)];
    let (status, _, body) = app.oauth_form("/api/oauth/token", creds(&oauth_app), &form).await;
    assert_eq!(status, bad, "{body}");
    assert_oauth_error_among(status, &body, &["invalid_grant", "invalid_request"]);

    // Another of the app's redirect URIs, or none, than the code was issued for.
    for other_uri in ["http://127.0.0.1:9/second", "http://127.0.0.1:9/callback/"] {
        let (code, verifier) = mint_code(&app, &oauth_app, &f.member, None).await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", other_uri),
            ("code_verifier", verifier.as_str()),
        ];
        token_error(&app, creds(&oauth_app), &form, bad, "invalid_grant").await;
    }
    let (code, verifier) = mint_code(&app, &oauth_app, &f.member, None).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    let (status, _, body) = app.oauth_form("/api/oauth/token", creds(&oauth_app), &form).await;
    assert_eq!(status, bad, "redirect_uri was sent at /authorize so it is required: {body}");
    assert_oauth_error_among(status, &body, &["invalid_grant", "invalid_request"]);

    // Another app's code.
    let (code, verifier) = mint_code(&app, &oauth_app, &f.member, None).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect),
        ("code_verifier", verifier.as_str()),
    ];
    token_error(&app, creds(&other), &form, bad, "invalid_grant").await;

    // Unknown code.
    let form = [
        ("grant_type", "authorization_code"),
        ("code", "rst_ac_unknown"),
        ("redirect_uri", redirect),
        ("code_verifier", verifier.as_str()),
    ];
    token_error(&app, creds(&oauth_app), &form, bad, "invalid_grant").await;
    app.stop().await;
}

on_both_backends!(
    code_is_single_use_and_reuse_revokes_its_tokens,
    code_reuse_after_refresh_revokes_rotated_tokens,
    parallel_redemptions_issue_one_grant,
    expired_code_is_invalid_grant,
    code_exchange_checks_verifier_redirect_and_client
);
