//! Answers that ask to be retried (a 5xx, a 429) are not kept, so the retry runs; a kept
//! answer lasts 24 hours, after which the key is free again.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use super::{post, stored_keys};
use crate::common::{Backend, PASSWORD, TestApp};

async fn rename_table(app: &TestApp, from: &str, to: &str) {
    let mut tx = app.state.db.begin_write().await.expect("transaction");
    let sql = format!("ALTER TABLE {from} RENAME TO {to}");
    roster::run!(&mut tx, execute, sqlx::query(&sql)).expect("rename");
    tx.commit().await.expect("commit");
}

async fn a_failure_is_not_kept_and_its_retry_runs(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.register("owner").await;
    let org = app.create_org(&owner, "Acme").await;
    let path = format!("/api/organizations/{org}/invites");
    let invite = json!({"email": "new@example.com", "role": "MEMBER", "sendEmail": false});
    // The invites table gone for a moment: the server fails with a 500.
    rename_table(&app, "invites", "invites_away").await;
    let failed = post(&app, &path, Some(&owner.token), Some("inv"), &invite).await;
    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", failed.body);
    rename_table(&app, "invites_away", "invites").await;
    assert_eq!(stored_keys(&app).await, (0, 0), "a 500 gives its key up");
    let retried = post(&app, &path, Some(&owner.token), Some("inv"), &invite).await;
    assert_eq!(retried.status, StatusCode::CREATED, "{}", retried.body);
    assert!(!retried.replayed());
    app.stop().await;
}

async fn a_rate_limited_answer_is_not_kept(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.login_max_failures = 1).await;
    let owner = app.register("owner").await;
    let path = "/api/users/me/tokens";
    let wrong = json!({"name": "ci", "currentPassword": "not the password"});
    let (status, body) = app.post(path, Some(&owner.token), wrong).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let request = json!({"name": "ci", "currentPassword": PASSWORD});
    let limited = post(&app, path, Some(&owner.token), Some("pat"), &request).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS, "{}", limited.body);
    assert_eq!(stored_keys(&app).await, (0, 0), "a 429 gives its key up");
    app.advance(app.state.config.login_window + Duration::from_secs(1));
    let created = post(&app, path, Some(&owner.token), Some("pat"), &request).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(!created.replayed());
    // The kept answer holds a token: replayed as it was, stored sealed.
    let replay = post(&app, path, Some(&owner.token), Some("pat"), &request).await;
    assert_eq!(replay.body, created.body);
    let token = created.body["token"].as_str().expect("token");
    let mut conn = app.state.db.acquire().await.expect("connection");
    let stored: String = roster::run!(
        &mut conn,
        fetch_one,
        sqlx::query_scalar("SELECT response FROM idempotency_keys")
    )
    .expect("stored answer");
    assert!(!stored.contains(token), "the stored answer is sealed");
    app.stop().await;
}

async fn a_key_expires_after_24_hours(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.access_token_ttl = Duration::from_secs(3 * 24 * 3600);
    })
    .await;
    let owner = app.register("owner").await;
    let body = json!({"name": "Acme"});
    let first = post(&app, "/api/organizations", Some(&owner.token), Some("day"), &body).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    app.advance(Duration::from_secs(23 * 3600));
    let kept = post(&app, "/api/organizations", Some(&owner.token), Some("day"), &body).await;
    assert!(kept.replayed(), "still within the day");
    app.advance(Duration::from_secs(3600 + 1));
    let again = post(&app, "/api/organizations", Some(&owner.token), Some("day"), &body).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    assert!(!again.replayed(), "an expired key is free again");
    assert_ne!(again.body["id"], first.body["id"]);
    assert_eq!(app.list_all("/api/organizations", &owner.token).await.len(), 2);
    app.stop().await;
}

on_both_backends!(
    a_failure_is_not_kept_and_its_retry_runs,
    a_rate_limited_answer_is_not_kept,
    a_key_expires_after_24_hours
);
