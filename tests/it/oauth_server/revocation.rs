//! Revocation (RFC 7009), and revoking the app.

use oauth2::{AccessToken, AuthType, PkceCodeChallenge, RefreshToken, StandardRevocableToken};
use reqwest::StatusCode;
use serde_json::json;

use super::pages::{assert_html_page, fetch};
use super::{
    assert_dead, assert_inactive, assert_oauth_error, assert_oauth_error_among,
    assert_token_response, authorize_body, code_grant, code_params, grant_of, mint_code,
    oauth2_revoke, refresh, revoke, token_error,
};
use crate::common::oauth::{assert_works, authorize_url, browser, creds};
use crate::common::{Backend, TestApp};

async fn revoke_access_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;

    let grant = code_grant(&app, &oauth_app, &f.member, None).await;
    revoke(&app, &oauth_app, &grant.access, None).await;
    assert_dead(&app, &f.org, &grant.access).await;
    assert_inactive(&app, &oauth_app, &grant.access).await;
    revoke(&app, &oauth_app, &grant.access, Some("access_token")).await;

    // A wrong hint only changes where the server looks first (RFC 7009 §2.1).
    let grant = code_grant(&app, &oauth_app, &f.member, None).await;
    revoke(&app, &oauth_app, &grant.access, Some("refresh_token")).await;
    assert_dead(&app, &f.org, &grant.access).await;

    // A client_credentials token, through oauth2.
    let token = app.client_credentials_token(&oauth_app, None).await;
    oauth2_revoke(
        &app,
        &oauth_app,
        AuthType::BasicAuth,
        StandardRevocableToken::AccessToken(AccessToken::new(token.clone())),
    )
    .await;
    assert_dead(&app, &f.org, &token).await;
    app.stop().await;
}

async fn revoke_refresh_token_revokes_the_grant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;

    let grant = code_grant(&app, &oauth_app, &f.member, None).await;
    revoke(&app, &oauth_app, &grant.refresh, Some("refresh_token")).await;
    assert_dead(&app, &f.org, &grant.access).await;
    let (status, headers, body) = refresh(&app, &oauth_app, &grant.refresh, None).await;
    assert_oauth_error(status, &headers, &body, StatusCode::BAD_REQUEST, "invalid_grant");

    // After a rotation, without a hint, through oauth2: the current pair goes.
    let grant = code_grant(&app, &oauth_app, &f.member, None).await;
    let (status, headers, body) = refresh(&app, &oauth_app, &grant.refresh, None).await;
    assert_token_response(status, &headers, &body);
    let rotated = grant_of(&body);
    oauth2_revoke(
        &app,
        &oauth_app,
        AuthType::BasicAuth,
        StandardRevocableToken::RefreshToken(RefreshToken::new(rotated.refresh.clone())),
    )
    .await;
    assert_dead(&app, &f.org, &rotated.access).await;
    let (status, headers, body) = refresh(&app, &oauth_app, &rotated.refresh, None).await;
    assert_oauth_error(status, &headers, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    app.stop().await;
}

async fn revoke_ignores_other_clients_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let other = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;

    let grant = code_grant(&app, &oauth_app, &f.member, None).await;
    let app_token = app.client_credentials_token(&oauth_app, None).await;
    revoke(&app, &other, &grant.access, None).await;
    revoke(&app, &other, &grant.refresh, Some("refresh_token")).await;
    revoke(&app, &other, &app_token, None).await;
    // Nor does a client's revocation touch the user's own sign-in.
    revoke(&app, &other, &f.member.token, None).await;

    assert_works(&app, &f.org, &grant.access).await;
    assert_works(&app, &f.org, &app_token).await;
    assert_works(&app, &f.org, &f.member.token).await;
    let (status, headers, body) = refresh(&app, &oauth_app, &grant.refresh, None).await;
    assert_token_response(status, &headers, &body);
    app.stop().await;
}

