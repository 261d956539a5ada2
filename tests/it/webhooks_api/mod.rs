//! Webhook management over real HTTP, on SQLite and PostgreSQL: the original API page's create
//! route to the letter (bodies, validation wording, 401/403), listing and reading without
//! secrets, updates and deactivation, deletion, secret rotation with both signatures during
//! the overlap, test deliveries, the delivery log, redelivery and recovery after an outage,
//! and who may call each route.

mod access;
mod audit;
mod bounded;
mod create;
mod delete;
mod deliveries;
mod read;
mod redelivery;
mod secrets;
mod stats;
mod update;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::StatusCode;
use roster::delivery::signature::{verify_legacy, verify_standard};
use serde_json::{Value, json};

use crate::common::receiver::Received;
use crate::common::{TestApp, TestUser, assert_timestamp};

const WEBHOOK_NOT_FOUND: &str = "Webhook not found";
const BAD_URL: &str = "url must be a valid URL";
const NOT_ARRAY: &str = "events must be an array";
const EVENTS_EMPTY: &str = "events should not be empty";
const BAD_EVENT: &str = "each value in events must be one of the following values: \
     organization.created, organization.updated, organization.deleted, member.added, \
     member.removed, member.role_updated, invite.created, invite.accepted, invite.cancelled, \
     oauth_app.created, oauth_app.revoked, webhook.created";

/// How long a delivery may take to arrive or to show up in the log.
const WAIT: Duration = Duration::from_secs(5);

/// How long to watch for a delivery that must not come, once a sibling has arrived.
const QUIET: Duration = Duration::from_millis(700);

fn hooks_path(org: &str) -> String {
    format!("/api/organizations/{org}/webhooks")
}

fn hook_path(org: &str, hook: &str) -> String {
    format!("/api/organizations/{org}/webhooks/{hook}")
}

fn deliveries_path(org: &str, hook: &str) -> String {
    format!("{}/deliveries", hook_path(org, hook))
}

fn redeliver_path(org: &str, hook: &str, delivery: &str) -> String {
    format!("{}/deliveries/{delivery}/redeliver", hook_path(org, hook))
}

fn time_of(value: &Value) -> chrono::DateTime<chrono::Utc> {
    let text = value.as_str().unwrap_or_else(|| panic!("timestamp is a string: {value}"));
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("RFC 3339 timestamp {text}: {e}"))
        .with_timezone(&chrono::Utc)
}

/// `whsec_` followed by standard base64 of at least 24 bytes.
fn assert_secret(secret: &Value) {
    let text = secret.as_str().unwrap_or_else(|| panic!("secret is a string: {secret}"));
    let encoded =
        text.strip_prefix("whsec_").unwrap_or_else(|| panic!("secret starts with whsec_: {text}"));
    let bytes = STANDARD.decode(encoded).unwrap_or_else(|e| panic!("secret is base64 {text}: {e}"));
    assert!(bytes.len() >= 24, "secret has at least 24 random bytes: {text}");
}

fn strings(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("array: {value}"))
        .iter()
        .map(|v| v.as_str().expect("string").to_owned())
        .collect()
}

/// A Webhook without its secret, exactly `{id, organizationId, url, events, isActive,
/// createdAt, updatedAt}`.
fn assert_webhook_view(body: &Value, org: &str, url: &str, events: &[&str], active: bool) {
    assert_eq!(
        body,
        &json!({
            "id": body["id"], "organizationId": org, "url": url, "events": events,
            "isActive": active, "createdAt": body["createdAt"], "updatedAt": body["updatedAt"],
            "headerNames": [], "rateLimit": null, "disabledReason": null, "disabledAt": null,
            "failingSince": null, "failingDeliveries": 0, "lastError": null, "lastErrorAt": null,
        })
    );
    uuid::Uuid::parse_str(body["id"].as_str().expect("id")).expect("id is a UUID");
    assert_timestamp(&body["createdAt"]);
    assert_timestamp(&body["updatedAt"]);
    assert!(time_of(&body["updatedAt"]) >= time_of(&body["createdAt"]), "{body}");
}

fn assert_no_secret(value: &Value) {
    match value {
        Value::Object(map) => {
            assert!(!map.contains_key("secret"), "secret leaked: {value}");
            map.values().for_each(assert_no_secret);
        }
        Value::Array(items) => items.iter().for_each(assert_no_secret),
        _ => {}
    }
}

/// Both signatures of a delivery verify with `secret`.
fn assert_signed_by(r: &Received, secret: &str) {
    assert!(
        verify_legacy(secret, &r.body, r.header("x-webhook-signature")),
        "X-Webhook-Signature verifies with the secret"
    );
    let ts: i64 = r.header("webhook-timestamp").parse().expect("webhook-timestamp is an integer");
    assert!(
        verify_standard(secret, r.header("webhook-id"), ts, &r.body, r.header("webhook-signature")),
        "webhook-signature verifies with the secret: {}",
        r.header("webhook-signature")
    );
}

/// Renames the organization, which emits `organization.updated`.
async fn rename(app: &TestApp, org: &str, by: &TestUser, name: &str) {
    let (status, body) = app
        .patch(&format!("/api/organizations/{org}"), Some(&by.token), json!({"name": name}))
        .await;
    assert_eq!(status, StatusCode::OK, "rename: {body}");
}

/// The webhook's delivery log, newest first, once `done` holds for it (within [`WAIT`]).
async fn deliveries_when(
    app: &TestApp,
    org: &str,
    hook: &str,
    viewer: &TestUser,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + WAIT;
    loop {
        let (status, body) = app
            .get(&format!("{}?limit=100", deliveries_path(org, hook)), Some(&viewer.token))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let data = body["data"].as_array().expect("data").clone();
        if done(&data) {
            return data;
        }
        assert!(Instant::now() < deadline, "the delivery log never showed {what}: {body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn all_have(data: &[Value], n: usize, status: &str, attempts: usize) -> bool {
    data.len() == n
        && data.iter().all(|d| {
            d["status"] == status && d["attempts"].as_array().is_some_and(|a| a.len() == attempts)
        })
}
