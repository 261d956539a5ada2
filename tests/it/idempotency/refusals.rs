//! A key reused for another request is refused with 422; a malformed key with 400; and a
//! request without a credential has no one to keep its answer for, so its key is ignored.

use reqwest::StatusCode;
use serde_json::json;

use super::post;
use crate::common::{Backend, TestApp, assert_error, assert_validation};

const OTHER_REQUEST: &str = "Idempotency-Key was already used with a different request";
const INVALID: &str = "Idempotency-Key must be 1 to 255 visible ASCII characters";

async fn a_key_reused_for_another_request_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.register("owner").await;
    let first = json!({"name": "First"});
    let made = post(&app, "/api/organizations", Some(&owner.token), Some("k"), &first).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);

    let other_body = json!({"name": "Second"});
    let refused =
        post(&app, "/api/organizations", Some(&owner.token), Some("k"), &other_body).await;
    assert_error(refused.status, &refused.body, StatusCode::UNPROCESSABLE_ENTITY, OTHER_REQUEST);
    let org = made.body["id"].as_str().expect("id");
    let invites = format!("/api/organizations/{org}/invites");
    let refused = post(&app, &invites, Some(&owner.token), Some("k"), &first).await;
    assert_error(refused.status, &refused.body, StatusCode::UNPROCESSABLE_ENTITY, OTHER_REQUEST);
    let query = "/api/organizations?again=1";
    let refused = post(&app, query, Some(&owner.token), Some("k"), &first).await;
    assert_error(refused.status, &refused.body, StatusCode::UNPROCESSABLE_ENTITY, OTHER_REQUEST);
    assert_eq!(app.list_all("/api/organizations", &owner.token).await.len(), 1);
    app.stop().await;
}

async fn a_malformed_key_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.register("owner").await;
    let body = json!({"name": "Acme"});
    let longest = "k".repeat(255);
    let accepted =
        post(&app, "/api/organizations", Some(&owner.token), Some(&longest), &body).await;
    assert_eq!(accepted.status, StatusCode::CREATED, "{}", accepted.body);
    for bad in [String::new(), "k".repeat(256), "two words".into(), "tab\there".into()] {
        let answer = post(&app, "/api/organizations", Some(&owner.token), Some(&bad), &body).await;
        assert_validation(answer.status, &answer.body, &[INVALID]);
    }
    let twice = app
        .api
        .client
        .post(format!("{}/api/organizations", app.api.base))
        .bearer_auth(&owner.token)
        .header("idempotency-key", "a")
        .header("idempotency-key", "b")
        .json(&body)
        .send()
        .await
        .expect("answered");
    assert_eq!(twice.status(), StatusCode::BAD_REQUEST);
    // Without a credential the key's form is still checked.
    let answer = post(&app, "/api/auth/login", None, Some("bad key"), &json!({})).await;
    assert_validation(answer.status, &answer.body, &[INVALID]);
    assert_eq!(app.list_all("/api/organizations", &owner.token).await.len(), 1);
    app.stop().await;
}

async fn a_request_without_a_credential_ignores_its_key(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let body = json!({"email": "new@example.com", "password": crate::common::PASSWORD,
                      "name": "new"});
    let made = post(&app, "/api/auth/register", None, Some("signup"), &body).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    // Run again, not replayed: nobody may read another caller's tokens by guessing a key.
    let again = post(&app, "/api/auth/register", None, Some("signup"), &body).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(!again.replayed());
    let login = json!({"email": "new@example.com", "password": crate::common::PASSWORD});
    let first = post(&app, "/api/auth/login", None, Some("signin"), &login).await;
    let second = post(&app, "/api/auth/login", None, Some("signin"), &login).await;
    assert_eq!((first.status, second.status), (StatusCode::OK, StatusCode::OK));
    assert!(!second.replayed());
    assert_ne!(first.body["accessToken"], second.body["accessToken"]);
    assert_eq!(super::stored_keys(&app).await, (0, 0), "nothing is kept");
    // A token that does not authenticate keeps nothing either.
    let org = json!({"name": "Acme"});
    let refused = post(&app, "/api/organizations", Some("made-up"), Some("k"), &org).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(super::stored_keys(&app).await, (0, 0));
    app.stop().await;
}

on_both_backends!(
    a_key_reused_for_another_request_is_refused,
    a_malformed_key_is_refused,
    a_request_without_a_credential_ignores_its_key
);
