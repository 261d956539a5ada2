//! Narrowing an app rewrites its tokens for good.

use reqwest::{Method, StatusCode};

use super::{assert_active, code_grant, grant_of, refresh, set_app_scopes};
use crate::common::oauth::{
    ALL_SCOPES, assert_insufficient_scope, assert_works, members_path, org_path,
};
use crate::common::{Backend, TestApp};

fn scope_list(scope: &str) -> Vec<&str> {
    scope.split_whitespace().collect()
}

async fn narrowing_rewrites_tokens_for_good(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &ALL_SCOPES).await;
    let old_app_token = app.client_credentials_token(&oauth, None).await;
    let old_grant = code_grant(&app, &oauth, &f.admin, None).await;
    let members = members_path(&f.org);
    assert_works(&app, &f.org, &old_app_token).await;
    assert_works(&app, &f.org, &old_grant.access).await;
    assert!(scope_list(&old_grant.scope).contains(&"members:read"), "{}", old_grant.scope);

    let narrowed: Vec<&str> = ALL_SCOPES.iter().copied().filter(|s| *s != "members:read").collect();
    set_app_scopes(&app, &f.org, &f.owner, &oauth, &narrowed).await;
    for token in [&old_app_token, &old_grant.access] {
        let (status, headers, body) = app.send(Method::GET, &members, Some(token), None).await;
        assert_insufficient_scope(
            "GET members after narrowing",
            status,
            &headers,
            &body,
            "members:read",
        );
    }

    // Widening again does not give old tokens back what they lost.
    set_app_scopes(&app, &f.org, &f.owner, &oauth, &ALL_SCOPES).await;
    for token in [&old_app_token, &old_grant.access] {
        let (status, headers, body) = app.send(Method::GET, &members, Some(token), None).await;
        assert_insufficient_scope(
            "GET members with an old token after widening again",
            status,
            &headers,
            &body,
            "members:read",
        );
        let info = assert_active(&app, &oauth, token).await;
        let scope = info["scope"].as_str().unwrap_or_else(|| panic!("scope: {info}"));
        let scopes = scope_list(scope);
        assert!(!scopes.contains(&"members:read"), "old token's scope {scope}");
        assert!(scopes.contains(&"organization:read"), "the rest stays: {scope}");
        // The other scopes still work.
        let (status, body) = app.get(&org_path(&f.org), Some(token)).await;
        assert_eq!(status, StatusCode::OK, "organization:read stays: {body}");
    }

    // A new token has members:read again.
    let new_token = app.client_credentials_token(&oauth, None).await;
    assert_works(&app, &f.org, &new_token).await;
    let info = assert_active(&app, &oauth, &new_token).await;
    let scope = info["scope"].as_str().unwrap_or_else(|| panic!("scope: {info}"));
    assert!(scope_list(scope).contains(&"members:read"), "new token's scope {scope}");

    // Refreshing the old grant does not bring members:read back either.
    let (status, _, body) = refresh(&app, &oauth, &old_grant.refresh).await;
    assert_eq!(status, StatusCode::OK, "refresh of the narrowed grant: {body}");
    let refreshed = grant_of(&body);
    assert!(
        !scope_list(&refreshed.scope).contains(&"members:read"),
        "refreshed scope {}",
        refreshed.scope
    );
    let (status, headers, body) =
        app.send(Method::GET, &members, Some(&refreshed.access), None).await;
    assert_insufficient_scope(
        "GET members with a token refreshed from a narrowed grant",
        status,
        &headers,
        &body,
        "members:read",
    );
    app.stop().await;
}

on_both_backends!(narrowing_rewrites_tokens_for_good);
