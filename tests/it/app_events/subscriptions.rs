//! Webhooks subscribe to the application's types as to Roster's; the seed's 400 text for an
//! unknown type stays as the original API page words it.

use reqwest::StatusCode;
use serde_json::json;

use super::{Subscribed, full_key, invoice, publish, put_type, register_invoice_paid, subscribed};
use crate::common::{Backend, TestApp, assert_validation};

const BAD_EVENT: &str = "each value in events must be one of the following values: \
     organization.created, organization.updated, organization.deleted, member.added, \
     member.removed, member.role_updated, invite.created, invite.accepted, invite.cancelled, \
     oauth_app.created, oauth_app.revoked, webhook.created";

async fn webhooks_take_registered_types_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = full_key(&app).await;
    let owner = app.register("owner").await;
    let org = app.create_org(&owner, "Acme").await;
    let hooks = format!("/api/organizations/{org}/webhooks");
    let create =
        |events: serde_json::Value| json!({"url": "https://example.com/h", "events": events});
    let (status, body) =
        app.post(&hooks, Some(&owner.token), create(json!(["invoice.paid"]))).await;
    assert_validation(status, &body, &[BAD_EVENT]);

    register_invoice_paid(&app, &key).await;
    put_type(&app, &key, "project.archived", json!({"type": "object"})).await;
    let events = json!(["project.archived", "invoice.paid", "member.added", "invoice.paid"]);
    let (status, body) = app.post(&hooks, Some(&owner.token), create(events)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["events"], json!(["member.added", "invoice.paid", "project.archived"]));
    let hook = body["id"].as_str().expect("id").to_owned();

    let (_, created) = app
        .get(&format!("/api/organizations/{org}/events?event=webhook.created"), Some(&owner.token))
        .await;
    assert_eq!(
        created["data"][0]["data"]["events"],
        json!(["member.added", "invoice.paid", "project.archived"])
    );

    app.post("/api/event-types/project.archived/deprecate", Some(&key), json!({})).await;
    let (status, body) =
        app.post(&hooks, Some(&owner.token), create(json!(["project.archived"]))).await;
    assert_validation(
        status,
        &body,
        &["events must not subscribe to project.archived: it is deprecated"],
    );
    let hook_path = format!("{hooks}/{hook}");
    let keep = json!({"events": ["project.archived", "invoice.paid"]});
    let (status, body) = app.patch(&hook_path, Some(&owner.token), keep).await;
    assert_eq!(status, StatusCode::OK, "a webhook keeps a deprecated type it has: {body}");
    let (status, other) =
        app.post(&hooks, Some(&owner.token), create(json!(["invoice.paid"]))).await;
    assert_eq!(status, StatusCode::CREATED, "{other}");
    let other_path = format!("{hooks}/{}", other["id"].as_str().expect("id"));
    let (status, body) =
        app.patch(&other_path, Some(&owner.token), json!({"events": ["project.archived"]})).await;
    assert_validation(
        status,
        &body,
        &["events must not subscribe to project.archived: it is deprecated"],
    );
}

async fn deprecated_types_are_still_delivered(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let Subscribed { key, org, receiver, .. } = subscribed(&app, "Acme").await;
    app.post("/api/event-types/invoice.paid/deprecate", Some(&key), json!({})).await;
    let (status, body) =
        publish(&app, &org, &key, json!({"type": "invoice.paid", "data": invoice()})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    receiver.wait_for(1, std::time::Duration::from_secs(5)).await;
}

async fn oauth_tokens_receive_application_events_with_organization_read(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = full_key(&app).await;
    register_invoice_paid(&app, &key).await;
    let owner = app.register("owner").await;
    let org = app.create_org(&owner, "Acme").await;
    let hooks = format!("/api/organizations/{org}/webhooks");
    let oauth = app.create_oauth_app(&org, &owner, &["webhooks:write", "organization:read"]).await;
    let body = json!({"url": "https://example.com/h", "events": ["invoice.paid"]});
    let without = app.client_credentials_token(&oauth, Some("webhooks:write")).await;
    let (status, answer) = app.post(&hooks, Some(&without), body.clone()).await;
    crate::common::assert_error(
        status,
        &answer,
        StatusCode::FORBIDDEN,
        "Access denied. This token lacks the organization:read scope.",
    );
    let with = app.client_credentials_token(&oauth, None).await;
    let (status, answer) = app.post(&hooks, Some(&with), body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    publish(&app, &org, &key, json!({"type": "invoice.paid", "data": invoice()})).await;
    let (status, page) = app.get(&format!("/api/organizations/{org}/events"), Some(&with)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page["data"].as_array().expect("data").iter().any(|e| e["event"] == "invoice.paid"),
        "the log shows it to the token too: {page}"
    );
}

on_both_backends!(
    webhooks_take_registered_types_only,
    deprecated_types_are_still_delivered,
    oauth_tokens_receive_application_events_with_organization_read
);
