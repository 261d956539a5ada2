//! Auto-disabling: a webhook whose deliveries failed every attempt, N deliveries in a row and
//! over at least T, is disabled; a success ends the streak, and re-enabling starts afresh.
//! Every delivery that fails its last attempt is announced as `delivery.exhausted`, except
//! deliveries of operational events themselves.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{
    WAIT, add_someone, fast_retries, hook_path, logged, ms, owner_and_org, view, view_until,
};
use crate::common::receiver::{Receiver, Reply};
use crate::common::{Backend, TestApp};

/// Three deliveries in a row over an hour; attempts time out after 200 ms.
fn strict(c: &mut roster::config::Config) {
    fast_retries(c);
    c.webhook_timeout = ms(200);
    c.webhook_health.disable_after_deliveries = 3;
    c.webhook_health.disable_after = Duration::from_secs(3600);
    // The test moves the clock by hours; the owner stays signed in.
    c.access_token_ttl = Duration::from_secs(30 * 24 * 3600);
}

/// A receiver that never answers in time: timeouts count like any failure. Three exhausted
/// deliveries are not enough within the hour; the first failure after it disables.
async fn timeouts_disable_after_n_deliveries_over_t(backend: Backend) {
    let app = TestApp::spawn_with(backend, strict).await;
    let silent = Receiver::scripted(vec![Reply::slow(200, Duration::from_secs(30))]).await;
    let watcher = Receiver::start().await;
    let (owner, org) = owner_and_org(&app).await;
    let (hook, _) = app.create_webhook(&org, &owner, &silent.url, &["member.added"]).await;
    let (_, _) = app.create_webhook(&org, &owner, &watcher.url, &["webhook.disabled"]).await;

    for name in ["a", "b", "c"] {
        add_someone(&app, &org, &owner, name).await;
    }
    app.drain().await;
    let body = view_until(&app, &org, &hook, &owner, |v| v["failingDeliveries"] == 3).await;
    assert_eq!(body["isActive"], true, "{body}");
    assert_eq!(body["lastError"], "timeout", "{body}");
    assert_eq!(body["disabledReason"], Value::Null);
    let since = body["failingSince"].clone();
    assert!(since.is_string(), "{body}");

    app.advance(Duration::from_secs(3600));
    add_someone(&app, &org, &owner, "d").await;
    let body = view_until(&app, &org, &hook, &owner, |v| v["isActive"] == false).await;
    assert_eq!(body["disabledReason"], "failing", "{body}");
    assert_eq!(body["failingSince"], since, "{body}");
    let got = watcher.wait_for(1, WAIT).await;
    assert_eq!(got[0].json()["data"]["reason"], "failing");
    assert_eq!(got[0].json()["data"]["lastError"], "timeout");
    assert_eq!(logged(&app, &org, &owner, "webhook.disabled").await.len(), 1);
    // The delivery waiting for its retry gets none.
    app.drain().await;

    // Re-enabling starts afresh: no streak, no reason, no error; and it is delivered to.
    let (status, body) =
        app.patch(&hook_path(&org, &hook), Some(&owner.token), json!({"isActive": true})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for (field, fresh) in [
        ("disabledReason", Value::Null),
        ("disabledAt", Value::Null),
        ("failingSince", Value::Null),
        ("failingDeliveries", json!(0)),
        ("lastError", Value::Null),
    ] {
        assert_eq!(body[field], fresh, "{field} after re-enabling: {body}");
    }
    assert_eq!(view(&app, &org, &hook, &owner).await["failingDeliveries"], 0);
    silent.set_script(vec![Reply::status(200)]);
    add_someone(&app, &org, &owner, "e").await;
    app.drain().await;
    let body = view(&app, &org, &hook, &owner).await;
    assert_eq!(body["isActive"], true, "{body}");
    assert_eq!(body["failingDeliveries"], 0, "{body}");
    app.stop().await;
}

/// A success between failures ends the streak: the count starts again from zero.
async fn a_success_ends_the_streak(backend: Backend) {
    let app = TestApp::spawn_with(backend, strict).await;
    let receiver = Receiver::scripted(vec![Reply::status(500)]).await;
    let (owner, org) = owner_and_org(&app).await;
    let (hook, _) = app.create_webhook(&org, &owner, &receiver.url, &["member.added"]).await;
    for name in ["a", "b"] {
        add_someone(&app, &org, &owner, name).await;
    }
    app.drain().await;
    let body = view_until(&app, &org, &hook, &owner, |v| v["failingDeliveries"] == 2).await;
    assert_eq!(body["lastError"], "HTTP 500", "{body}");

    receiver.set_script(vec![Reply::status(204)]);
    add_someone(&app, &org, &owner, "c").await;
    app.drain().await;
    let body = view_until(&app, &org, &hook, &owner, |v| v["failingDeliveries"] == 0).await;
    assert_eq!(body["failingSince"], Value::Null, "{body}");
    // The last error stays for whoever investigates; the streak is what decides.
    assert_eq!(body["lastError"], "HTTP 500", "{body}");

    receiver.set_script(vec![Reply::status(500)]);
    app.advance(Duration::from_secs(7200));
    for name in ["d", "e"] {
        add_someone(&app, &org, &owner, name).await;
    }
    app.drain().await;
    let body = view_until(&app, &org, &hook, &owner, |v| v["failingDeliveries"] == 2).await;
    assert_eq!(body["isActive"], true, "two in a row are not three: {body}");
    app.stop().await;
}

/// `delivery.exhausted` reaches the organization's other subscribers and the log, with what
/// an operator needs; a delivery of an operational event that fails is not announced again.
async fn exhausted_deliveries_are_announced_once(backend: Backend) {
    let app = TestApp::spawn_with(backend, fast_retries).await;
    let failing = Receiver::scripted(vec![Reply::status(502)]).await;
    let failing_watcher = Receiver::scripted(vec![Reply::status(500)]).await;
    let (owner, org) = owner_and_org(&app).await;
    let (hook, _) = app
        .create_webhook(&org, &owner, &failing.url, &["member.added", "delivery.exhausted"])
        .await;
    let (watching, _) =
        app.create_webhook(&org, &owner, &failing_watcher.url, &["delivery.exhausted"]).await;
    add_someone(&app, &org, &owner, "bob").await;

    // Four attempts at the member.added delivery, then four at its announcement to the other
    // webhook, which fail too: nothing more.
    app.drain().await;
    failing.wait_for(4, WAIT).await;
    let got = failing_watcher.wait_for(4, WAIT).await;
    app.drain().await;
    failing.assert_stays_at(4, ms(300)).await;
    failing_watcher.assert_stays_at(4, ms(100)).await;

    let announced = got[0].json();
    assert_eq!(announced["event"], "delivery.exhausted");
    let log = app.deliveries(&org, &hook, &owner).await;
    assert_eq!(log.len(), 1, "the webhook is not told of its own failure: {log:?}");
    let delivery = &log[0];
    assert_eq!(
        announced["data"],
        json!({"webhookId": hook, "deliveryId": delivery["id"], "eventId": delivery["eventId"],
               "eventType": "member.added", "attempts": 4, "lastError": "HTTP 502",
               "actor": {"type": "system"}})
    );
    let events = logged(&app, &org, &owner, "delivery.exhausted").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["data"], announced["data"]);
    let watched = app.deliveries(&org, &watching, &owner).await;
    assert_eq!(watched.len(), 1, "{watched:?}");
    assert_eq!(watched[0]["status"], "failed");
    app.stop().await;
}

on_both_backends!(
    timeouts_disable_after_n_deliveries_over_t,
    a_success_ends_the_streak,
    exhausted_deliveries_are_announced_once
);
