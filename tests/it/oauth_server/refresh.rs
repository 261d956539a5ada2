//! The `refresh_token` grant.

use reqwest::StatusCode;
use serde_json::json;

use super::{
    assert_lacks_scope, assert_oauth_error, assert_token_response, code_grant, grant_of,
    introspect, refresh, scope_set, set_of,
};
use crate::common::oauth::{assert_works, members_path};
use crate::common::{AUTH_REQUIRED, Backend, TestApp, assert_error};

async fn refresh_token_grant_rules(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app =
        app.create_oauth_app(&f.org, &f.owner, &["members:read", "organization:read"]).await;
    let other =
        app.create_oauth_app(&f.org, &f.owner, &["members:read", "organization:read"]).await;
    let bad = StatusCode::BAD_REQUEST;

    // Another client's refresh token.
    let grant = code_grant(&app, &oauth_app, &f.member, None).await;
    let (status, headers, body) = refresh(&app, &other, &grant.refresh, None).await;
    assert_oauth_error(status, &headers, &body, bad, "invalid_grant");

    // Unknown refresh tokens, and access tokens posing as one.
    let (status, headers, body) = refresh(&app, &oauth_app, "rst_ort_unknown", None).await;
    assert_oauth_error(status, &headers, &body, bad, "invalid_grant");
    let (status, headers, body) = refresh(&app, &oauth_app, &grant.access, None).await;
    assert_oauth_error(status, &headers, &body, bad, "invalid_grant");

    // Wider than the grant, though within the app.
    let grant = code_grant(&app, &oauth_app, &f.member, Some("members:read")).await;
    let (status, headers, body) =
        refresh(&app, &oauth_app, &grant.refresh, Some("members:read organization:read")).await;
    assert_oauth_error(status, &headers, &body, bad, "invalid_scope");

    // Narrower: only that scope.
    let grant = code_grant(&app, &oauth_app, &f.member, None).await;
    assert_eq!(scope_set(&grant.scope), set_of(["members:read", "organization:read"]));
    let (status, headers, body) =
        refresh(&app, &oauth_app, &grant.refresh, Some("members:read")).await;
    assert_token_response(status, &headers, &body);
    let narrowed = grant_of(&body);
    assert_eq!(narrowed.scope, "members:read");
    assert_works(&app, &f.org, &narrowed.access).await;
    assert_lacks_scope(
        &app,
        &format!("/api/organizations/{}", f.org),
        &narrowed.access,
        "organization:read",
    )
    .await;
    let info = introspect(&app, &oauth_app, &narrowed.access).await;
    assert_eq!(info["scope"], json!("members:read"), "{info}");
    app.stop().await;
}

async fn refresh_after_user_left_is_invalid_grant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let grant = code_grant(&app, &oauth_app, &f.member, None).await;
    assert_works(&app, &f.org, &grant.access).await;
    app.remove_member(&f.org, &f.owner, &f.member).await;
    let (status, headers, body) = refresh(&app, &oauth_app, &grant.refresh, None).await;
    assert_oauth_error(status, &headers, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    // Leaving ended the grant: the access token is no longer valid anywhere.
    let (status, body) = app.get(&members_path(&f.org), Some(&grant.access)).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    app.stop().await;
}

on_both_backends!(refresh_token_grant_rules, refresh_after_user_left_is_invalid_grant);
