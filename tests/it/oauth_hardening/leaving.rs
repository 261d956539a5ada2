//! Leaving an organization ends the user's grants there.

use reqwest::StatusCode;
use serde_json::json;

use super::{assert_active, assert_inactive, assert_invalid_grant, code_grant, refresh};
use crate::common::oauth::{assert_works, members_path, org_path};
use crate::common::{AUTH_REQUIRED, Backend, TestApp, assert_error};

/// The token is not authenticated at all on the organization's routes.
async fn assert_dead(app: &TestApp, org: &str, token: &str) {
    for path in [members_path(org), org_path(org)] {
        let (status, body) = app.get(&path, Some(token)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "GET {path} with a dead token: {body}");
        assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    }
}

/// How the user leaves.
#[derive(Debug, Clone, Copy)]
enum Departure {
    RemovedByOwner,
    LeavesThemselves,
}

async fn leaving_ends_grants(backend: Backend, departure: Departure) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth =
        app.create_oauth_app(&f.org, &f.owner, &["members:read", "organization:read"]).await;
    let grant = code_grant(&app, &oauth, &f.member, None).await;
    let bystander = code_grant(&app, &oauth, &f.admin, None).await;
    let app_token = app.client_credentials_token(&oauth, None).await;

    // The same user in another organization, with a grant of that organization's app.
    let org2 = app.create_org(&f.outsider, "Other Corp").await;
    app.add_member(&org2, &f.outsider, &f.member, "MEMBER").await;
    let oauth2 = app.create_oauth_app(&org2, &f.outsider, &["members:read"]).await;
    let elsewhere = code_grant(&app, &oauth2, &f.member, None).await;

    assert_works(&app, &f.org, &grant.access).await;
    assert_works(&app, &org2, &elsewhere.access).await;
    assert_active(&app, &oauth, &grant.access).await;

    match departure {
        Departure::RemovedByOwner => app.remove_member(&f.org, &f.owner, &f.member).await,
        Departure::LeavesThemselves => app.remove_member(&f.org, &f.member, &f.member).await,
    }

    // The grant is over: the access token is unauthenticated, introspection says nothing.
    assert_dead(&app, &f.org, &grant.access).await;
    assert_inactive(&app, &oauth, &grant.access).await;
    assert_inactive(&app, &oauth, &grant.refresh).await;

    // Coming back does not revive it. (The refresh token is tried only now: presenting it
    // while the user is away must not be what kills the grant.)
    app.add_member(&f.org, &f.owner, &f.member, "MEMBER").await;
    assert_dead(&app, &f.org, &grant.access).await;
    assert_inactive(&app, &oauth, &grant.access).await;
    assert_inactive(&app, &oauth, &grant.refresh).await;
    assert_invalid_grant(&app, &oauth, &grant.refresh).await;
    assert_dead(&app, &f.org, &grant.access).await;

    // A new grant after coming back works.
    let fresh = code_grant(&app, &oauth, &f.member, None).await;
    assert_works(&app, &f.org, &fresh.access).await;

    // Other grants are untouched: another user's of the same app, the app's own token, and
    // the same user's grant in another organization.
    assert_works(&app, &f.org, &bystander.access).await;
    assert_active(&app, &oauth, &bystander.access).await;
    assert_works(&app, &f.org, &app_token).await;
    assert_works(&app, &org2, &elsewhere.access).await;
    let info = assert_active(&app, &oauth2, &elsewhere.access).await;
    assert_eq!(info["sub"], json!(f.member.id), "{info}");
    let (status, _, body) = refresh(&app, &oauth2, &elsewhere.refresh).await;
    assert_eq!(status, StatusCode::OK, "refresh in the other organization: {body}");
    assert_works(&app, &org2, body["access_token"].as_str().expect("access_token")).await;
    app.stop().await;
}

/// The refresh token is refused while the user is away, too.
async fn refresh_while_away_is_invalid_grant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let removed = code_grant(&app, &oauth, &f.member, None).await;
    let leaver = code_grant(&app, &oauth, &f.admin, None).await;
    app.remove_member(&f.org, &f.owner, &f.member).await;
    app.remove_member(&f.org, &f.admin, &f.admin).await;
    for grant in [&removed, &leaver] {
        assert_invalid_grant(&app, &oauth, &grant.refresh).await;
        assert_dead(&app, &f.org, &grant.access).await;
        assert_inactive(&app, &oauth, &grant.access).await;
        assert_inactive(&app, &oauth, &grant.refresh).await;
    }
    app.add_member(&f.org, &f.owner, &f.member, "MEMBER").await;
    app.add_member(&f.org, &f.owner, &f.admin, "ADMIN").await;
    for grant in [&removed, &leaver] {
        assert_invalid_grant(&app, &oauth, &grant.refresh).await;
        assert_dead(&app, &f.org, &grant.access).await;
    }
    app.stop().await;
}

/// An authorization code is an authorization grant too (RFC 6749 §1.3.1): one issued before
/// the user left does not turn into tokens after they come back.
async fn pending_code_dies_with_the_membership(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let (code, verifier) = app.authorize_code(&oauth, &f.member, None).await;
    app.remove_member(&f.org, &f.owner, &f.member).await;
    app.add_member(&f.org, &f.owner, &f.member, "MEMBER").await;
    let (status, _, body) = app.exchange_code(&oauth, &code, &verifier).await;
    if status == StatusCode::OK {
        let access = body["access_token"].as_str().expect("access_token");
        let (status, res) = app.get(&members_path(&f.org), Some(access)).await;
        panic!(
            "a code issued before the user left was exchanged after they came back; \
             its token answers {status}: {res}"
        );
    }
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], json!("invalid_grant"), "{body}");
    app.stop().await;
}

async fn removal_by_owner_ends_grants(backend: Backend) {
    leaving_ends_grants(backend, Departure::RemovedByOwner).await;
}

async fn leaving_oneself_ends_grants(backend: Backend) {
    leaving_ends_grants(backend, Departure::LeavesThemselves).await;
}

on_both_backends!(
    refresh_while_away_is_invalid_grant,
    pending_code_dies_with_the_membership,
    removal_by_owner_ends_grants,
    leaving_oneself_ends_grants
);
