//! Redelivery, and recovery after an outage.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{
    QUIET, WAIT, WEBHOOK_NOT_FOUND, all_have, assert_signed_by, deliveries_when, hook_path,
    redeliver_path, rename,
};
use crate::common::messages::{BAD_UUID, ORG_NOT_FOUND, denied};
use crate::common::receiver::{Receiver, Reply};
use crate::common::{AUTH_REQUIRED, Backend, TestApp, assert_error, assert_validation, random_id};

const DELIVERY_NOT_FOUND: &str = "Delivery not found";
const BAD_SINCE: &str = "since must be a valid ISO 8601 date string";

async fn redeliver_starts_a_fresh_attempt_with_the_same_id(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let receiver = Receiver::start().await;
    let (hook, secret) =
        app.create_webhook(&f.org, &f.owner, &receiver.url, &["webhook.created"]).await;
    let first = receiver.wait_for(1, WAIT).await;
    let log = deliveries_when(&app, &f.org, &hook, &f.owner, "a succeeded delivery", |d| {
        all_have(d, 1, "succeeded", 1)
    })
    .await;
    let delivery = log[0]["id"].as_str().expect("id").to_owned();

    let (status, body) =
        app.post(&redeliver_path(&f.org, &hook, &delivery), Some(&f.admin.token), json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    let got = receiver.wait_for(2, WAIT).await;
    assert_eq!(got[1].header("webhook-id"), first[0].header("webhook-id"));
    assert_eq!(got[1].header("x-webhook-delivery"), delivery);
    assert_eq!(got[1].body, first[0].body, "the same event");
    assert_signed_by(&got[1], &secret);

    let log = deliveries_when(&app, &f.org, &hook, &f.owner, "two attempts", |d| {
        all_have(d, 1, "succeeded", 2)
    })
    .await;
    let numbers: Vec<i64> = log[0]["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|a| a["number"].as_i64().expect("number"))
        .collect();
    assert_eq!(numbers, [1, 2]);
    assert_eq!(log[0]["attempts"][1]["statusCode"], 200);

    let token = Some(f.owner.token.as_str());
    let (status, body) =
        app.post(&redeliver_path(&f.org, &hook, &random_id()), token, json!({})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, DELIVERY_NOT_FOUND);
    let (status, body) = app.post(&redeliver_path(&f.org, &hook, "nope"), token, json!({})).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, BAD_UUID);
    // A delivery is found only under its own webhook.
    let (other, _) =
        app.create_webhook(&f.org, &f.owner, "https://example.com/x", &["member.added"]).await;
    let (status, body) =
        app.post(&redeliver_path(&f.org, &other, &delivery), token, json!({})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, DELIVERY_NOT_FOUND);
    let (status, body) =
        app.post(&redeliver_path(&f.org, &random_id(), &delivery), token, json!({})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);

    let path = redeliver_path(&f.org, &hook, &delivery);
    let (status, body) = app.post(&path, Some(&f.member.token), json!({})).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, &denied("redeliver webhooks"));
    let (status, body) = app.post(&path, Some(&f.outsider.token), json!({})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.post(&path, None, json!({})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    // Creating `other` was one more webhook.created event; the refused calls sent nothing.
    let got = receiver.wait_for(3, WAIT).await;
    assert_eq!(got[2].json()["data"]["webhookId"], other.as_str());
    assert_ne!(got[2].header("webhook-id"), first[0].header("webhook-id"));
    receiver.assert_stays_at(3, QUIET).await;
}

async fn recover_replays_what_failed_while_the_receiver_was_down(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.webhook_retry_schedule = roster::config::RetrySchedule(vec![]);
    })
    .await;
    let f = app.org_with_roles().await;
    let receiver = Receiver::scripted(vec![Reply::status(500)]).await;
    let (hook, _) =
        app.create_webhook(&f.org, &f.owner, &receiver.url, &["organization.updated"]).await;
    let path = format!("{}/recover", hook_path(&f.org, &hook));
    let before = (chrono::Utc::now() - chrono::Duration::seconds(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);

    rename(&app, &f.org, &f.owner, "Acme Down 1").await;
    rename(&app, &f.org, &f.owner, "Acme Down 2").await;
    receiver.wait_for(2, WAIT).await;
    let log = deliveries_when(&app, &f.org, &hook, &f.owner, "two failed deliveries", |d| {
        all_have(d, 2, "failed", 1)
    })
    .await;
    for d in &log {
        assert_eq!(d["nextAttemptAt"], Value::Null, "{d}");
        assert_eq!(d["attempts"][0]["statusCode"], 500, "{d}");
        assert_eq!(d["attempts"][0]["responseBody"], "receiver says hi", "{d}");
    }
    receiver.assert_stays_at(2, Duration::from_millis(300)).await;

    receiver.set_script(vec![Reply::status(200)]);

    // Nothing failed after a time in the future.
    let later = (chrono::Utc::now() + chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (status, body) = app.post(&path, Some(&f.owner.token), json!({"since": later})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body, json!({"requeued": 0}));

    let (status, body) = app.post(&path, Some(&f.admin.token), json!({"since": before})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body, json!({"requeued": 2}));

    let got = receiver.wait_for(4, WAIT).await;
    let renamed: BTreeSet<String> = got[2..]
        .iter()
        .map(|r| r.json()["data"]["changes"]["name"]["current"].as_str().expect("name").to_owned())
        .collect();
    assert_eq!(renamed, BTreeSet::from(["Acme Down 1".to_owned(), "Acme Down 2".to_owned()]));
    let log = deliveries_when(&app, &f.org, &hook, &f.owner, "two recovered deliveries", |d| {
        all_have(d, 2, "succeeded", 2)
    })
    .await;
    for d in &log {
        assert_eq!(d["attempts"][1]["statusCode"], 200, "{d}");
        assert_eq!(d["attempts"][1]["number"], 2, "{d}");
    }

    // Nothing is left to recover.
    let (status, body) = app.post(&path, Some(&f.owner.token), json!({"since": before})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body, json!({"requeued": 0}));
    receiver.assert_stays_at(4, QUIET).await;

    let token = Some(f.owner.token.as_str());
    let (status, body) = app.post(&path, token, json!({"since": "yesterday"})).await;
    assert_validation(status, &body, &[BAD_SINCE]);
    let (status, body) = app.post(&path, token, json!({})).await;
    assert_validation(status, &body, &[BAD_SINCE]);
    // Times are kept within four-digit years in UTC; this one is year 10000 there.
    let (status, body) =
        app.post(&path, token, json!({"since": "9999-12-31T23:59:59-01:00"})).await;
    assert_validation(status, &body, &[BAD_SINCE]);
    let (status, body) = app.post(&path, token, json!({"since": before, "foo": 1})).await;
    assert_validation(status, &body, &["property foo should not exist"]);

    let (status, body) = app.post(&path, Some(&f.member.token), json!({"since": before})).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, &denied("recover webhook deliveries"));
    let (status, body) = app.post(&path, Some(&f.outsider.token), json!({"since": before})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.post(&path, None, json!({"since": before})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    let (status, body) = app
        .post(
            &format!("{}/recover", hook_path(&f.org, &random_id())),
            token,
            json!({"since": before}),
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);
}

/// Redelivery and recovery refuse an inactive webhook with 409, as a test delivery does: the
/// deliveries would end `failed` without a request. Nothing is requeued.
async fn an_inactive_webhook_is_not_redelivered_or_recovered(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let receiver = Receiver::start().await;
    let (hook, _) = app.create_webhook(&f.org, &f.owner, &receiver.url, &["webhook.created"]).await;
    receiver.wait_for(1, WAIT).await;
    let log = deliveries_when(&app, &f.org, &hook, &f.owner, "a succeeded delivery", |d| {
        all_have(d, 1, "succeeded", 1)
    })
    .await;
    let delivery = log[0]["id"].as_str().expect("id").to_owned();
    let (status, body) = app
        .patch(&hook_path(&f.org, &hook), Some(&f.owner.token), json!({"isActive": false}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let token = Some(f.owner.token.as_str());
    let (status, body) =
        app.post(&redeliver_path(&f.org, &hook, &delivery), token, json!({})).await;
    assert_error(status, &body, StatusCode::CONFLICT, "Webhook is inactive");
    let recover = format!("{}/recover", hook_path(&f.org, &hook));
    let (status, body) = app.post(&recover, token, json!({"since": "2000-01-01T00:00:00Z"})).await;
    assert_error(status, &body, StatusCode::CONFLICT, "Webhook is inactive");
    let log = deliveries_when(&app, &f.org, &hook, &f.owner, "the one delivery, untouched", |d| {
        all_have(d, 1, "succeeded", 1)
    })
    .await;
    assert_eq!(log[0]["id"], delivery.as_str());
    receiver.assert_stays_at(1, QUIET).await;
    app.stop().await;
}

on_both_backends!(
    an_inactive_webhook_is_not_redelivered_or_recovered,
    redeliver_starts_a_fresh_attempt_with_the_same_id,
    recover_replays_what_failed_while_the_receiver_was_down
);
