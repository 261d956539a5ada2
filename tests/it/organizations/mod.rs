mod create;
mod delete;
mod events;
mod input_hygiene;
mod isolation;
mod operations;
mod outsiders_take_no_locks;
mod read;
mod update;
mod write_turns;

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::common::{TestApp, TestUser};

const SLUG_RULE: &str =
    "slug must be 3-48 characters of a-z, 0-9 and -, and must not start or end with -";

/// A UUID that names no organization.
fn unknown_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn org_path(id: &str) -> String {
    format!("/api/organizations/{id}")
}

/// The slug rule of the spec, written independently of the server's.
fn is_valid_slug(s: &str) -> bool {
    (3..=48).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// An RFC 3339 timestamp in UTC with a `Z` suffix.
fn assert_utc_timestamp(value: &Value) {
    let s = value.as_str().unwrap_or_else(|| panic!("timestamp is a string: {value}"));
    assert!(s.ends_with('Z'), "timestamp ends in Z: {s}");
    chrono::DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("RFC 3339 {s}: {e}"));
}

fn keys(value: &Value) -> BTreeSet<&str> {
    value.as_object().expect("an object").keys().map(String::as_str).collect()
}

fn set<'a>(items: &[&'a str]) -> BTreeSet<&'a str> {
    items.iter().copied().collect()
}

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_owned())
        .collect()
}

/// Sends raw bytes with an optional content type; returns status, headers and body text.
async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Option<Vec<u8>>,
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let mut req = app.client.request(method, format!("{}{path}", app.base));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(ct) = content_type {
        req = req.header(reqwest::header::CONTENT_TYPE, ct);
    }
    if let Some(body) = body {
        req = req.body(body);
    }
    let res = req.send().await.expect("request sent");
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.expect("body read");
    (status, headers, text)
}

async fn events(app: &TestApp, org: &str, user: &TestUser, query: &str) -> Value {
    let (status, body) =
        app.get(&format!("{}/events{query}", org_path(org)), Some(&user.token)).await;
    assert_eq!(status, StatusCode::OK, "events{query}: {body}");
    body
}
