//! Validation of the invite body.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{invites_path, list_all};
use crate::common::messages::{BAD_EMAIL, BAD_ROLE};
use crate::common::{Backend, TestApp, assert_validation};

async fn create_validation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let before = app.event_types(&f.org, &f.owner).await;
    let path = invites_path(&f.org);
    let owner = Some(f.owner.token.as_str());

    for bad in [
        json!("not-an-email"),
        json!("someone@"),
        json!("@example.com"),
        json!("a b@example.com"),
        json!(""),
        json!(42),
        json!(null),
        json!(["x@example.com"]),
    ] {
        let (status, body) = app.post(&path, owner, json!({"email": bad, "role": "MEMBER"})).await;
        assert_validation(status, &body, &[BAD_EMAIL]);
    }
    for bad in [
        json!("owner"),
        json!("Member"),
        json!("SUPERUSER"),
        json!(""),
        json!(1),
        json!(null),
        json!(["OWNER"]),
    ] {
        let (status, body) =
            app.post(&path, owner, json!({"email": "x@example.com", "role": bad})).await;
        assert_validation(status, &body, &[BAD_ROLE]);
    }
    let (status, body) = app.post(&path, owner, json!({"email": "x@example.com"})).await;
    assert_validation(status, &body, &[BAD_ROLE]);
    let (status, body) = app.post(&path, owner, json!({"role": "MEMBER"})).await;
    assert_validation(status, &body, &[BAD_EMAIL]);
    let (status, body) = app.post(&path, owner, json!({})).await;
    assert_validation(status, &body, &[BAD_EMAIL, BAD_ROLE]);
    let (status, body) = app
        .post(&path, owner, json!({"email": "x@example.com", "role": "MEMBER", "token": "mine"}))
        .await;
    assert_validation(status, &body, &["property token should not exist"]);
    let (status, body) = app
        .post(&path, owner, json!({"email": "nope", "role": "nope", "expiresAt": "2099-01-01"}))
        .await;
    assert_validation(status, &body, &["property expiresAt should not exist", BAD_EMAIL, BAD_ROLE]);
    // Validation comes before permission.
    let (status, body) = app
        .post(&path, Some(&f.member.token), json!({"email": "x@example.com", "role": "x"}))
        .await;
    assert_validation(status, &body, &[BAD_ROLE]);

    let res = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(&f.owner.token)
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body, json!({"statusCode": 400, "message": "Request body must be valid JSON"}));

    assert_eq!(app.event_types(&f.org, &f.owner).await, before);
    assert!(list_all(&app, &f.org, &f.owner, None).await.is_empty());
    app.stop().await;
}

on_both_backends!(create_validation);
