//! Test deliveries and the delivery log.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{
    QUIET, WAIT, WEBHOOK_NOT_FOUND, all_have, assert_no_secret, assert_signed_by, deliveries_path,
    deliveries_when, hook_path, time_of,
};
use crate::common::messages::{ORG_NOT_FOUND, denied};
use crate::common::receiver::Receiver;
use crate::common::{
    AUTH_REQUIRED, Backend, TestApp, TestUser, assert_error, assert_timestamp, random_id,
};

/// `{id, slug, name}` of the organization, as deliveries describe it.
async fn org_ref(app: &TestApp, org: &str, viewer: &TestUser) -> Value {
    let (status, body) = app.get(&format!("/api/organizations/{org}"), Some(&viewer.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    json!({"id": body["id"], "slug": body["slug"], "name": body["name"]})
}

async fn webhook_created_is_recorded_and_delivered(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let own = Receiver::start().await;
    let other = Receiver::start().await;

    let events = ["member.added", "webhook.created"];
    let (hook, secret) = app.create_webhook(&f.org, &f.admin, &own.url, &events).await;

    // The event log records it with the webhook and its actor.
    let (status, body) = app
        .get(
            &format!("/api/organizations/{}/events?event=webhook.created", f.org),
            Some(&f.owner.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let logged = body["data"].as_array().expect("data");
    assert_eq!(logged.len(), 1, "{body}");
    assert_eq!(
        logged[0]["data"],
        json!({"webhookId": hook, "url": own.url, "events": events,
               "actor": {"type": "user", "id": f.admin.id}})
    );
    assert_no_secret(&body);

    // The new webhook receives its own creation.
    let got = own.wait_for(1, WAIT).await;
    let r = &got[0];
    assert_eq!(r.header("x-webhook-event"), "webhook.created");
    assert_eq!(r.header("content-type"), "application/json");
    assert!(r.header("user-agent").starts_with("Roster-Webhooks/"), "{}", r.header("user-agent"));
    assert_signed_by(r, &secret);
    let payload = r.json();
    assert_eq!(
        payload,
        json!({
            "event": "webhook.created",
            "organization": org_ref(&app, &f.org, &f.owner).await,
            "data": {"webhookId": hook, "url": own.url, "events": events,
                     "actor": {"type": "user", "id": f.admin.id}},
            "timestamp": payload["timestamp"],
        })
    );
    assert_timestamp(&payload["timestamp"]);
    // The event log holds exactly what was delivered.
    let mut stored = logged[0].clone();
    stored.as_object_mut().expect("event").remove("id");
    assert_eq!(stored, payload);

    // A webhook not subscribed to webhook.created gets nothing for its creation; the first
    // one hears about the second.
    let (second, _) = app.create_webhook(&f.org, &f.owner, &other.url, &["member.added"]).await;
    let got = own.wait_for(2, WAIT).await;
    assert_eq!(got[1].json()["data"]["webhookId"], second.as_str());
    assert_eq!(got[1].json()["data"]["actor"], json!({"type": "user", "id": f.owner.id}));
    other.assert_stays_at(0, QUIET).await;
    own.assert_stays_at(2, Duration::from_millis(200)).await;
}

async fn test_sends_webhook_test_whatever_the_subscription(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let receiver = Receiver::start().await;
    let bystander = Receiver::start().await;
    app.create_webhook(&f.org, &f.owner, &bystander.url, &["member.added"]).await;
    let (hook, secret) =
        app.create_webhook(&f.org, &f.owner, &receiver.url, &["member.added"]).await;

    let (status, body) = app
        .post(&format!("{}/test", hook_path(&f.org, &hook)), Some(&f.admin.token), json!({}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    let got = receiver.wait_for(1, WAIT).await;
    let r = &got[0];
    assert_eq!(r.header("x-webhook-event"), "webhook.test");
    assert_eq!(r.header("content-type"), "application/json");
    assert_signed_by(r, &secret);
    let payload = r.json();
    assert_eq!(payload["event"], "webhook.test");
    assert_eq!(payload["organization"], org_ref(&app, &f.org, &f.owner).await);
    assert_eq!(payload["data"]["actor"], json!({"type": "user", "id": f.admin.id}));
    assert_timestamp(&payload["timestamp"]);
    let keys: BTreeSet<&str> =
        payload.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["event", "organization", "data", "timestamp"]));

    let log = deliveries_when(&app, &f.org, &hook, &f.owner, "the test delivery succeeded", |d| {
        all_have(d, 1, "succeeded", 1)
    })
    .await;
    assert_eq!(log[0]["event"], "webhook.test");
    assert_eq!(log[0]["id"], r.header("x-webhook-delivery"));

    bystander.assert_stays_at(0, QUIET).await;
    receiver.assert_stays_at(1, Duration::from_millis(100)).await;

    let test = format!("{}/test", hook_path(&f.org, &hook));
    let (status, body) = app.post(&test, Some(&f.member.token), json!({})).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, &denied("test webhooks"));
    let (status, body) = app.post(&test, Some(&f.outsider.token), json!({})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.post(&test, None, json!({})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    let (status, body) = app
        .post(&format!("{}/test", hook_path(&f.org, &random_id())), Some(&f.owner.token), json!({}))
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);

    // The test event is in the event log, and can be picked out of it.
    let (status, body) = app
        .get(
            &format!("/api/organizations/{}/events?event=webhook.test", f.org),
            Some(&f.owner.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let logged = body["data"].as_array().expect("data");
    assert_eq!(logged.len(), 1, "{body}");
    assert_eq!(logged[0]["event"], "webhook.test");

    // An inactive webhook cannot be tested: the delivery would never be attempted.
    let (status, body) = app
        .patch(&hook_path(&f.org, &hook), Some(&f.owner.token), json!({"isActive": false}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.post(&test, Some(&f.owner.token), json!({})).await;
    assert_error(status, &body, StatusCode::CONFLICT, "Webhook is inactive");
    receiver.assert_stays_at(1, Duration::from_millis(300)).await;
}

async fn the_delivery_log_records_every_attempt(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let receiver = Receiver::start().await;
    let (hook, _) = app.create_webhook(&f.org, &f.owner, &receiver.url, &["webhook.created"]).await;
    let got = receiver.wait_for(1, WAIT).await;

    let log = deliveries_when(&app, &f.org, &hook, &f.admin, "one succeeded delivery", |d| {
        all_have(d, 1, "succeeded", 1)
    })
    .await;
    let d = &log[0];
    let (status, events) = app
        .get(
            &format!("/api/organizations/{}/events?event=webhook.created", f.org),
            Some(&f.owner.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{events}");
    let event_id = &events["data"][0]["id"];
    assert_eq!(
        d,
        &json!({
            "id": d["id"], "webhookId": hook, "eventId": event_id, "event": "webhook.created",
            "status": "succeeded", "nextAttemptAt": null,
            "createdAt": d["createdAt"], "updatedAt": d["updatedAt"],
            "attempts": [{
                "number": 1, "attemptedAt": d["attempts"][0]["attemptedAt"],
                "durationMs": d["attempts"][0]["durationMs"], "statusCode": 200, "error": null,
                "responseBody": "receiver says hi",
            }],
            "attemptCount": 1,
        })
    );
    assert_eq!(d["id"], got[0].header("x-webhook-delivery"));
    assert_timestamp(&d["createdAt"]);
    assert_timestamp(&d["updatedAt"]);
    assert_timestamp(&d["attempts"][0]["attemptedAt"]);
    assert!(d["attempts"][0]["durationMs"].as_i64().is_some_and(|ms| ms >= 0), "{d}");
    assert!(time_of(&d["attempts"][0]["attemptedAt"]) >= time_of(&d["createdAt"]));

    // A second delivery; the log is newest first and paginated.
    let (status, _) = app
        .post(&format!("{}/test", hook_path(&f.org, &hook)), Some(&f.owner.token), json!({}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    receiver.wait_for(2, WAIT).await;
    deliveries_when(&app, &f.org, &hook, &f.owner, "two succeeded deliveries", |d| {
        all_have(d, 2, "succeeded", 1)
    })
    .await;
    let (status, page1) =
        app.get(&format!("{}?limit=1", deliveries_path(&f.org, &hook)), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{page1}");
    assert_eq!(page1["data"].as_array().expect("data").len(), 1);
    assert_eq!(page1["data"][0]["event"], "webhook.test");
    let cursor = page1["nextCursor"].as_str().expect("a next page");
    let (status, page2) = app
        .get(
            &format!("{}?limit=1&cursor={cursor}", deliveries_path(&f.org, &hook)),
            Some(&f.owner.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page2}");
    assert_eq!(page2["data"][0]["id"], d["id"]);
    assert_eq!(page2["nextCursor"], Value::Null);

    // Another webhook's log is its own.
    let (other, _) =
        app.create_webhook(&f.org, &f.owner, "https://example.com/x", &["member.added"]).await;
    let (status, body) = app.get(&deliveries_path(&f.org, &other), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"data": [], "nextCursor": null}));

    let path = deliveries_path(&f.org, &hook);
    let (status, body) = app.get(&path, Some(&f.member.token)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, &denied("view webhook deliveries"));
    let (status, body) = app.get(&path, Some(&f.outsider.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.get(&path, None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    let (status, body) =
        app.get(&deliveries_path(&f.org, &random_id()), Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);
}

on_both_backends!(
    webhook_created_is_recorded_and_delivered,
    test_sends_webhook_test_whatever_the_subscription,
    the_delivery_log_records_every_attempt
);
