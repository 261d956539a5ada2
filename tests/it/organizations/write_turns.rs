//! Writes to one organization take turns before they take a database connection: a burst to
//! one organization holds a few connections, the rest of it waits or is answered 429 with
//! `Retry-After`, and another organization's writes go straight on.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use roster::config::Config;
use serde_json::json;
use sqlx::Connection;
use tokio::task::JoinHandle;

use super::org_path;
use crate::common::{Backend, TestApp, TestUser, assert_error};

const RATE_LIMITED: &str = "Too many requests. Try again later.";

const BURST: usize = 30;

/// Holds what the organization's writes need, from a second session: on PostgreSQL its row,
/// on SQLite the one writer.
async fn hold(app: &TestApp, backend: Backend, org: &str) -> Box<dyn std::any::Any> {
    let url = &app.db.as_ref().expect("own database").url;
    match backend {
        Backend::Postgres => {
            let mut busy = sqlx::PgConnection::connect(url).await.expect("second session");
            sqlx::query("BEGIN").execute(&mut busy).await.expect("begin");
            sqlx::query("SELECT id FROM organizations WHERE id = $1::uuid FOR UPDATE")
                .bind(org)
                .execute(&mut busy)
                .await
                .expect("lock");
            Box::new(busy)
        }
        Backend::Sqlite => {
            let mut busy = sqlx::SqliteConnection::connect(url).await.expect("second session");
            sqlx::query("BEGIN IMMEDIATE").execute(&mut busy).await.expect("take the writer");
            Box::new(busy)
        }
    }
}

type Answer = (StatusCode, Option<String>, serde_json::Value);

/// Renames `org` on a task of its own; answers the status, `Retry-After` and body.
fn rename(app: &TestApp, org: &str, owner: &TestUser, name: String) -> JoinHandle<Answer> {
    let request = app.api.client.patch(format!("{}{}", app.api.base, org_path(org)));
    let request = request.bearer_auth(&owner.token).json(&json!({ "name": name }));
    tokio::spawn(async move {
        let response = request.send().await.expect("answered");
        let status = response.status();
        let retry_after =
            response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
        (status, retry_after, response.json().await.expect("JSON body"))
    })
}

/// Waits until `n` of `calls` have answered, and a moment more to see that no others do.
async fn answered(calls: &[JoinHandle<Answer>], n: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    while calls.iter().filter(|c| c.is_finished()).count() < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    calls.iter().filter(|c| c.is_finished()).count()
}

async fn owner_and_org(app: &TestApp, name: &str) -> (TestUser, String) {
    let owner = app.register(name).await;
    let org = app.create_org(&owner, name).await;
    (owner, org)
}

fn two_at_once_three_waiting(c: &mut Config) {
    c.server_limits.org_writes_at_once = 2;
    c.server_limits.org_writes_queued = 3;
}

/// With two writes running and three waiting, a burst of 30 leaves 25 turned away at once
/// with 429 and `Retry-After: 1`; the five in line finish once the organization is free.
async fn a_burst_past_the_queue_is_turned_away(backend: Backend) {
    let app = TestApp::spawn_with(backend, two_at_once_three_waiting).await;
    let (owner, org) = owner_and_org(&app, "acme").await;
    let held = hold(&app, backend, &org).await;

    let burst: Vec<_> = (0..BURST).map(|i| rename(&app, &org, &owner, format!("a {i}"))).collect();
    assert_eq!(answered(&burst, BURST - 5).await, BURST - 5, "two run, three wait");
    let (refused, in_line): (Vec<_>, Vec<_>) = burst.into_iter().partition(|c| c.is_finished());
    for call in refused {
        let (status, retry_after, body) = call.await.expect("request task");
        assert_error(status, &body, StatusCode::TOO_MANY_REQUESTS, RATE_LIMITED);
        assert_eq!(retry_after.as_deref(), Some("1"));
    }
    drop(held);
    for call in in_line {
        let (status, _, body) = call.await.expect("request task");
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    app.stop().await;
}

/// PostgreSQL: while one organization's writes are stuck behind its row lock, more of them
/// than the pool has connections, another organization's write answers at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_stuck_organization_leaves_the_pool_to_the_others() {
    if crate::common::postgres_disabled() {
        eprintln!("ROSTER_TEST_POSTGRES=off: not running on PostgreSQL");
        return;
    }
    let app = TestApp::spawn(Backend::Postgres).await;
    let (owner, org) = owner_and_org(&app, "stuck").await;
    let (other_owner, other) = owner_and_org(&app, "other").await;
    let held = hold(&app, Backend::Postgres, &org).await;
    let burst: Vec<_> = (0..BURST).map(|i| rename(&app, &org, &owner, format!("s {i}"))).collect();
    assert_eq!(answered(&burst, 0).await, 0, "all wait for the lock or their turn");

    let other_rename = rename(&app, &other, &other_owner, "renamed".into());
    let answer = tokio::time::timeout(Duration::from_secs(5), other_rename).await;
    let (status, _, body) = answer.expect("not held up by the other organization").expect("task");
    assert_eq!(status, StatusCode::OK, "{body}");
    drop(held);
    for call in burst {
        assert_eq!(call.await.expect("request task").0, StatusCode::OK);
    }
    app.stop().await;
}

on_both_backends!(a_burst_past_the_queue_is_turned_away);
