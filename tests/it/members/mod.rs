//! Members and roles over real HTTP, on SQLite and PostgreSQL: listing with cursor pagination,
//! adding, changing roles, removing and leaving, the events each change records, the
//! "at least one OWNER" invariant under concurrent requests, and tenant isolation.

mod add;
mod isolation;
mod list;
mod races;
mod remove;
mod update;

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{TestApp, TestUser, assert_timestamp};

const MEMBER_NOT_FOUND: &str = "Member not found";
const UPDATE_DENIED: &str = "Access denied. Only owners and admins can update members.";
const REMOVE_DENIED: &str = "Access denied. Only owners and admins can remove members.";
const LAST_OWNER: &str = "Organization must have at least one owner";
const ROLES: [&str; 3] = ["OWNER", "ADMIN", "MEMBER"];

fn members_path(org: &str) -> String {
    format!("/api/organizations/{org}/members")
}

fn member_path(org: &str, user_id: &str) -> String {
    format!("/api/organizations/{org}/members/{user_id}")
}

/// Every member of `org` as `viewer` lists them on one page, newest first.
async fn list_all(app: &TestApp, org: &str, viewer: &TestUser) -> Vec<Value> {
    let (status, body) =
        app.get(&format!("{}?limit=100", members_path(org)), Some(&viewer.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["nextCursor"], Value::Null, "{body}");
    body["data"].as_array().expect("data").clone()
}

/// userId → role for every member of `org`.
async fn roles_of(app: &TestApp, org: &str, viewer: &TestUser) -> BTreeMap<String, String> {
    list_all(app, org, viewer)
        .await
        .iter()
        .map(|m| {
            let id = m["userId"].as_str().expect("userId").to_owned();
            let role = m["role"].as_str().expect("role").to_owned();
            (id, role)
        })
        .collect()
}

fn owner_count(roles: &BTreeMap<String, String>) -> usize {
    roles.values().filter(|r| *r == "OWNER").count()
}

/// The organization's full events, oldest first, as an OWNER or ADMIN reads them.
async fn events(app: &TestApp, org: &str, viewer: &TestUser) -> Vec<Value> {
    let (status, body) =
        app.get(&format!("/api/organizations/{org}/events?limit=100"), Some(&viewer.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut all = body["data"].as_array().expect("data").clone();
    all.reverse();
    all
}

/// One member event: its type, organization, data and actor.
fn assert_member_event(
    event: &Value,
    kind: &str,
    org: &str,
    actor: &TestUser,
    user: &TestUser,
    role: &str,
    previous_role: Option<&str>,
) {
    assert_eq!(event["event"], json!(kind), "{event}");
    assert_eq!(event["organization"]["id"], json!(org), "{event}");
    let mut data = json!({
        "userId": user.id,
        "email": user.email,
        "role": role,
        "actor": {"type": "user", "id": actor.id},
    });
    if let Some(previous) = previous_role {
        data["previousRole"] = json!(previous);
    }
    assert_eq!(event["data"], data, "{event}");
    assert_timestamp(&event["timestamp"]);
}
