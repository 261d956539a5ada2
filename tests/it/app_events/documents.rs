//! The OpenAPI document lists every event type under `webhooks` with its payload, types the
//! event log's entries by event, and takes in the application's types once registered.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{full_key, invoice, publish, register_invoice_paid};
use crate::common::{Backend, TestApp};

async fn document(app: &TestApp) -> Value {
    let (status, doc) = app.get("/api/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    doc
}

/// Checks `value` against the document's schema `name`, with its references resolved.
fn assert_meets(doc: &Value, name: &str, value: &Value) {
    let mut root = json!({"components": doc["components"]});
    root["$ref"] = json!(format!("#/components/schemas/{name}"));
    let validator = jsonschema::draft202012::new(&root).expect("the document's schemas compile");
    let errors: Vec<String> = validator.iter_errors(value).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{name}: {errors:?} in {value}");
}

async fn every_event_type_is_documented_with_its_payload(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let doc = document(&app).await;
    let webhooks = doc["webhooks"].as_object().expect("a webhooks object");
    assert_eq!(webhooks.len(), 14, "Roster's catalogue: {:?}", webhooks.keys());
    let added = &webhooks["member.added"]["post"];
    assert_eq!(
        added["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/EventPayload.member.added"
    );
    let data = &doc["components"]["schemas"]["EventPayload.member.added"]["properties"]["data"];
    assert_eq!(data["required"], json!(["userId", "email", "role", "actor"]));
    let entries = doc["components"]["schemas"]["EventView"]["oneOf"].as_array().expect("typed");
    assert_eq!(entries.len(), 20, "every type the log holds");

    // The log as the server writes it meets the document.
    let owner = app.register("owner").await;
    let org = app.create_org(&owner, "Acme").await;
    let member = app.register("member").await;
    app.add_member(&org, &owner, &member, "MEMBER").await;
    app.invite(&org, &owner, "guest@example.com", "ADMIN").await;
    let (hook, _) =
        app.create_webhook(&org, &owner, "https://example.com/h", &["member.added"]).await;
    let hook_path = format!("/api/organizations/{org}/webhooks/{hook}");
    app.patch(&hook_path, Some(&owner.token), json!({"isActive": false})).await;
    let (status, page) =
        app.get(&format!("/api/organizations/{org}/events"), Some(&owner.token)).await;
    assert_eq!(status, StatusCode::OK);
    for entry in page["data"].as_array().expect("data") {
        assert_meets(&doc, "EventView", entry);
    }
}

async fn registered_types_join_the_document(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = full_key(&app).await;
    register_invoice_paid(&app, &key).await;
    let doc = document(&app).await;
    let paid = &doc["webhooks"]["invoice.paid"]["post"];
    assert_eq!(paid["description"], "invoice.paid happened");
    let payload = &doc["components"]["schemas"]["EventPayload.invoice.paid"];
    assert_eq!(
        payload["properties"]["data"]["required"],
        json!(["invoiceId", "amount", "currency"])
    );
    assert_eq!(payload["properties"]["event"]["const"], "invoice.paid");
    let events = &doc["components"]["schemas"]["CreateWebhookRequest"]["properties"]["events"];
    let names = events["items"]["enum"].as_array().expect("enum");
    assert_eq!(names.last(), Some(&json!("invoice.paid")), "a webhook may subscribe to it");
    let log = &doc["paths"]["/api/organizations/{organizationId}/events"]["get"]["parameters"];
    let filter =
        log.as_array().and_then(|p| p.iter().find(|p| p["name"] == "event")).expect("?event=");
    assert!(filter["schema"]["enum"].as_array().expect("enum").contains(&json!("invoice.paid")));

    let owner = app.register("owner").await;
    let org = app.create_org(&owner, "Acme").await;
    publish(&app, &org, &key, json!({"type": "invoice.paid", "data": invoice()})).await;
    let (_, page) = app.get(&format!("/api/organizations/{org}/events"), Some(&owner.token)).await;
    for entry in page["data"].as_array().expect("data") {
        assert_meets(&doc, "EventView", entry);
    }
    app.post("/api/event-types/invoice.paid/deprecate", Some(&key), json!({})).await;
    let doc = document(&app).await;
    assert_eq!(doc["webhooks"]["invoice.paid"]["post"]["deprecated"], true);
}

on_both_backends!(
    every_event_type_is_documented_with_its_payload,
    registered_types_join_the_document
);
