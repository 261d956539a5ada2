//! Publishing the application's events: validated against the type's schema, stored with
//! their deliveries in one transaction, and delivered with the seed's body, headers and
//! signatures to the webhooks that subscribe.

use std::time::Duration;

use reqwest::StatusCode;
use roster::delivery::signature::verify_legacy;
use roster::domain::key_scope::KeyScope;
use serde_json::json;

use super::{
    Subscribed, full_key, invoice, publish, register_invoice_paid, server_key, subscribed,
};
use crate::common::receiver::Receiver;
use crate::common::{Backend, TestApp, assert_error, assert_validation, random_id};

const WAIT: Duration = Duration::from_secs(5);

async fn published_events_are_delivered_like_rosters_own(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let Subscribed { key, owner, org, receiver, secret } = subscribed(&app, "Acme Corp").await;
    let other = Receiver::start().await;
    app.create_webhook(&org, &owner, &other.url, &["member.added"]).await;

    let (status, body) =
        publish(&app, &org, &key, json!({"type": "invoice.paid", "data": invoice()})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let id = body["id"].as_str().expect("event id").to_owned();
    assert_eq!(body, json!({"id": id}));

    let got = receiver.wait_for(1, WAIT).await;
    let delivered = got[0].json();
    assert_eq!(
        delivered,
        json!({
            "event": "invoice.paid",
            "organization": {"id": org, "slug": "acme-corp", "name": "Acme Corp"},
            "data": invoice(),
            "timestamp": delivered["timestamp"],
        }),
        "the data exactly as published, with nothing added"
    );
    assert_eq!(got[0].header("x-webhook-event"), "invoice.paid");
    assert!(verify_legacy(&secret, &got[0].body, got[0].header("x-webhook-signature")));
    assert!(!got[0].header("webhook-signature").is_empty());
    other.assert_stays_at(0, Duration::from_millis(300)).await;

    let log = app.events(&org, &owner).await;
    assert_eq!(log[0]["id"], json!(id), "in the event log, newest first");
    assert_eq!(log[0]["event"], "invoice.paid");
    assert_eq!(log[0]["data"], invoice());
    let (status, page) = app
        .get(&format!("/api/organizations/{org}/events?event=invoice.paid"), Some(&owner.token))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(
        page["data"].as_array().map(Vec::len),
        Some(1),
        "the log filters by the type: {page}"
    );
}

async fn data_must_meet_the_schema(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let Subscribed { key, owner, org, receiver, .. } = subscribed(&app, "Acme").await;

    let bad = json!({"type": "invoice.paid", "data": {"amount": -5, "currency": "GBP"}});
    let (status, body) = publish(&app, &org, &key, bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let mut messages: Vec<&str> = body["message"]
        .as_array()
        .expect("every violation")
        .iter()
        .filter_map(|m| m.as_str())
        .collect();
    messages.sort();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert!(messages[0].starts_with("/data/amount: "), "{messages:?}");
    assert!(messages[1].starts_with("/data/currency: "), "{messages:?}");
    assert!(
        messages[2].starts_with("/data: ") && messages[2].contains("invoiceId"),
        "{messages:?}"
    );

    let (status, body) = publish(&app, &org, &key, json!({"data": [], "extra": true})).await;
    assert_validation(
        status,
        &body,
        &["property extra should not exist", "data must be an object", "type must be a string"],
    );
    let (status, body) =
        publish(&app, &org, &key, json!({"type": "invoice.void", "data": {}})).await;
    assert_validation(status, &body, &["type must be an event type registered in the catalogue"]);
    let (status, body) =
        publish(&app, &org, &key, json!({"type": "member.added", "data": {}})).await;
    assert_validation(
        status,
        &body,
        &["type must be an event type of the application: Roster publishes member.added itself"],
    );
    let (status, body) =
        app.post(&format!("/api/organizations/{org}/events"), Some(&key), json!("x")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    receiver.assert_stays_at(0, Duration::from_millis(300)).await;
    assert!(app.events(&org, &owner).await.iter().all(|e| e["event"] != "invoice.paid"));
}

async fn who_may_publish(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = full_key(&app).await;
    register_invoice_paid(&app, &key).await;
    let owner = app.register("owner").await;
    let org = app.create_org(&owner, "Acme").await;
    let other_org = app.create_org(&owner, "Other").await;
    let event = || json!({"type": "invoice.paid", "data": invoice()});

    let (status, body) = publish(&app, &random_id(), &key, event()).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "Organization not found");
    let (status, _) = publish(&app, &other_org, &key, event()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "a server key publishes to any organization");

    let catalogue_only = server_key(&app, &[KeyScope::EventTypesWrite]).await;
    let (status, body) = publish(&app, &org, &catalogue_only, event()).await;
    assert_error(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "Access denied. This server key lacks the events:publish scope.",
    );

    let people = "Access denied. Only server keys and OAuth tokens with the events:publish scope can publish events.";
    let (status, body) = publish(&app, &org, &owner.token, event()).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, people);

    let app_with = app.create_oauth_app(&org, &owner, &["events:publish", "members:read"]).await;
    let token = app.client_credentials_token(&app_with, None).await;
    let (status, body) = publish(&app, &org, &token, event()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let (status, body) = publish(&app, &other_org, &token, event()).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "Organization not found");
    let narrow = app.client_credentials_token(&app_with, Some("members:read")).await;
    let (status, body) = publish(&app, &org, &narrow, event()).await;
    assert_error(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "Access denied. This token lacks the events:publish scope.",
    );
    let (status, body) = publish(&app, &org, "rst_sk_unknown", event()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    let log = app.events(&org, &owner).await;
    assert_eq!(
        log.iter().filter(|e| e["event"] == "invoice.paid").count(),
        1,
        "only the OAuth app's"
    );
}

async fn a_retried_publish_with_its_key_is_published_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let Subscribed { key, owner, org, receiver, .. } = subscribed(&app, "Acme").await;
    let url = format!("{}/api/organizations/{org}/events", app.base);
    let send = |body: serde_json::Value| {
        app.client
            .post(&url)
            .bearer_auth(&key)
            .header("idempotency-key", "invoice-in_1-paid")
            .json(&body)
            .send()
    };
    let event = json!({"type": "invoice.paid", "data": invoice()});
    let first = send(event.clone()).await.expect("answer");
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let first: serde_json::Value = first.json().await.expect("json");
    let again = send(event).await.expect("answer");
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    assert_eq!(
        again.headers().get("idempotent-replayed").map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    let again: serde_json::Value = again.json().await.expect("json");
    assert_eq!(again, first, "the first answer, replayed");
    let other = json!({"type": "invoice.paid", "data": {"invoiceId": "in_2", "amount": 1, "currency": "USD"}});
    let refused = send(other).await.expect("answer");
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "the key names another request");

    receiver.wait_for(1, WAIT).await;
    receiver.assert_stays_at(1, Duration::from_millis(500)).await;
    let log = app.events(&org, &owner).await;
    assert_eq!(log.iter().filter(|e| e["event"] == "invoice.paid").count(), 1);
}

on_both_backends!(
    a_retried_publish_with_its_key_is_published_once,
    published_events_are_delivered_like_rosters_own,
    data_must_meet_the_schema,
    who_may_publish
);
