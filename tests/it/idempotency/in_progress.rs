//! A key whose request is still running answers 409 with `Retry-After: 1`; a claim left by a
//! request that never finished (its instance died) is taken over once its lease runs out.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use sqlx::Connection;

use super::{leave_claim, post, stored_keys};
use crate::common::{Backend, TestApp, assert_error};

const IN_PROGRESS: &str = "A request with this Idempotency-Key is still in progress";

/// Polls until a request holds a claim.
async fn until_claimed(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while stored_keys(app).await.1 == 0 {
        assert!(Instant::now() < deadline, "the request never claimed its key");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn a_key_in_progress_answers_409(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.register("owner").await;
    let org = app.create_org(&owner, "Acme").await;
    let path = format!("/api/organizations/{org}/invites");
    let invite = json!({"email": "new@example.com", "role": "MEMBER", "sendEmail": false});
    let url = app.db.as_ref().expect("own database").url.clone();

    let first = match backend {
        // A real request, held inside its handler by the organization's row lock from another
        // session: it has claimed its key, and cannot finish until the lock goes.
        Backend::Postgres => {
            let mut busy = sqlx::PgConnection::connect(&url).await.expect("second session");
            sqlx::query("BEGIN").execute(&mut busy).await.expect("begin");
            sqlx::query("SELECT id FROM organizations WHERE id = $1::uuid FOR UPDATE")
                .bind(&org)
                .execute(&mut busy)
                .await
                .expect("lock");
            let request = {
                let (app, path, token, invite) =
                    (app.api.clone(), path.clone(), owner.token.clone(), invite.clone());
                tokio::spawn(async move {
                    let response = app
                        .client
                        .post(format!("{}{path}", app.base))
                        .bearer_auth(token)
                        .header("idempotency-key", "slow")
                        .json(&invite)
                        .send()
                        .await
                        .expect("answered");
                    (response.status(), response.json::<serde_json::Value>().await.expect("JSON"))
                })
            };
            until_claimed(&app).await;
            Some((request, busy))
        }
        // SQLite has one writer, so holding it would hold the claim too: the claim is left
        // as a running request leaves it.
        Backend::Sqlite => {
            leave_claim(&app, &owner.token, "slow", &path, &invite).await;
            None
        }
    };

    let busy = post(&app, &path, Some(&owner.token), Some("slow"), &invite).await;
    assert_error(busy.status, &busy.body, StatusCode::CONFLICT, IN_PROGRESS);
    assert_eq!(busy.header("retry-after"), Some("1"));
    // Another key is not held up by the claim (the row lock aside).
    let other = json!({"name": "Other"});
    let free = post(&app, "/api/organizations", Some(&owner.token), Some("free"), &other).await;
    assert_eq!(free.status, StatusCode::CREATED, "{}", free.body);

    if let Some((request, busy)) = first {
        drop(busy);
        let (status, body) = request.await.expect("request task");
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let replay = post(&app, &path, Some(&owner.token), Some("slow"), &invite).await;
        assert_eq!((replay.status, &replay.body), (status, &body));
        assert!(replay.replayed());
        assert_eq!(app.list_all(&path, &owner.token).await.len(), 1);
    }
    app.stop().await;
}

async fn a_stale_claim_is_taken_over(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.register("owner").await;
    let body = json!({"name": "Acme"});
    leave_claim(&app, &owner.token, "stale", "/api/organizations", &body).await;
    let held = post(&app, "/api/organizations", Some(&owner.token), Some("stale"), &body).await;
    assert_eq!(held.status, StatusCode::CONFLICT, "{}", held.body);
    // Past the lease, no live request can hold it: a retry runs the request.
    app.advance(app.state.config.idempotency_lease + Duration::from_secs(1));
    let other = json!({"name": "Other"});
    let refused = post(&app, "/api/organizations", Some(&owner.token), Some("stale"), &other).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "only for the same request");
    let retried = post(&app, "/api/organizations", Some(&owner.token), Some("stale"), &body).await;
    assert_eq!(retried.status, StatusCode::CREATED, "{}", retried.body);
    assert!(!retried.replayed());
    let replay = post(&app, "/api/organizations", Some(&owner.token), Some("stale"), &body).await;
    assert!(replay.replayed());
    assert_eq!(replay.body, retried.body);
    assert_eq!(stored_keys(&app).await, (1, 0));
    app.stop().await;
}

on_both_backends!(a_key_in_progress_answers_409, a_stale_claim_is_taken_over);
