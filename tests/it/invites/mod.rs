//! Invites over real HTTP, on SQLite and PostgreSQL: creating them (who may invite which role,
//! the body shown once with its token, conflicts, validation), listing and filtering them,
//! expiry, cancelling, accepting (by the invited email only, once), the events each step
//! records, the concurrent-accept race, and tenant isolation.

mod accept;
mod cancel;
mod create;
mod isolation;
mod list;
mod races;
mod validation;

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{TestApp, TestUser, str_of};

const INVITE_NOT_FOUND: &str = "Invite not found";
const ALREADY_PENDING: &str = "An invite is already pending for this email";
const ALREADY_ACCEPTED: &str = "Invite has already been accepted";
const WAS_CANCELLED: &str = "Invite has been cancelled";
const ROLES: [&str; 3] = ["OWNER", "ADMIN", "MEMBER"];
const SEVEN_DAYS_MS: i64 = 7 * 24 * 3600 * 1000;
const ACCEPT_PATH: &str = "/api/invites/accept";

fn invites_path(org: &str) -> String {
    format!("/api/organizations/{org}/invites")
}

fn invite_path(org: &str, invite_id: &str) -> String {
    format!("/api/organizations/{org}/invites/{invite_id}")
}

fn time_of(value: &Value, field: &str) -> chrono::DateTime<chrono::FixedOffset> {
    let text = str_of(value, field);
    assert!(text.ends_with('Z'), "{field} in UTC with a Z suffix: {text}");
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{field} is RFC 3339 ({text}): {e}"))
}

/// Creates an invite as `by` and returns the 201 body (the Invite plus its token).
async fn invite(app: &TestApp, org: &str, by: &TestUser, email: &str, role: &str) -> Value {
    app.invite(org, by, email, role).await
}

async fn accept(app: &TestApp, user: &TestUser, token: &str) -> (StatusCode, Value) {
    app.post(ACCEPT_PATH, Some(&user.token), json!({"token": token})).await
}

/// Every invite of `org` (optionally with `?status=`) on one page, newest first.
async fn list_all(app: &TestApp, org: &str, viewer: &TestUser, status: Option<&str>) -> Vec<Value> {
    let mut path = format!("{}?limit=100", invites_path(org));
    if let Some(s) = status {
        path.push_str(&format!("&status={s}"));
    }
    let (code, body) = app.get(&path, Some(&viewer.token)).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(body["nextCursor"], Value::Null, "{body}");
    body["data"].as_array().expect("data").clone()
}

fn ids(list: &[Value]) -> Vec<String> {
    list.iter().map(|i| str_of(i, "id").to_owned()).collect()
}

/// The organization's events, oldest first, as an OWNER or ADMIN reads them.
async fn events(app: &TestApp, org: &str, viewer: &TestUser) -> Vec<Value> {
    let (status, body) =
        app.get(&format!("/api/organizations/{org}/events?limit=100"), Some(&viewer.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["nextCursor"], Value::Null, "{body}");
    let mut all = body["data"].as_array().expect("data").clone();
    all.reverse();
    all
}

/// The organization's events of one type, oldest first.
async fn events_of(app: &TestApp, org: &str, viewer: &TestUser, kind: &str) -> Vec<Value> {
    let all = events(app, org, viewer).await;
    let found: Vec<Value> = all.into_iter().filter(|e| e["event"] == json!(kind)).collect();
    // The ?event= filter agrees with the full log.
    let (status, body) = app
        .get(
            &format!("/api/organizations/{org}/events?limit=100&event={kind}"),
            Some(&viewer.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut filtered = body["data"].as_array().expect("data").clone();
    filtered.reverse();
    assert_eq!(filtered, found);
    found
}

fn actor(user: &TestUser) -> Value {
    json!({"type": "user", "id": user.id})
}

/// An Invite object without a token: exactly its nine fields, with these values.
fn assert_invite(
    value: &Value,
    org: &str,
    email: &str,
    role: &str,
    status: &str,
    invited_by: &TestUser,
) {
    let object = value.as_object().unwrap_or_else(|| panic!("invite is an object: {value}"));
    let keys: HashSet<&str> = object.keys().map(String::as_str).collect();
    let expected: HashSet<&str> = [
        "id",
        "organizationId",
        "email",
        "role",
        "status",
        "invitedBy",
        "expiresAt",
        "createdAt",
        "updatedAt",
    ]
    .into();
    assert_eq!(keys, expected, "{value}");
    uuid::Uuid::parse_str(str_of(value, "id")).expect("id is a UUID");
    assert_eq!(value["organizationId"], json!(org), "{value}");
    assert_eq!(value["email"], json!(email), "{value}");
    assert_eq!(value["role"], json!(role), "{value}");
    assert_eq!(value["status"], json!(status), "{value}");
    assert_eq!(value["invitedBy"], json!(invited_by.id), "{value}");
    let created = time_of(value, "createdAt");
    let updated = time_of(value, "updatedAt");
    time_of(value, "expiresAt");
    assert!(updated >= created, "{value}");
}

/// The 201 body of a create: the Invite, pending, plus a `rst_inv_` token; expires in 7 days.
fn assert_created(
    value: &Value,
    org: &str,
    email: &str,
    role: &str,
    invited_by: &TestUser,
    ttl_ms: i64,
) {
    let mut invite = value.clone();
    let token = invite.as_object_mut().expect("object").remove("token").expect("token present");
    let token = token.as_str().expect("token is a string");
    assert!(token.starts_with("rst_inv_") && token.len() > "rst_inv_".len() + 16, "{token}");
    assert_invite(&invite, org, email, role, "pending", invited_by);
    assert_eq!(value["createdAt"], value["updatedAt"], "{value}");
    let lifetime = time_of(value, "expiresAt") - time_of(value, "createdAt");
    assert_eq!(lifetime.num_milliseconds(), ttl_ms, "{value}");
}

/// userId → role of every member of `org`.
async fn member_roles(app: &TestApp, org: &str, viewer: &TestUser) -> Vec<(String, String)> {
    let (status, body) =
        app.get(&format!("/api/organizations/{org}/members?limit=100"), Some(&viewer.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|m| (str_of(m, "userId").to_owned(), str_of(m, "role").to_owned()))
        .collect()
}
