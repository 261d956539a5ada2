//! The application's own events over real HTTP, on SQLite and PostgreSQL: server keys made
//! with the CLI, the event catalogue, publishing to an organization's webhooks, and webhooks
//! that subscribe to the application's types.

mod catalogue;
mod documents;
mod publish;
mod server_keys;
mod subscriptions;

use reqwest::StatusCode;
use serde_json::{Value, json};

pub use crate::common::keys::{full_key, put_type, server_key};
pub use crate::common::receiver::Receiver;
pub use crate::common::{TestApp, TestUser};

/// `invoice.paid` of the stories: an amount in cents and a currency.
fn invoice_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "invoiceId": {"type": "string"},
            "amount": {"type": "integer", "minimum": 0},
            "currency": {"type": "string", "enum": ["EUR", "USD"]},
        },
        "required": ["invoiceId", "amount", "currency"],
    })
}

async fn register_invoice_paid(app: &TestApp, key: &str) {
    let (status, body) = put_type(app, key, "invoice.paid", invoice_schema()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

fn invoice() -> Value {
    json!({"invoiceId": "in_1", "amount": 4200, "currency": "EUR"})
}

async fn publish(app: &TestApp, org: &str, token: &str, body: Value) -> (StatusCode, Value) {
    app.post(&format!("/api/organizations/{org}/events"), Some(token), body).await
}

/// An organization whose owner has a webhook subscribed to `invoice.paid`, which a server key
/// with every scope has registered.
struct Subscribed {
    key: String,
    owner: TestUser,
    org: String,
    receiver: Receiver,
    secret: String,
}

async fn subscribed(app: &TestApp, org_name: &str) -> Subscribed {
    let key = full_key(app).await;
    register_invoice_paid(app, &key).await;
    let owner = app.register("owner").await;
    let org = app.create_org(&owner, org_name).await;
    let receiver = Receiver::start().await;
    let (_, secret) = app.create_webhook(&org, &owner, &receiver.url, &["invoice.paid"]).await;
    Subscribed { key, owner, org, receiver, secret }
}