async fn revoke_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let token = app.client_credentials_token(&oauth_app, None).await;

    revoke(&app, &oauth_app, "rst_oat_unknown", None).await;
    revoke(&app, &oauth_app, "not even a token", Some("access_token")).await;

    let (status, headers, body) =
        app.oauth_form("/api/oauth/revoke", None, &[("token", &token)]).await;
    assert_oauth_error(status, &headers, &body, StatusCode::UNAUTHORIZED, "invalid_client");
    let (status, headers, body) = app
        .oauth_form(
            "/api/oauth/revoke",
            Some((&oauth_app.client_id, "rst_cs_wrong")),
            &[("token", &token)],
        )
        .await;
    assert_oauth_error(status, &headers, &body, StatusCode::UNAUTHORIZED, "invalid_client");
    let (status, headers, body) = app
        .oauth_form("/api/oauth/revoke", creds(&oauth_app), &[("token_type_hint", "access_token")])
        .await;
    assert_oauth_error(status, &headers, &body, StatusCode::BAD_REQUEST, "invalid_request");

    // None of that revoked anything.
    assert_works(&app, &f.org, &token).await;
    app.stop().await;
}

async fn revoking_the_app_kills_its_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let grant = code_grant(&app, &oauth_app, &f.member, None).await;
    let app_token = app.client_credentials_token(&oauth_app, None).await;
    let (pending_code, pending_verifier) = mint_code(&app, &oauth_app, &f.member, None).await;
    assert_works(&app, &f.org, &grant.access).await;
    assert_works(&app, &f.org, &app_token).await;

    let (status, body) = app
        .post(
            &format!("/api/organizations/{}/oauth-apps/{}/revoke", f.org, oauth_app.id),
            Some(&f.owner.token),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], json!("revoked"), "{body}");

    assert_dead(&app, &f.org, &grant.access).await;
    assert_dead(&app, &f.org, &app_token).await;
    let (status, _, body) = refresh(&app, &oauth_app, &grant.refresh, None).await;
    assert_oauth_error_among(status, &body, &["invalid_grant", "invalid_client"]);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", pending_code.as_str()),
        ("redirect_uri", oauth_app.redirect_uri.as_str()),
        ("code_verifier", pending_verifier.as_str()),
    ];
    let (status, _, body) = app.oauth_form("/api/oauth/token", creds(&oauth_app), &form).await;
    assert_oauth_error_among(status, &body, &["invalid_grant", "invalid_client"]);
    token_error(
        &app,
        creds(&oauth_app),
        &[("grant_type", "client_credentials")],
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    )
    .await;

    // Introspection: the revoked client may not ask at all (invalid_client), and if it may,
    // it learns nothing is active.
    for token in [&grant.access, &grant.refresh, &app_token] {
        let (status, headers, body) =
            app.oauth_form("/api/oauth/introspect", creds(&oauth_app), &[("token", token)]).await;
        if status == StatusCode::OK {
            assert_eq!(body, json!({"active": false}));
        } else {
            assert_oauth_error(status, &headers, &body, StatusCode::UNAUTHORIZED, "invalid_client");
        }
    }

    // And no new authorization starts.
    let http = browser();
    let (challenge, _verifier) = PkceCodeChallenge::new_random_sha256();
    let params = code_params(&oauth_app, "members:read", "s", challenge.as_str());
    assert_html_page(&fetch(&http, &authorize_url(&app, &params)).await, StatusCode::BAD_REQUEST);
    let (status, body) = app
        .post(
            "/api/oauth/authorize",
            Some(&f.member.token),
            authorize_body(&oauth_app, None, "s", challenge.as_str()),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], json!("invalid_client"), "{body}");
    app.stop().await;
}

on_both_backends!(
    revoke_access_token,
    revoke_refresh_token_revokes_the_grant,
    revoke_ignores_other_clients_tokens,
    revoke_errors,
    revoking_the_app_kills_its_tokens
);
