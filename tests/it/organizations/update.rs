//! Updating an organization.

use reqwest::StatusCode;
use serde_json::json;

use super::{SLUG_RULE, assert_utc_timestamp, events, keys, org_path, set, unknown_id};
use crate::common::messages::ORG_NOT_FOUND;
use crate::common::{AUTH_REQUIRED, Backend, TestApp, assert_error, assert_validation};

const UPDATE_DENIED: &str = "Access denied. Only owners and admins can update organizations.";

async fn patch_org_checks_roles_and_records_changes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let path = org_path(&f.org);
    let (_, before) = app.get(&path, Some(&f.owner.token)).await;

    // The owner renames it.
    let (status, body) = app.patch(&path, Some(&f.owner.token), json!({"name": "Acme Inc"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(keys(&body), set(&["id", "slug", "name", "role", "createdAt", "updatedAt"]));
    assert_eq!(body["name"], "Acme Inc");
    assert_eq!(body["slug"], "acme-corp");
    assert_eq!(body["role"], "OWNER");
    assert_eq!(body["createdAt"], before["createdAt"]);
    assert_utc_timestamp(&body["updatedAt"]);
    assert!(body["updatedAt"].as_str() >= before["updatedAt"].as_str());

    let log = events(&app, &f.org, &f.owner, "?limit=1").await;
    let latest = &log["data"][0];
    assert_eq!(latest["event"], "organization.updated");
    assert_eq!(
        latest["organization"],
        json!({"id": f.org, "slug": "acme-corp", "name": "Acme Inc"})
    );
    assert_eq!(
        latest["data"],
        json!({
            "changes": {"name": {"previous": "Acme Corp", "current": "Acme Inc"}},
            "actor": {"type": "user", "id": f.owner.id},
        })
    );

    // The admin changes both fields at once.
    let (status, body) = app
        .patch(&path, Some(&f.admin.token), json!({"name": "Acme Ltd", "slug": "acme-ltd"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (&body["name"], &body["slug"], &body["role"]),
        (&json!("Acme Ltd"), &json!("acme-ltd"), &json!("ADMIN"))
    );
    let log = events(&app, &f.org, &f.owner, "?limit=1").await;
    let latest = &log["data"][0];
    assert_eq!(latest["event"], "organization.updated");
    assert_eq!(
        latest["organization"],
        json!({"id": f.org, "slug": "acme-ltd", "name": "Acme Ltd"})
    );
    assert_eq!(
        latest["data"],
        json!({
            "changes": {
                "name": {"previous": "Acme Inc", "current": "Acme Ltd"},
                "slug": {"previous": "acme-corp", "current": "acme-ltd"},
            },
            "actor": {"type": "user", "id": f.admin.id},
        })
    );
    // The old slug is free again.
    let (status, body) =
        app.post("/api/organizations", Some(&f.outsider.token), json!({"name": "Acme Corp"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["slug"], "acme-corp");

    // A PATCH that changes nothing answers 200 and emits no event.
    let types_before = app.event_types(&f.org, &f.owner).await;
    for unchanged in
        [json!({}), json!({"name": "Acme Ltd"}), json!({"slug": "acme-ltd", "name": " Acme Ltd "})]
    {
        let (status, body) = app.patch(&path, Some(&f.owner.token), unchanged.clone()).await;
        assert_eq!(status, StatusCode::OK, "{unchanged}: {body}");
        assert_eq!((&body["name"], &body["slug"]), (&json!("Acme Ltd"), &json!("acme-ltd")));
    }
    assert_eq!(app.event_types(&f.org, &f.owner).await, types_before);

    // A MEMBER may not; an outsider and a missing organization get the same 404.
    let (status, body) = app.patch(&path, Some(&f.member.token), json!({"name": "Mine"})).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, UPDATE_DENIED);
    let (status, body) = app.patch(&path, Some(&f.outsider.token), json!({"name": "Mine"})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) =
        app.patch(&org_path(&unknown_id()), Some(&f.owner.token), json!({"name": "Mine"})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.patch(&org_path("nope"), Some(&f.owner.token), json!({})).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "Validation failed (uuid is expected)");
    let (status, body) = app.patch(&path, None, json!({"name": "Mine"})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);

    // Slug conflicts with another organization.
    let (status, body) = app.patch(&path, Some(&f.owner.token), json!({"slug": "acme-corp"})).await;
    assert_error(status, &body, StatusCode::CONFLICT, "Organization slug already exists");

    // Invalid bodies.
    let (status, body) =
        app.patch(&path, Some(&f.owner.token), json!({"name": "", "slug": "-x", "foo": 1})).await;
    assert_validation(
        status,
        &body,
        &["property foo should not exist", "name should not be empty", SLUG_RULE],
    );
    let (status, body) = app.patch(&path, Some(&f.owner.token), json!({"name": 1})).await;
    assert_validation(status, &body, &["name must be a string"]);

    // None of the refused requests changed anything or logged anything.
    let (_, now) = app.get(&path, Some(&f.member.token)).await;
    assert_eq!((&now["name"], &now["slug"]), (&json!("Acme Ltd"), &json!("acme-ltd")));
    assert_eq!(app.event_types(&f.org, &f.owner).await, types_before);
    app.stop().await;
}

on_both_backends!(patch_org_checks_roles_and_records_changes);
