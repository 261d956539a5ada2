//! Tenant isolation of members.

use reqwest::StatusCode;
use serde_json::json;

use super::{MEMBER_NOT_FOUND, REMOVE_DENIED, UPDATE_DENIED, list_all, member_path, members_path};
use crate::common::messages::ORG_NOT_FOUND;
use crate::common::{Backend, TestApp, assert_error, assert_member};

async fn tenant_isolation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner_a = app.register("ownera").await;
    let owner_b = app.register("ownerb").await;
    let member_b = app.register("memberb").await;
    let newcomer = app.register("newcomer").await;
    let org_a = app.create_org(&owner_a, "Org A").await;
    let org_b = app.create_org(&owner_b, "Org B").await;
    app.add_member(&org_b, &owner_b, &member_b, "MEMBER").await;
    let a_before = app.event_types(&org_a, &owner_a).await;
    let b_before = app.event_types(&org_b, &owner_b).await;
    let b_members = list_all(&app, &org_b, &owner_b).await;
    let a_token = Some(owner_a.token.as_str());

    // Through B's ID: B does not exist for A's owner.
    let (status, body) = app.get(&members_path(&org_b), a_token).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    for (email, role) in [(&newcomer.email, "MEMBER"), (&owner_a.email, "OWNER")] {
        let (status, body) =
            app.post(&members_path(&org_b), a_token, json!({"email": email, "role": role})).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    }
    for target in [&member_b, &owner_b] {
        let (status, body) =
            app.patch(&member_path(&org_b, &target.id), a_token, json!({"role": "ADMIN"})).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
        let (status, body) = app.delete(&member_path(&org_b, &target.id), a_token).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    }

    // Through A's URL: B's members are not A's members.
    for target in [&member_b, &owner_b] {
        let (status, body) =
            app.patch(&member_path(&org_a, &target.id), a_token, json!({"role": "ADMIN"})).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, MEMBER_NOT_FOUND);
        let (status, body) = app.delete(&member_path(&org_a, &target.id), a_token).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, MEMBER_NOT_FOUND);
    }

    // A's list holds only A's members.
    let a_members = list_all(&app, &org_a, &owner_a).await;
    assert_eq!(a_members.len(), 1);
    assert_member(&a_members[0], &org_a, &owner_a, "OWNER");

    // Nothing changed anywhere.
    assert_eq!(list_all(&app, &org_b, &owner_b).await, b_members);
    assert_eq!(app.event_types(&org_a, &owner_a).await, a_before);
    assert_eq!(app.event_types(&org_b, &owner_b).await, b_before);
    let (status, body) =
        app.get(&format!("/api/organizations/{org_b}"), Some(&newcomer.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);

    // Membership in both is per organization: B's member made an OWNER of A is still only a
    // MEMBER of B.
    app.add_member(&org_a, &owner_a, &member_b, "OWNER").await;
    let (status, body) = app
        .patch(&member_path(&org_b, &member_b.id), Some(&member_b.token), json!({"role": "OWNER"}))
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, UPDATE_DENIED);
    let (status, body) = app.delete(&member_path(&org_b, &owner_b.id), Some(&member_b.token)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, REMOVE_DENIED);
    assert_eq!(list_all(&app, &org_b, &owner_b).await, b_members);
    app.stop().await;
}

on_both_backends!(tenant_isolation);
