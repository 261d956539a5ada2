//! Graceful shutdown finishes and records the attempt in flight.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::receiver::{Receiver, Reply};
use crate::common::{Backend, TestApp, test_config};

async fn graceful_shutdown_finishes_in_flight_attempts(backend: Backend) {
    let receiver = Receiver::scripted(vec![Reply::slow(200, Duration::from_secs(1))]).await;
    let mut app = TestApp::spawn(backend).await;
    let api = app.api.clone();
    let owner = api.register("owner").await;
    let joiner = api.register("joiner").await;
    let org = api.create_org(&owner, "Shutdown").await;
    let (webhook, _) = api.create_webhook(&org, &owner, &receiver.url, &["member.added"]).await;
    api.add_member(&org, &owner, &joiner, "MEMBER").await;
    receiver.wait_for(1, Duration::from_secs(5)).await;

    // Keep the database past the first server's end (TestApp::stop drops the TestDb it owns).
    let db = app.db.take().expect("the app owns its database");
    let stopping = Instant::now();
    app.stop().await;
    let took = stopping.elapsed();
    assert!(took < Duration::from_secs(10), "shutdown took {took:?}");

    let second = TestApp::start(test_config(&db.url)).await;
    let log = second.api.deliveries(&org, &webhook, &owner).await;
    assert_eq!(log.len(), 1, "{log:?}");
    let delivery = &log[0];
    assert_eq!(delivery["status"], "succeeded", "{delivery}");
    assert_eq!(delivery["nextAttemptAt"], Value::Null, "{delivery}");
    let attempts = delivery["attempts"].as_array().expect("attempts");
    assert_eq!(attempts.len(), 1, "{delivery}");
    assert_eq!(attempts[0]["number"], 1, "{delivery}");
    assert_eq!(attempts[0]["statusCode"], 200, "{delivery}");
    let received = receiver.received();
    assert_eq!(received[0].header("x-webhook-delivery"), delivery["id"].as_str().expect("id"));

    // The new instance has nothing to do: the attempt is not made again.
    receiver.assert_stays_at(1, Duration::from_secs(2)).await;
    let log = second.api.deliveries(&org, &webhook, &owner).await;
    assert_eq!(log[0]["attempts"].as_array().expect("attempts").len(), 1, "{log:?}");
    second.stop().await;
}

on_both_backends!(graceful_shutdown_finishes_in_flight_attempts);
