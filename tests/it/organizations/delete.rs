//! Deleting an organization.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{ids, org_path, raw, unknown_id};
use crate::common::messages::{DELETE_DENIED, ORG_NOT_FOUND};
use crate::common::{AUTH_REQUIRED, Backend, TestApp, assert_error};

async fn delete_org_is_for_owners_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let path = org_path(&f.org);

    let (status, body) = app.delete(&path, Some(&f.admin.token)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, DELETE_DENIED);
    let (status, body) = app.delete(&path, Some(&f.member.token)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, DELETE_DENIED);
    let (status, body) = app.delete(&path, Some(&f.outsider.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.delete(&org_path(&unknown_id()), Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.delete(&org_path("x"), Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "Validation failed (uuid is expected)");
    let (status, body) = app.delete(&path, None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    // Still there after every refusal.
    let (status, _) = app.get(&path, Some(&f.member.token)).await;
    assert_eq!(status, StatusCode::OK);

    let other = app.create_org(&f.owner, "Keep Me").await;
    let (status, _, text) =
        raw(&app, Method::DELETE, &path, Some(&f.owner.token), None, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(text, "", "204 has no body");

    for user in [&f.owner, &f.admin, &f.member, &f.outsider] {
        let (status, body) = app.get(&path, Some(&user.token)).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
        let (status, body) = app.get(&format!("{path}/events"), Some(&user.token)).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
        let (status, body) = app.get(&format!("{path}/members"), Some(&user.token)).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    }
    let (status, body) = app.patch(&path, Some(&f.owner.token), json!({"name": "Back"})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.delete(&path, Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);

    // It is gone from the lists; the owner's other organization is untouched.
    let (_, list) = app.get("/api/organizations", Some(&f.owner.token)).await;
    assert_eq!(ids(&list), vec![other.clone()]);
    for user in [&f.admin, &f.member] {
        let (_, list) = app.get("/api/organizations", Some(&user.token)).await;
        assert_eq!(list, json!({"data": [], "nextCursor": null}));
    }
    // Its slug can be used again.
    let (status, body) = app
        .post(
            "/api/organizations",
            Some(&f.admin.token),
            json!({"name": "New", "slug": "acme-corp"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    app.stop().await;
}

on_both_backends!(delete_org_is_for_owners_only);
