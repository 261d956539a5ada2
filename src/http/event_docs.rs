//! The events in the OpenAPI document: every type under the top-level `webhooks` object with
//! its payload, and the event log's entries typed by their `event`. The application's types
//! join them as they are registered, so the document is finished for each request from the
//! catalogue ([`served`]).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::domain::event::{EventType, LoggedEvent, schemas};
use crate::error::ApiResult;
use crate::state::AppState;
use crate::store::event_types::{self, CustomType};

/// The component every event payload refers to for its organization.
const ORGANIZATION: &str = "EventOrganization";

/// Adds the `webhooks` object, each event's payload and the typed event log entry to `doc`.
pub fn add_events(doc: &mut Value) {
    doc["components"]["schemas"][ORGANIZATION] = json!({
        "type": "object",
        "description": "The organization as it was when the event happened.",
        "properties": {"id": {"type": "string", "format": "uuid"}, "slug": {"type": "string"},
                       "name": {"type": "string"}},
        "required": ["id", "slug", "name"],
    });
    let mut entries = Vec::new();
    for event in LoggedEvent::all() {
        let name = event.as_str();
        doc["components"]["schemas"][payload_name(name)] =
            payload(name, schemas::data_schema(event));
        entries.push(entry(name));
        if let LoggedEvent::Catalog(event) = event {
            add_webhook(doc, event.as_str(), schemas::description(LoggedEvent::Catalog(event)));
        }
    }
    doc["components"]["schemas"]["EventView"] = log_entry(entries);
}

fn payload_name(event: &str) -> String {
    format!("EventPayload.{event}")
}

/// The body a receiver gets for `event`: the original API page's shape.
fn payload(event: &str, data: Value) -> Value {
    json!({
        "type": "object",
        "properties": {
            "event": {"type": "string", "const": event},
            "organization": {"$ref": format!("#/components/schemas/{ORGANIZATION}")},
            "data": data,
            "timestamp": {"type": "string", "format": "date-time"},
        },
        "required": ["event", "organization", "data", "timestamp"],
    })
}

/// An event log entry of `event`: its payload and its ID.
fn entry(event: &str) -> Value {
    json!({"allOf": [
        {"$ref": format!("#/components/schemas/{}", payload_name(event))},
        {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}},
         "required": ["id"]},
    ]})
}

fn log_entry(entries: Vec<Value>) -> Value {
    json!({
        "description": "An entry of the event log: the webhook payload of its type, plus its ID.",
        "oneOf": entries,
    })
}

/// `event` under `webhooks`: the request Roster sends to a subscribed webhook.
fn add_webhook(doc: &mut Value, event: &str, about: &str) {
    let operation = json!({
        "summary": event,
        "description": about,
        "operationId": format!("webhook.{event}"),
        "tags": ["webhooks"],
        "parameters": [
            header("X-Webhook-Signature", "Lowercase hex HMAC-SHA256 of the raw body, keyed by the whole secret (`whsec_…`)."),
            header("X-Webhook-Event", "The event type."),
            header("X-Webhook-Delivery", "The delivery's ID, the same on every retry."),
            header("webhook-id", "Standard Webhooks: the delivery's ID."),
            header("webhook-timestamp", "Standard Webhooks: seconds since the Unix epoch."),
            header("webhook-signature", "Standard Webhooks: `v1,<base64 HMAC-SHA256 of id.timestamp.body>`, one per live secret."),
        ],
        "requestBody": {"required": true, "content": {"application/json": {"schema":
            {"$ref": format!("#/components/schemas/{}", payload_name(event))}}}},
        "responses": {"2XX": {"description": "Received; any other answer, or none within the timeout, is retried."}},
    });
    doc["webhooks"][event] = json!({"post": operation});
}

fn header(name: &str, about: &str) -> Value {
    json!({"name": name, "in": "header", "required": true, "description": about,
           "schema": {"type": "string"}})
}

/// `GET /api/openapi.json`: the document, with the application's registered types added.
pub async fn served(
    State(state): State<AppState>,
    doc: axum::Extension<Arc<Value>>,
) -> ApiResult<Json<Value>> {
    let mut conn = state.db.acquire().await?;
    let custom = event_types::all(&mut conn).await?;
    drop(conn);
    if custom.is_empty() {
        return Ok(Json((*doc.0).clone()));
    }
    let mut doc = (*doc.0).clone();
    add_custom(&mut doc, &custom);
    Ok(Json(doc))
}

/// Adds the application's types: their payloads and webhooks, the log's entries, and every
/// list of event types a request may name.
fn add_custom(doc: &mut Value, custom: &[CustomType]) {
    let names: Vec<&str> = custom.iter().map(|c| c.name.as_str()).collect();
    add_to_event_enums(doc, &names);
    for custom in custom {
        let mut data: Value = serde_json::from_str(&custom.schema).unwrap_or_else(|_| json!({}));
        // The schema's own `#/…` references stay within it.
        if data.get("$id").is_none() {
            data["$id"] = json!(format!("urn:roster:event-type:{}", custom.name));
        }
        doc["components"]["schemas"][payload_name(&custom.name)] = payload(&custom.name, data);
        add_webhook(doc, &custom.name, &custom.description);
        if custom.deprecated_at.is_some() {
            doc["webhooks"][&custom.name]["post"]["deprecated"] = json!(true);
        }
        if let Some(entries) = doc["components"]["schemas"]["EventView"]["oneOf"].as_array_mut() {
            // Older events met the schema they were published under, not always today's.
            entries.push(json!({"allOf": [
                payload(&custom.name, json!({"type": "object"})),
                {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}},
                 "required": ["id"]},
            ]}));
        }
    }
}

/// Appends `names` to every enum of event types in the document (a webhook's `events`, the
/// event log's `?event=`): those that list Roster's first type.
fn add_to_event_enums(value: &mut Value, names: &[&str]) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(choices)) = map.get_mut("enum") {
                let first = json!(EventType::ALL[0].as_str());
                if choices.contains(&first) {
                    // Before the `null` of an optional property, if there is one.
                    let at = choices.iter().position(Value::is_null).unwrap_or(choices.len());
                    for (i, name) in names.iter().enumerate() {
                        choices.insert(at + i, json!(name));
                    }
                }
            }
            map.values_mut().for_each(|v| add_to_event_enums(v, names));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| add_to_event_enums(v, names)),
        _ => {}
    }
}
