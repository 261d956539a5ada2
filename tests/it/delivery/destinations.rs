//! Where deliveries may not go: private addresses, inactive and deleted webhooks.

use std::time::Duration;

use reqwest::StatusCode;
use roster::config::RetrySchedule;
use serde_json::{Value, json};

use super::{
    WAIT, add_someone, assert_numbered, attempts, deliveries_at, fast_retries, finished, ms,
    owner_and_org,
};
use crate::common::receiver::{Receiver, Reply};
use crate::common::{Backend, TestApp, TestDb, test_config};

/// Webhooks to private addresses, stored while private delivery was allowed, are refused at
/// delivery time once a server runs without it; the receiver gets nothing.
async fn private_destinations_refused_at_delivery(backend: Backend) {
    let db = TestDb::new(backend).await;
    let receiver = Receiver::start().await;
    let https_url = receiver.url.replacen("http://", "https://", 1);

    let first = TestApp::start(test_config(&db.url)).await;
    let (owner, org) = owner_and_org(&first).await;
    let (plain, _) = first.create_webhook(&org, &owner, &receiver.url, &["member.added"]).await;
    let (tls, _) = first.create_webhook(&org, &owner, &https_url, &["member.added"]).await;
    let bob = first.register("bob").await;
    first.stop().await;

    let mut config = test_config(&db.url);
    config.webhook_allow_private = false;
    fast_retries(&mut config);
    let second = TestApp::start(config).await;

    // The API refuses such URLs outright now.
    let (status, body) = second
        .post(
            &format!("/api/organizations/{org}/webhooks"),
            Some(&owner.token),
            json!({"url": receiver.url, "events": ["member.added"]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let (status, body) = second
        .post(
            &format!("/api/organizations/{org}/members"),
            Some(&owner.token),
            json!({"email": bob.email, "role": "MEMBER"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    for (hook, error) in [(&plain, "insecure_url"), (&tls, "forbidden_address")] {
        let delivery = finished(&second, &org, hook, &owner).await;
        assert_eq!(delivery["status"], "failed", "{delivery}");
        assert_numbered(&delivery, 4);
        for attempt in attempts(&delivery) {
            assert_eq!(attempt["error"], error, "{attempt}");
            assert_eq!(attempt["statusCode"], Value::Null, "{attempt}");
        }
    }
    receiver.assert_stays_at(0, ms(200)).await;
    second.stop().await;
    drop(db);
}

/// Deactivating or deleting a webhook while a delivery awaits its retry stops the retries.
async fn inactive_and_deleted_webhooks_get_no_more_attempts(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.webhook_retry_schedule = RetrySchedule(vec![Duration::from_secs(1); 3]);
    })
    .await;
    let (owner, org) = owner_and_org(&app).await;
    let paused = Receiver::scripted(vec![Reply::status(500)]).await;
    let deleted = Receiver::scripted(vec![Reply::status(500)]).await;
    let (paused_hook, _) = app.create_webhook(&org, &owner, &paused.url, &["member.added"]).await;
    let (deleted_hook, _) = app.create_webhook(&org, &owner, &deleted.url, &["member.added"]).await;
    add_someone(&app, &org, &owner, "bob").await;
    paused.wait_for(1, WAIT).await;
    deleted.wait_for(1, WAIT).await;

    let hooks = format!("/api/organizations/{org}/webhooks");
    let (status, body) = app
        .patch(&format!("{hooks}/{paused_hook}"), Some(&owner.token), json!({"isActive": false}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["isActive"], false);
    let (status, body) = app.delete(&format!("{hooks}/{deleted_hook}"), Some(&owner.token)).await;
    assert!(status.is_success(), "delete webhook: {status} {body}");

    // New events are not queued for them either.
    add_someone(&app, &org, &owner, "carol").await;

    // Run the queue dry, the clock jumping to each retry: none of them makes a request.
    app.drain().await;
    tokio::join!(paused.assert_stays_at(1, ms(100)), deleted.assert_stays_at(1, ms(100)));

    let log = deliveries_at(&app, &org, &paused_hook, &owner).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(attempts(&log[0]).len(), 1, "{log:?}");
    assert_ne!(log[0]["status"], "succeeded", "{log:?}");
    app.stop().await;
}

#[test]
fn private_addresses_are_forbidden() {
    use roster::delivery::ssrf::is_forbidden;
    for ip in ["127.0.0.1", "10.0.0.1", "169.254.169.254", "::1", "::ffff:127.0.0.1"] {
        assert!(is_forbidden(ip.parse().expect("ip")), "{ip} must be forbidden");
    }
    assert!(!is_forbidden("93.184.216.34".parse().expect("ip")));
}

on_both_backends!(
    private_destinations_refused_at_delivery,
    inactive_and_deleted_webhooks_get_no_more_attempts
);
