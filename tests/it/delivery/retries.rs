//! The retry schedule: followed to the end, stopped by a success, and its defaults.

use std::time::Duration;

use roster::config::{Config, RetrySchedule};
use serde_json::{Value, json};

use super::{
    WAIT, add_someone, assert_numbered, attempts, fast_retries, finished, ms, owner_and_org,
    single_webhook_id,
};
use crate::common::receiver::{Receiver, Reply};
use crate::common::{Backend, TestApp};

/// Four attempts spaced by the default schedule (1 s, 5 s, 30 s on the server's clock), then
/// `failed`, then silence.
async fn retry_schedule_is_followed(backend: Backend) {
    let schedule = [Duration::from_secs(1), Duration::from_secs(5), Duration::from_secs(30)];
    let app = TestApp::spawn(backend).await;
    let receiver = Receiver::scripted(vec![Reply::status(500)]).await;
    let (owner, org) = owner_and_org(&app).await;
    let (hook, _) = app.create_webhook(&org, &owner, &receiver.url, &["member.added"]).await;
    add_someone(&app, &org, &owner, "bob").await;

    app.drain().await;
    let got = receiver.wait_for(4, WAIT).await;
    let id = single_webhook_id(&got);

    let delivery = finished(&app, &org, &hook, &owner).await;
    let times: Vec<chrono::DateTime<chrono::Utc>> = attempts(&delivery)
        .iter()
        .map(|a| a["attemptedAt"].as_str().expect("attemptedAt").parse().expect("time"))
        .collect();
    for (i, delay) in schedule.iter().enumerate() {
        let gap = (times[i + 1] - times[i]).to_std().expect("attempts in order");
        assert!(
            gap >= *delay && gap < *delay + Duration::from_secs(1),
            "gap before attempt {} was {gap:?}, expected about {delay:?}",
            i + 2
        );
    }
    assert_eq!(delivery["status"], "failed", "{delivery}");
    assert_eq!(delivery["id"], id);
    assert_eq!(delivery["nextAttemptAt"], Value::Null);
    assert_numbered(&delivery, 4);
    for attempt in attempts(&delivery) {
        assert_eq!(attempt["statusCode"], 500, "{attempt}");
        assert_eq!(attempt["error"], Value::Null, "{attempt}");
        assert_eq!(attempt["responseBody"], "receiver says hi", "{attempt}");
    }
    app.advance(Duration::from_secs(3600));
    receiver.assert_stays_at(4, ms(100)).await;
    app.stop().await;
}

/// 500, 500, then 200: the third attempt succeeds and nothing more is sent.
async fn recovers_after_failures(backend: Backend) {
    let app = TestApp::spawn_with(backend, fast_retries).await;
    let receiver =
        Receiver::scripted(vec![Reply::status(500), Reply::status(500), Reply::status(200)]).await;
    let (owner, org) = owner_and_org(&app).await;
    let (hook, _) = app.create_webhook(&org, &owner, &receiver.url, &["member.added"]).await;
    add_someone(&app, &org, &owner, "bob").await;

    let got = receiver.wait_for(3, WAIT).await;
    let id = single_webhook_id(&got);
    let delivery = finished(&app, &org, &hook, &owner).await;
    assert_eq!(delivery["status"], "succeeded", "{delivery}");
    assert_eq!(delivery["id"], id);
    assert_numbered(&delivery, 3);
    let codes: Vec<&Value> = attempts(&delivery).iter().map(|a| &a["statusCode"]).collect();
    assert_eq!(codes, [&json!(500), &json!(500), &json!(200)]);
    receiver.assert_stays_at(3, ms(400)).await;
    app.stop().await;
}

#[test]
fn default_schedule_and_timeout() {
    let config = Config::new("sqlite::memory:");
    assert_eq!(
        config.webhook_retry_schedule,
        RetrySchedule(vec![
            Duration::from_secs(1),
            Duration::from_secs(5),
            Duration::from_secs(30)
        ])
    );
    assert_eq!(config.webhook_timeout, Duration::from_secs(10));
    assert!(!config.webhook_allow_private);
}

on_both_backends!(retry_schedule_is_followed, recovers_after_failures);
