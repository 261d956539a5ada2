//! Tenant isolation of invites.

use reqwest::StatusCode;
use serde_json::json;

use super::{
    INVITE_NOT_FOUND, ROLES, accept, ids, invite, invite_path, invites_path, list_all, member_roles,
};
use crate::common::messages::ORG_NOT_FOUND;
use crate::common::{Backend, TestApp, assert_error, assert_member, str_of};

async fn tenant_isolation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner_a = app.register("ownera").await;
    let owner_b = app.register("ownerb").await;
    let org_a = app.create_org(&owner_a, "Org A").await;
    let org_b = app.create_org(&owner_b, "Org B").await;
    let b_invite = invite(&app, &org_b, &owner_b, "guest@example.com", "MEMBER").await;
    let b_id = str_of(&b_invite, "id");
    let a_invite = invite(&app, &org_a, &owner_a, "friend@example.com", "MEMBER").await;
    let a_before = app.event_types(&org_a, &owner_a).await;
    let b_before = app.event_types(&org_b, &owner_b).await;
    let b_list = list_all(&app, &org_b, &owner_b, None).await;
    let a_token = Some(owner_a.token.as_str());

    // Through B's ID, B does not exist for A's owner.
    let (status, body) = app.get(&invites_path(&org_b), a_token).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) =
        app.get(&format!("{}?status=pending", invites_path(&org_b)), a_token).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    for role in ROLES {
        let (status, body) = app
            .post(&invites_path(&org_b), a_token, json!({"email": "spy@example.com", "role": role}))
            .await;
        assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    }
    let (status, body) = app.delete(&invite_path(&org_b, b_id), a_token).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.delete(&invite_path(&org_b, str_of(&a_invite, "id")), a_token).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);

    // Through A's URL, B's invite is not A's.
    let (status, body) = app.delete(&invite_path(&org_a, b_id), a_token).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, INVITE_NOT_FOUND);
    let (status, body) =
        app.delete(&invite_path(&org_b, str_of(&a_invite, "id")), Some(&owner_b.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, INVITE_NOT_FOUND);

    // Each list holds only its own organization's invites.
    assert_eq!(ids(&list_all(&app, &org_a, &owner_a, None).await), [str_of(&a_invite, "id")]);

    // Nothing changed anywhere.
    assert_eq!(list_all(&app, &org_b, &owner_b, None).await, b_list);
    assert_eq!(b_list[0]["status"], json!("pending"));
    assert_eq!(app.event_types(&org_a, &owner_a).await, a_before);
    assert_eq!(app.event_types(&org_b, &owner_b).await, b_before);

    // The guest accepting B's invite joins B only.
    let guest = app.register("guest").await;
    let (status, body) = accept(&app, &guest, str_of(&b_invite, "token")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_member(&body["member"], &org_b, &guest, "MEMBER");
    let (status, body) = app.get(&format!("/api/organizations/{org_a}"), Some(&guest.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    assert_eq!(member_roles(&app, &org_a, &owner_a).await.len(), 1);
    assert_eq!(app.event_types(&org_a, &owner_a).await, a_before);
    app.stop().await;
}

on_both_backends!(tenant_isolation);
