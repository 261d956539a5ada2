//! Work on a webhook's deliveries stays bounded however many there are: recovery restarts
//! them in batches, and the deliveries list shows a delivery's latest attempts, with every
//! attempt a page at a time at `…/attempts`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{deliveries_path, hook_path, redeliver_path};
use crate::common::messages::denied;
use crate::common::oauth::assert_insufficient_scope;
use crate::common::receiver::{Receiver, Reply};
use crate::common::{Backend, TestApp, assert_error, assert_validation, random_id};

/// More than one recovery batch (500).
const FAILED: usize = 510;

/// A server whose deliveries fail for good at their first failed attempt.
async fn spawn_without_retries(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |config| {
        config.webhook_retry_schedule = roster::config::RetrySchedule(vec![]);
    })
    .await
}

async fn recovery_restarts_every_failure_across_batches(backend: Backend) {
    let app = spawn_without_retries(backend).await;
    let f = app.org_with_roles().await;
    let mut script = vec![Reply::status(500); FAILED];
    script.push(Reply::status(200));
    let receiver = Receiver::scripted(script).await;
    let (hook, _) = app.create_webhook(&f.org, &f.owner, &receiver.url, &["invite.created"]).await;
    let since = app.clock.now();
    let invites = format!("/api/organizations/{}/invites", f.org);
    for chunk in (0..FAILED).collect::<Vec<_>>().chunks(30) {
        futures::future::join_all(chunk.iter().map(|n| {
            let body = json!({"email": format!("guest{n}@example.com"), "role": "MEMBER"});
            let (app, invites, token) = (&app, invites.clone(), f.owner.token.as_str());
            async move {
                let (status, body) = app.post(&invites, Some(token), body).await;
                assert_eq!(status, StatusCode::CREATED, "{body}");
            }
        }))
        .await;
    }
    app.drain().await;
    let log = app.list_all(&deliveries_path(&f.org, &hook), &f.owner.token).await;
    assert_eq!(log.len(), FAILED);
    assert!(log.iter().all(|d| d["status"] == "failed"), "every delivery failed");

    let path = format!("{}/recover", hook_path(&f.org, &hook));
    let (status, body) =
        app.post(&path, Some(&f.owner.token), json!({"since": since.to_rfc3339()})).await;
    assert_eq!((status, &body), (StatusCode::ACCEPTED, &json!({"requeued": FAILED})));
    app.drain().await;
    let log = app.list_all(&deliveries_path(&f.org, &hook), &f.owner.token).await;
    assert!(log.iter().all(|d| d["status"] == "succeeded"), "every delivery recovered once");
    assert!(log.iter().all(|d| d["attemptCount"] == 2), "two attempts each");
    assert_eq!(receiver.received().len(), 2 * FAILED);
}

async fn a_delivery_lists_its_latest_attempts_and_pages_through_all(backend: Backend) {
    const REDELIVERIES: usize = 10;
    let app = spawn_without_retries(backend).await;
    let f = app.org_with_roles().await;
    let receiver = Receiver::scripted(vec![Reply::status(500)]).await;
    let (hook, _) = app.create_webhook(&f.org, &f.owner, &receiver.url, &["member.added"]).await;
    let joiner = app.register("joiner").await;
    app.add_member(&f.org, &f.owner, &joiner, "MEMBER").await;
    app.drain().await;
    let log = app.list_all(&deliveries_path(&f.org, &hook), &f.owner.token).await;
    let delivery = log[0]["id"].as_str().expect("delivery id").to_owned();
    for _ in 0..REDELIVERIES {
        let path = redeliver_path(&f.org, &hook, &delivery);
        let (status, body) = app.post(&path, Some(&f.owner.token), json!({})).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        app.drain().await;
    }

    let total = REDELIVERIES as i64 + 1;
    let log = app.list_all(&deliveries_path(&f.org, &hook), &f.owner.token).await;
    assert_eq!(log[0]["attemptCount"], json!(total));
    assert_eq!(numbers(&log[0]["attempts"]), (total - 7..=total).collect::<Vec<_>>());

    let attempts = format!("{}/{delivery}/attempts", deliveries_path(&f.org, &hook));
    let token = Some(f.owner.token.as_str());
    let (status, first) = app.get(&format!("{attempts}?limit=5"), token).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(numbers(&first["data"]), [1, 2, 3, 4, 5]);
    assert_eq!(first["data"][0]["statusCode"], 500);
    let all = app.list_all(&attempts, &f.owner.token).await;
    assert_eq!(numbers(&Value::Array(all)), (1..=total).collect::<Vec<_>>());

    // Who may read them, and what is not there.
    let (status, body) = app.get(&attempts, Some(&f.member.token)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, &denied("view webhook deliveries"));
    let (status, body) = app.get(&attempts, Some(&f.outsider.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "Organization not found");
    let other = format!("{}/{}/attempts", deliveries_path(&f.org, &hook), random_id());
    let (status, body) = app.get(&other, token).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "Delivery not found");
    let (status, body) = app.get(&format!("{attempts}?cursor=bm9wZQ"), token).await;
    assert_validation(status, &body, &["cursor must be a cursor returned by a previous page"]);
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let oauth_token = app.client_credentials_token(&oauth, None).await;
    let (status, headers, body) =
        app.send(reqwest::Method::GET, &attempts, Some(&oauth_token), None).await;
    assert_insufficient_scope("attempts", status, &headers, &body, "webhooks:read");
}

fn numbers(attempts: &Value) -> Vec<i64> {
    let list = attempts.as_array().unwrap_or_else(|| panic!("attempts: {attempts}"));
    list.iter().map(|a| a["number"].as_i64().expect("number")).collect()
}

on_both_backends!(
    recovery_restarts_every_failure_across_batches,
    a_delivery_lists_its_latest_attempts_and_pages_through_all,
);
