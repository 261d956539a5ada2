//! The same key with the same request replays the first answer, headers and all, and the
//! work is done once.

use reqwest::StatusCode;
use serde_json::json;

use super::post;
use crate::common::{Backend, TestApp};

async fn a_retry_replays_the_first_answer_and_does_the_work_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.register("owner").await;
    let body = json!({"name": "Acme Corp"});

    let first = post(&app, "/api/organizations", Some(&owner.token), Some("org-1"), &body).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert!(!first.replayed());
    let again = post(&app, "/api/organizations", Some(&owner.token), Some("org-1"), &body).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    assert!(again.replayed(), "a replay says so");
    assert_eq!(again.body, first.body, "the same organization, not a second one");
    assert_eq!(again.header("content-type"), first.header("content-type"));
    let orgs = app.list_all("/api/organizations", &owner.token).await;
    assert_eq!(orgs.len(), 1, "{orgs:?}");

    // An invite, and its answer of a refusal: each is made once and answered the same.
    let org = first.body["id"].as_str().expect("org id");
    let path = format!("/api/organizations/{org}/invites");
    let invite = json!({"email": "new@example.com", "role": "MEMBER", "sendEmail": false});
    let made = post(&app, &path, Some(&owner.token), Some("invite-1"), &invite).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let replay = post(&app, &path, Some(&owner.token), Some("invite-1"), &invite).await;
    assert_eq!((replay.status, &replay.body), (made.status, &made.body));
    assert!(replay.replayed());
    let invites = app.list_all(&path, &owner.token).await;
    assert_eq!(invites.len(), 1, "{invites:?}");
    // Without a key, the same request runs again: here, a duplicate invite is refused.
    let twice = post(&app, &path, Some(&owner.token), Some("invite-2"), &invite).await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.body);
    let kept = post(&app, &path, Some(&owner.token), Some("invite-2"), &invite).await;
    assert_eq!((kept.status, &kept.body), (twice.status, &twice.body), "a 4xx is kept too");
    assert!(kept.replayed());

    // Requests without a key are left alone.
    let plain = post(&app, "/api/organizations", Some(&owner.token), None, &body).await;
    assert_eq!(plain.status, StatusCode::CREATED, "{}", plain.body);
    assert!(!plain.replayed());
    app.stop().await;
}

async fn keys_belong_to_their_credential(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let body = json!({"name": "Shared Name"});
    let hers = post(&app, "/api/organizations", Some(&alice.token), Some("same"), &body).await;
    let his = post(&app, "/api/organizations", Some(&bob.token), Some("same"), &body).await;
    assert_eq!((hers.status, his.status), (StatusCode::CREATED, StatusCode::CREATED));
    assert!(!his.replayed(), "another credential's key is another key");
    assert_ne!(hers.body["id"], his.body["id"]);
    // Another token of the same user is another credential too.
    let (status, login) = app
        .post(
            "/api/auth/login",
            None,
            json!({"email": alice.email, "password": crate::common::PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{login}");
    let second = login["accessToken"].as_str().expect("token");
    let other = post(&app, "/api/organizations", Some(second), Some("same"), &body).await;
    assert_eq!(other.status, StatusCode::CREATED, "{}", other.body);
    assert!(!other.replayed());
    // Once that token is revoked, its keys replay nothing.
    let (status, out) = app.post("/api/auth/logout", Some(second), json!({})).await;
    assert!(status.is_success(), "{out}");
    let revoked = post(&app, "/api/organizations", Some(second), Some("same"), &body).await;
    assert_eq!(revoked.status, StatusCode::UNAUTHORIZED, "{}", revoked.body);
    assert!(!revoked.replayed());
    app.stop().await;
}

/// An OAuth client's Basic credentials scope its keys like a bearer token: a retried token
/// request gets the same token, headers included, and another client's key is its own.
async fn oauth_clients_keys_are_their_own(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.register("owner").await;
    let org = app.create_org(&owner, "Acme").await;
    let first = app.create_oauth_app(&org, &owner, &["members:read"]).await;
    let second = app.create_oauth_app(&org, &owner, &["members:read"]).await;
    let token = |client: &crate::common::oauth::TestOAuthApp| {
        app.api
            .client
            .post(format!("{}/api/oauth/token", app.api.base))
            .basic_auth(&client.client_id, Some(&client.client_secret))
            .header("idempotency-key", "token-1")
            .form(&[("grant_type", "client_credentials")])
            .send()
    };
    let issued = token(&first).await.expect("answered");
    let cache = issued.headers().get("cache-control").cloned();
    assert!(cache.is_some(), "a token answer is not to be cached");
    let issued: serde_json::Value = issued.json().await.expect("JSON");
    let again = token(&first).await.expect("answered");
    assert_eq!(again.headers().get(super::REPLAYED).map(|v| v.as_bytes()), Some(&b"true"[..]));
    assert_eq!(again.headers().get("cache-control").cloned(), cache, "no-store is replayed");
    let again: serde_json::Value = again.json().await.expect("JSON");
    assert_eq!(again["access_token"], issued["access_token"], "the same token, issued once");
    let other = token(&second).await.expect("answered");
    assert!(other.headers().get(super::REPLAYED).is_none());
    let other: serde_json::Value = other.json().await.expect("JSON");
    assert_ne!(other["access_token"], issued["access_token"]);
    // Refusals under /api/oauth/ come in RFC 6749's shape, like the endpoints' own.
    let refusal = |key: &str, grant: &str| {
        app.api
            .client
            .post(format!("{}/api/oauth/token", app.api.base))
            .basic_auth(&first.client_id, Some(&first.client_secret))
            .header("idempotency-key", key)
            .form(&[("grant_type", grant)])
            .send()
    };
    let reused = refusal("token-1", "password").await.expect("answered");
    assert_eq!(reused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = reused.json().await.expect("JSON");
    assert_eq!(
        body,
        json!({"error": "invalid_request",
               "error_description": "Idempotency-Key was already used with a different request"})
    );
    let malformed = refusal("two words", "client_credentials").await.expect("answered");
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = malformed.json().await.expect("JSON");
    assert_eq!(body["error"], "invalid_request", "{body}");
    app.stop().await;
}

on_both_backends!(
    a_retry_replays_the_first_answer_and_does_the_work_once,
    keys_belong_to_their_credential,
    oauth_clients_keys_are_their_own
);
