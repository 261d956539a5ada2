//! Tenant isolation.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{ids, org_path, unknown_id};
use crate::common::messages::ORG_NOT_FOUND;
use crate::common::{Backend, TestApp, assert_error};

async fn tenants_are_isolated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let bobs_friend = app.register("friend").await;
    let org_a = app.create_org(&alice, "Alpha").await;
    let org_b = app.create_org(&bob, "Bravo").await;
    app.add_member(&org_b, &bob, &bobs_friend, "MEMBER").await;
    let b = org_path(&org_b);
    let token = Some(alice.token.as_str());
    let (_, b_before) = app.get(&b, Some(&bob.token)).await;
    let b_events_before = app.event_types(&org_b, &bob).await;

    let attempts: Vec<(StatusCode, Value)> = vec![
        app.get(&b, token).await,
        app.patch(&b, token, json!({"name": "Pwned"})).await,
        app.delete(&b, token).await,
        app.get(&format!("{b}/events"), token).await,
        app.get(&format!("{b}/members"), token).await,
        app.post(&format!("{b}/members"), token, json!({"email": alice.email, "role": "OWNER"}))
            .await,
        app.patch(&format!("{b}/members/{}", bobs_friend.id), token, json!({"role": "ADMIN"}))
            .await,
        app.delete(&format!("{b}/members/{}", bobs_friend.id), token).await,
        app.delete(&format!("{b}/members/{}", bob.id), token).await,
    ];
    for (status, body) in &attempts {
        assert_error(*status, body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    }
    // Her own organization is fine, and the answers for B equal those for a missing ID.
    let (status, _) = app.get(&org_path(&org_a), token).await;
    assert_eq!(status, StatusCode::OK);
    let (_, missing) = app.get(&org_path(&unknown_id()), token).await;
    assert_eq!(attempts[0].1, missing);

    // Nothing about B changed.
    let (_, b_after) = app.get(&b, Some(&bob.token)).await;
    assert_eq!(b_after, b_before);
    assert_eq!(app.event_types(&org_b, &bob).await, b_events_before);
    let (_, members) = app.get(&format!("{b}/members"), Some(&bob.token)).await;
    assert_eq!(members["data"].as_array().expect("data").len(), 2);
    let (_, list) = app.get("/api/organizations", token).await;
    assert_eq!(ids(&list), vec![org_a.clone()]);
    // And B's owner sees nothing of A.
    let (status, body) = app.get(&format!("{}/events", org_path(&org_a)), Some(&bob.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    app.stop().await;
}

on_both_backends!(tenants_are_isolated);
