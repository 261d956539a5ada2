//! The delivery log's `?status=` filter, and a webhook's deliveries of the last 24 hours
//! counted per hour by outcome.

use std::time::Duration;

use chrono::{DateTime, DurationRound, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{WAIT, all_have, deliveries_path, deliveries_when, hook_path, rename, time_of};
use crate::common::receiver::{Receiver, Reply};
use crate::common::{Backend, TestApp, TestUser, assert_validation};

const HOUR: Duration = Duration::from_secs(3600);
const BAD_STATUS: &str = "status must be one of the following values: pending, succeeded, failed";

/// Deliveries fail on their first attempt (no retries), and tokens outlive a day of clock.
async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |c| {
        c.webhook_retry_schedule = roster::config::RetrySchedule(vec![]);
        c.access_token_ttl = 30 * HOUR;
    })
    .await
}

async fn stats(app: &TestApp, org: &str, hook: &str, viewer: &TestUser) -> Value {
    let path = format!("{}/delivery-stats", hook_path(org, hook));
    let (status, body) = app.get(&path, Some(&viewer.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn counts(succeeded: i64, failed: i64, pending: i64) -> Value {
    json!({"succeeded": succeeded, "failed": failed, "pending": pending})
}

/// The counts of each hour that has any, by its position in the day.
fn busy_hours(stats: &Value) -> Vec<(usize, Value)> {
    let hours = stats["hours"].as_array().expect("hours");
    assert_eq!(hours.len(), 24, "{stats}");
    let since = time_of(&stats["since"]);
    for (i, hour) in hours.iter().enumerate() {
        assert_eq!(time_of(&hour["start"]), since + chrono::Duration::hours(i as i64), "{stats}");
    }
    hours
        .iter()
        .enumerate()
        .filter(|(_, h)| h["succeeded"] != 0 || h["failed"] != 0 || h["pending"] != 0)
        .map(|(i, h)| (i, json!({"succeeded": h["succeeded"], "failed": h["failed"], "pending": h["pending"]})))
        .collect()
}

async fn delivery_stats_count_a_day_of_deliveries_by_hour_and_outcome(backend: Backend) {
    let app = spawn(backend).await;
    let f = app.org_with_roles().await;
    let receiver = Receiver::scripted(vec![Reply::status(200), Reply::status(500)]).await;
    let (hook, _) =
        app.create_webhook(&f.org, &f.owner, &receiver.url, &["organization.updated"]).await;

    let empty = stats(&app, &f.org, &hook, &f.admin).await;
    assert_eq!(empty["total"], counts(0, 0, 0), "{empty}");
    assert_eq!(busy_hours(&empty), []);
    let since = time_of(&empty["since"]);
    assert_eq!(since, since.duration_trunc(chrono::Duration::hours(1)).expect("hour"));
    assert_eq!(time_of(&empty["until"]) - since, chrono::Duration::hours(24));
    let until: DateTime<Utc> = time_of(&empty["until"]);
    assert!(until > Utc::now() - chrono::Duration::seconds(5), "{empty}");

    rename(&app, &f.org, &f.owner, "Acme One").await;
    rename(&app, &f.org, &f.owner, "Acme Two").await;
    deliveries_when(&app, &f.org, &hook, &f.owner, "both finished", |d| {
        d.len() == 2 && d.iter().all(|d| d["status"] != "pending")
    })
    .await;
    let now = stats(&app, &f.org, &hook, &f.owner).await;
    assert_eq!(now["total"], counts(1, 1, 0), "{now}");
    assert_eq!(busy_hours(&now), [(23, counts(1, 1, 0))]);

    // Two hours on, they have moved back two places and a new failure is in the current hour.
    app.advance(2 * HOUR);
    rename(&app, &f.org, &f.owner, "Acme Three").await;
    receiver.wait_for(3, WAIT).await;
    deliveries_when(&app, &f.org, &hook, &f.owner, "three finished", |d| {
        d.len() == 3 && d.iter().all(|d| d["status"] != "pending")
    })
    .await;
    let later = stats(&app, &f.org, &hook, &f.owner).await;
    assert_eq!(later["total"], counts(1, 2, 0), "{later}");
    assert_eq!(busy_hours(&later), [(21, counts(1, 1, 0)), (23, counts(0, 1, 0))]);

    // A day after the first two, only the third is left in the window.
    app.advance(23 * HOUR);
    let next_day = stats(&app, &f.org, &hook, &f.owner).await;
    assert_eq!(next_day["total"], counts(0, 1, 0), "{next_day}");
    assert_eq!(busy_hours(&next_day), [(0, counts(0, 1, 0))]);
}

async fn the_delivery_log_filters_by_status_across_pages(backend: Backend) {
    let app = spawn(backend).await;
    let f = app.org_with_roles().await;
    let receiver = Receiver::scripted(vec![Reply::status(200), Reply::status(500)]).await;
    let (hook, _) =
        app.create_webhook(&f.org, &f.owner, &receiver.url, &["organization.updated"]).await;
    for name in ["Acme One", "Acme Two", "Acme Three"] {
        rename(&app, &f.org, &f.owner, name).await;
    }
    let log = deliveries_when(&app, &f.org, &hook, &f.owner, "three finished", |d| {
        d.len() == 3 && d.iter().all(|d| d["status"] != "pending")
    })
    .await;
    let failed: Vec<&Value> =
        log.iter().filter(|d| d["status"] == "failed").map(|d| &d["id"]).collect();
    assert_eq!(failed.len(), 2, "{log:?}");

    let path = deliveries_path(&f.org, &hook);
    let token = Some(f.admin.token.as_str());
    let (status, first) = app.get(&format!("{path}?status=failed&limit=1"), token).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["data"].as_array().map(Vec::len), Some(1), "{first}");
    assert_eq!(&first["data"][0]["id"], failed[0]);
    let cursor = first["nextCursor"].as_str().expect("a second page");
    let (status, second) =
        app.get(&format!("{path}?status=failed&limit=1&cursor={cursor}"), token).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(second["data"].as_array().map(Vec::len), Some(1), "{second}");
    assert_eq!(&second["data"][0]["id"], failed[1]);
    assert_eq!(second["nextCursor"], Value::Null, "{second}");

    let (status, succeeded) = app.get(&format!("{path}?status=succeeded"), token).await;
    assert_eq!(status, StatusCode::OK, "{succeeded}");
    assert!(
        all_have(succeeded["data"].as_array().expect("data"), 1, "succeeded", 1),
        "{succeeded}"
    );
    let (status, pending) = app.get(&format!("{path}?status=pending"), token).await;
    assert_eq!(status, StatusCode::OK, "{pending}");
    assert_eq!(pending["data"], json!([]), "{pending}");

    for bad in ["bogus", "FAILED", ""] {
        let (status, body) = app.get(&format!("{path}?status={bad}"), token).await;
        assert_validation(status, &body, &[BAD_STATUS]);
    }
    let (status, body) = app.get(&format!("{path}?status=failed&status=pending"), token).await;
    assert_validation(status, &body, &["status must not be repeated"]);
}

on_both_backends!(
    delivery_stats_count_a_day_of_deliveries_by_hour_and_outcome,
    the_delivery_log_filters_by_status_across_pages
);
