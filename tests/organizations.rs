mod common;

use std::collections::BTreeSet;

use common::{AUTH_REQUIRED, Backend, TestApp, TestUser, assert_error, assert_validation};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const SLUG_RULE: &str =
    "slug must be 3-48 characters of a-z, 0-9 and -, and must not start or end with -";
const ORG_NOT_FOUND: &str = "Organization not found";
const UPDATE_DENIED: &str = "Access denied. Only owners and admins can update organizations.";
const DELETE_DENIED: &str = "Access denied. Only owners can delete organizations.";
const EVENTS_DENIED: &str = "Access denied. Only owners and admins can view the event log.";
const EVENT_CATALOG: &str = "organization.created, organization.updated, organization.deleted, \
     member.added, member.removed, member.role_updated, invite.created, invite.accepted, \
     invite.cancelled, oauth_app.created, oauth_app.revoked, webhook.created";

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

/// Like [`raw`], with the body parsed as JSON.
async fn raw_json(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
) -> (StatusCode, Value) {
    let (status, _, text) = raw(app, method, path, token, content_type, Some(body.to_vec())).await;
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("non-JSON body: {text}"));
    (status, body)
}

async fn events(app: &TestApp, org: &str, user: &TestUser, query: &str) -> Value {
    let (status, body) =
        app.get(&format!("{}/events{query}", org_path(org)), Some(&user.token)).await;
    assert_eq!(status, StatusCode::OK, "events{query}: {body}");
    body
}

async fn create_org_answers_201_with_derived_and_unique_slugs(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.register("owner").await;

    let (status, org) =
        app.post("/api/organizations", Some(&owner.token), json!({"name": "Acme Corp"})).await;
    assert_eq!(status, StatusCode::CREATED, "{org}");
    assert_eq!(keys(&org), set(&["id", "slug", "name", "role", "createdAt", "updatedAt"]));
    uuid::Uuid::parse_str(org["id"].as_str().expect("id")).expect("id is a UUID");
    assert_eq!(org["slug"], "acme-corp");
    assert_eq!(org["name"], "Acme Corp");
    assert_eq!(org["role"], "OWNER");
    assert_utc_timestamp(&org["createdAt"]);
    assert_utc_timestamp(&org["updatedAt"]);
    assert_eq!(org["createdAt"], org["updatedAt"]);

    // The name is trimmed and the created organization reads back identically.
    let (status, read) =
        app.get(&org_path(org["id"].as_str().expect("id")), Some(&owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read, org);

    // The same name again: a different, still valid slug.
    let (status, second) =
        app.post("/api/organizations", Some(&owner.token), json!({"name": "Acme Corp"})).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    let slug = second["slug"].as_str().expect("slug");
    assert_ne!(slug, "acme-corp");
    assert!(slug.starts_with("acme-corp-"), "{slug}");
    assert!(is_valid_slug(slug), "{slug}");
    assert_ne!(second["id"], org["id"]);

    // Names that yield too few slug characters still give a valid slug.
    for name in ["X", "日本", "  Hello,  World!! "] {
        let (status, body) =
            app.post("/api/organizations", Some(&owner.token), json!({"name": name})).await;
        assert_eq!(status, StatusCode::CREATED, "{name}: {body}");
        let slug = body["slug"].as_str().expect("slug");
        assert!(is_valid_slug(slug), "{name} → {slug}");
        assert_eq!(body["name"], name.trim());
    }

    // An explicit slug is used as given; taking it again is a conflict.
    let (status, body) = app
        .post("/api/organizations", Some(&owner.token), json!({"name": "Other", "slug": "other-1"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["slug"], "other-1");
    for taken in ["other-1", "acme-corp"] {
        let (status, body) = app
            .post("/api/organizations", Some(&owner.token), json!({"name": "Dup", "slug": taken}))
            .await;
        assert_error(status, &body, StatusCode::CONFLICT, "Organization slug already exists");
    }
    // Even another user cannot take it.
    let other = app.register("other").await;
    let (status, body) = app
        .post("/api/organizations", Some(&other.token), json!({"name": "Dup", "slug": "acme-corp"}))
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, "Organization slug already exists");

    // Boundary slugs are accepted.
    for ok in ["a1b", &"z".repeat(48)] {
        let (status, body) = app
            .post("/api/organizations", Some(&owner.token), json!({"name": "Edge", "slug": ok}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{ok}: {body}");
        assert_eq!(body["slug"], *ok);
    }
    app.stop().await;
}

async fn create_org_rejects_bad_input(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.register("owner").await;
    let token = Some(owner.token.as_str());

    for bad in ["-bad", "bad-", "ab", "Upper", "under_score", "sp ace", &"a".repeat(49)] {
        let (status, body) =
            app.post("/api/organizations", token, json!({"name": "Acme", "slug": bad})).await;
        assert_validation(status, &body, &[SLUG_RULE]);
    }
    let (status, body) = app.post("/api/organizations", token, json!({})).await;
    assert_validation(status, &body, &["name should not be empty", "name must be a string"]);
    let (status, body) = app.post("/api/organizations", token, json!({"name": null})).await;
    assert_validation(status, &body, &["name should not be empty", "name must be a string"]);
    let (status, body) = app.post("/api/organizations", token, json!({"name": "   "})).await;
    assert_validation(status, &body, &["name should not be empty"]);
    let (status, body) = app.post("/api/organizations", token, json!({"name": 42})).await;
    assert_validation(status, &body, &["name must be a string"]);
    let (status, body) =
        app.post("/api/organizations", token, json!({"name": "n".repeat(101)})).await;
    assert_validation(status, &body, &["name must be shorter than or equal to 100 characters"]);
    let (status, body) =
        app.post("/api/organizations", token, json!({"name": "Acme", "foo": 1})).await;
    assert_validation(status, &body, &["property foo should not exist"]);
    let (status, body) = app
        .post("/api/organizations", token, json!({"name": "Acme", "slug": 7, "role": "OWNER"}))
        .await;
    assert_validation(status, &body, &["property role should not exist", "slug must be a string"]);
    // Every violation at once.
    let (status, body) =
        app.post("/api/organizations", token, json!({"foo": true, "slug": "-x"})).await;
    assert_validation(
        status,
        &body,
        &[
            "property foo should not exist",
            "name should not be empty",
            "name must be a string",
            SLUG_RULE,
        ],
    );

    // Without a valid bearer token: 401, whatever the body.
    let (status, body) = app.post("/api/organizations", None, json!({"name": "Acme"})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    let (status, body) =
        app.post("/api/organizations", Some("rst_at_nope"), json!({"name": "Acme"})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    let (status, body) = app.get("/api/organizations", None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);

    // Nothing was created by any of the rejected requests.
    let (status, body) = app.get("/api/organizations", token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"data": [], "nextCursor": null}));
    app.stop().await;
}

async fn list_orgs_is_scoped_newest_first_and_paginated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let a1 = app.create_org(&alice, "Alice One").await;
    let a2 = app.create_org(&alice, "Alice Two").await;
    let a3 = app.create_org(&alice, "Alice Three").await;
    let b1 = app.create_org(&bob, "Bob One").await;
    app.add_member(&b1, &bob, &alice, "ADMIN").await;
    let b2 = app.create_org(&bob, "Bob Two").await;

    let (status, body) = app.get("/api/organizations", Some(&alice.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(keys(&body), set(&["data", "nextCursor"]));
    assert_eq!(body["nextCursor"], Value::Null);
    assert_eq!(ids(&body), vec![b1.clone(), a3.clone(), a2.clone(), a1.clone()]);
    let roles: Vec<&str> = body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|o| o["role"].as_str().expect("role"))
        .collect();
    assert_eq!(roles, vec!["ADMIN", "OWNER", "OWNER", "OWNER"]);
    for org in body["data"].as_array().expect("data") {
        assert_eq!(keys(org), set(&["id", "slug", "name", "role", "createdAt", "updatedAt"]));
    }
    assert_eq!(body["data"][0]["name"], "Bob One");
    assert_eq!(body["data"][0]["slug"], "bob-one");

    let (status, body) = app.get("/api/organizations", Some(&bob.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ids(&body), vec![b2.clone(), b1.clone()]);

    let (status, body) = app.get("/api/organizations", Some(&carol.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"data": [], "nextCursor": null}));

    // Pages of two.
    let (status, page1) = app.get("/api/organizations?limit=2", Some(&alice.token)).await;
    assert_eq!(status, StatusCode::OK, "{page1}");
    assert_eq!(ids(&page1), vec![b1.clone(), a3.clone()]);
    let cursor = page1["nextCursor"].as_str().expect("a next cursor").to_owned();
    let (status, page2) =
        app.get(&format!("/api/organizations?limit=2&cursor={cursor}"), Some(&alice.token)).await;
    assert_eq!(status, StatusCode::OK, "{page2}");
    assert_eq!(ids(&page2), vec![a2.clone(), a1.clone()]);
    assert_eq!(page2["nextCursor"], Value::Null);
    // Pages of three: the last page is short.
    let (_, page1) = app.get("/api/organizations?limit=3", Some(&alice.token)).await;
    assert_eq!(ids(&page1), vec![b1.clone(), a3.clone(), a2.clone()]);
    let cursor = page1["nextCursor"].as_str().expect("a next cursor").to_owned();
    let (_, page2) =
        app.get(&format!("/api/organizations?limit=3&cursor={cursor}"), Some(&alice.token)).await;
    assert_eq!(ids(&page2), vec![a1.clone()]);
    assert_eq!(page2["nextCursor"], Value::Null);

    // Bad paging parameters.
    for (query, message) in [
        ("limit=0", "limit must not be less than 1"),
        ("limit=101", "limit must not be greater than 100"),
        ("limit=abc", "limit must be an integer number"),
        ("cursor=!!!", "cursor must be a cursor returned by a previous page"),
        ("cursor=bm90LWEtdXVpZA", "cursor must be a cursor returned by a previous page"),
    ] {
        let (status, body) =
            app.get(&format!("/api/organizations?{query}"), Some(&alice.token)).await;
        assert_validation(status, &body, &[message]);
    }
    let (status, body) = app.get("/api/organizations?limit=100", Some(&alice.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ids(&body).len(), 4);
    app.stop().await;
}

async fn get_org_is_for_members_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    for (user, role) in [(&f.owner, "OWNER"), (&f.admin, "ADMIN"), (&f.member, "MEMBER")] {
        let (status, body) = app.get(&org_path(&f.org), Some(&user.token)).await;
        assert_eq!(status, StatusCode::OK, "{role}: {body}");
        assert_eq!(keys(&body), set(&["id", "slug", "name", "role", "createdAt", "updatedAt"]));
        assert_eq!(body["id"], f.org.as_str());
        assert_eq!(body["slug"], "acme-corp");
        assert_eq!(body["name"], "Acme Corp");
        assert_eq!(body["role"], role);
    }
    let (status, outsider) = app.get(&org_path(&f.org), Some(&f.outsider.token)).await;
    assert_error(status, &outsider, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, missing) = app.get(&org_path(&unknown_id()), Some(&f.outsider.token)).await;
    assert_error(status, &missing, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    assert_eq!(outsider, missing, "no existence oracle");

    for bad in ["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g"] {
        let (status, body) = app.get(&org_path(bad), Some(&f.owner.token)).await;
        assert_error(
            status,
            &body,
            StatusCode::BAD_REQUEST,
            "Validation failed (uuid is expected)",
        );
    }
    let (status, body) = app.get(&org_path(&f.org), None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    app.stop().await;
}

async fn patch_org_checks_roles_and_records_changes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let path = org_path(&f.org);
    let (_, before) = app.get(&path, Some(&f.owner.token)).await;

    // The owner renames it.
    let (status, body) = app.patch(&path, Some(&f.owner.token), json!({"name": "Acme Inc"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(keys(&body), set(&["id", "slug", "name", "role", "createdAt", "updatedAt"]));
    assert_eq!(body["name"], "Acme Inc");
    assert_eq!(body["slug"], "acme-corp");
    assert_eq!(body["role"], "OWNER");
    assert_eq!(body["createdAt"], before["createdAt"]);
    assert_utc_timestamp(&body["updatedAt"]);
    assert!(body["updatedAt"].as_str() >= before["updatedAt"].as_str());

    let log = events(&app, &f.org, &f.owner, "?limit=1").await;
    let latest = &log["data"][0];
    assert_eq!(latest["event"], "organization.updated");
    assert_eq!(
        latest["organization"],
        json!({"id": f.org, "slug": "acme-corp", "name": "Acme Inc"})
    );
    assert_eq!(
        latest["data"],
        json!({
            "changes": {"name": {"previous": "Acme Corp", "current": "Acme Inc"}},
            "actor": {"type": "user", "id": f.owner.id},
        })
    );

    // The admin changes both fields at once.
    let (status, body) = app
        .patch(&path, Some(&f.admin.token), json!({"name": "Acme Ltd", "slug": "acme-ltd"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (&body["name"], &body["slug"], &body["role"]),
        (&json!("Acme Ltd"), &json!("acme-ltd"), &json!("ADMIN"))
    );
    let log = events(&app, &f.org, &f.owner, "?limit=1").await;
    let latest = &log["data"][0];
    assert_eq!(latest["event"], "organization.updated");
    assert_eq!(
        latest["organization"],
        json!({"id": f.org, "slug": "acme-ltd", "name": "Acme Ltd"})
    );
    assert_eq!(
        latest["data"],
        json!({
            "changes": {
                "name": {"previous": "Acme Inc", "current": "Acme Ltd"},
                "slug": {"previous": "acme-corp", "current": "acme-ltd"},
            },
            "actor": {"type": "user", "id": f.admin.id},
        })
    );
    // The old slug is free again.
    let (status, body) =
        app.post("/api/organizations", Some(&f.outsider.token), json!({"name": "Acme Corp"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["slug"], "acme-corp");

    // A PATCH that changes nothing answers 200 and emits no event.
    let types_before = app.event_types(&f.org, &f.owner).await;
    for unchanged in
        [json!({}), json!({"name": "Acme Ltd"}), json!({"slug": "acme-ltd", "name": " Acme Ltd "})]
    {
        let (status, body) = app.patch(&path, Some(&f.owner.token), unchanged.clone()).await;
        assert_eq!(status, StatusCode::OK, "{unchanged}: {body}");
        assert_eq!((&body["name"], &body["slug"]), (&json!("Acme Ltd"), &json!("acme-ltd")));
    }
    assert_eq!(app.event_types(&f.org, &f.owner).await, types_before);

    // A MEMBER may not; an outsider and a missing organization get the same 404.
    let (status, body) = app.patch(&path, Some(&f.member.token), json!({"name": "Mine"})).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, UPDATE_DENIED);
    let (status, body) = app.patch(&path, Some(&f.outsider.token), json!({"name": "Mine"})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) =
        app.patch(&org_path(&unknown_id()), Some(&f.owner.token), json!({"name": "Mine"})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.patch(&org_path("nope"), Some(&f.owner.token), json!({})).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "Validation failed (uuid is expected)");
    let (status, body) = app.patch(&path, None, json!({"name": "Mine"})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);

    // Slug conflicts with another organization.
    let (status, body) = app.patch(&path, Some(&f.owner.token), json!({"slug": "acme-corp"})).await;
    assert_error(status, &body, StatusCode::CONFLICT, "Organization slug already exists");

    // Invalid bodies.
    let (status, body) =
        app.patch(&path, Some(&f.owner.token), json!({"name": "", "slug": "-x", "foo": 1})).await;
    assert_validation(
        status,
        &body,
        &["property foo should not exist", "name should not be empty", SLUG_RULE],
    );
    let (status, body) = app.patch(&path, Some(&f.owner.token), json!({"name": 1})).await;
    assert_validation(status, &body, &["name must be a string"]);

    // None of the refused requests changed anything or logged anything.
    let (_, now) = app.get(&path, Some(&f.member.token)).await;
    assert_eq!((&now["name"], &now["slug"]), (&json!("Acme Ltd"), &json!("acme-ltd")));
    assert_eq!(app.event_types(&f.org, &f.owner).await, types_before);
    app.stop().await;
}

async fn delete_org_is_for_owners_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let path = org_path(&f.org);

    let (status, body) = app.delete(&path, Some(&f.admin.token)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, DELETE_DENIED);
    let (status, body) = app.delete(&path, Some(&f.member.token)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, DELETE_DENIED);
    let (status, body) = app.delete(&path, Some(&f.outsider.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.delete(&org_path(&unknown_id()), Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.delete(&org_path("x"), Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "Validation failed (uuid is expected)");
    let (status, body) = app.delete(&path, None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    // Still there after every refusal.
    let (status, _) = app.get(&path, Some(&f.member.token)).await;
    assert_eq!(status, StatusCode::OK);

    let other = app.create_org(&f.owner, "Keep Me").await;
    let (status, _, text) =
        raw(&app, Method::DELETE, &path, Some(&f.owner.token), None, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(text, "", "204 has no body");

    for user in [&f.owner, &f.admin, &f.member, &f.outsider] {
        let (status, body) = app.get(&path, Some(&user.token)).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
        let (status, body) = app.get(&format!("{path}/events"), Some(&user.token)).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
        let (status, body) = app.get(&format!("{path}/members"), Some(&user.token)).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    }
    let (status, body) = app.patch(&path, Some(&f.owner.token), json!({"name": "Back"})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.delete(&path, Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);

    // It is gone from the lists; the owner's other organization is untouched.
    let (_, list) = app.get("/api/organizations", Some(&f.owner.token)).await;
    assert_eq!(ids(&list), vec![other.clone()]);
    for user in [&f.admin, &f.member] {
        let (_, list) = app.get("/api/organizations", Some(&user.token)).await;
        assert_eq!(list, json!({"data": [], "nextCursor": null}));
    }
    // Its slug can be used again.
    let (status, body) = app
        .post(
            "/api/organizations",
            Some(&f.admin.token),
            json!({"name": "New", "slug": "acme-corp"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    app.stop().await;
}

async fn event_log_access_shape_filter_and_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let path = format!("{}/events", org_path(&f.org));

    for user in [&f.owner, &f.admin] {
        let (status, body) = app.get(&path, Some(&user.token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(keys(&body), set(&["data", "nextCursor"]));
    }
    let (status, body) = app.get(&path, Some(&f.member.token)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, EVENTS_DENIED);
    let (status, body) = app.get(&path, Some(&f.outsider.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) =
        app.get(&format!("{}/events", org_path(&unknown_id())), Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.get("/api/organizations/abc/events", Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "Validation failed (uuid is expected)");
    let (status, body) = app.get(&path, None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);

    assert_eq!(
        app.event_types(&f.org, &f.owner).await,
        vec!["organization.created", "member.added", "member.added"]
    );
    let log = events(&app, &f.org, &f.owner, "").await;
    assert_eq!(log["nextCursor"], Value::Null);
    let entries = log["data"].as_array().expect("data");
    assert_eq!(entries.len(), 3);
    let org_ref = json!({"id": f.org, "slug": "acme-corp", "name": "Acme Corp"});
    let owner_actor = json!({"type": "user", "id": f.owner.id});
    for entry in entries {
        assert_eq!(keys(entry), set(&["id", "event", "organization", "data", "timestamp"]));
        uuid::Uuid::parse_str(entry["id"].as_str().expect("id")).expect("event id is a UUID");
        assert_eq!(entry["organization"], org_ref);
        assert_eq!(entry["data"]["actor"], owner_actor);
        assert_utc_timestamp(&entry["timestamp"]);
    }
    // Newest first: the member, the admin, then the creation.
    assert_eq!(
        entries[0]["data"],
        json!({"userId": f.member.id, "email": f.member.email, "role": "MEMBER", "actor": owner_actor})
    );
    assert_eq!(
        entries[1]["data"],
        json!({"userId": f.admin.id, "email": f.admin.email, "role": "ADMIN", "actor": owner_actor})
    );
    let created = &entries[2];
    assert_eq!(created["event"], "organization.created");
    assert_eq!(created["data"], json!({"actor": owner_actor}));
    assert!(created["timestamp"].as_str() <= entries[0]["timestamp"].as_str());

    // Filtering by type.
    let added = events(&app, &f.org, &f.admin, "?event=member.added").await;
    assert_eq!(ids(&added), vec![ids(&log)[0].clone(), ids(&log)[1].clone()]);
    assert_eq!(added["nextCursor"], Value::Null);
    let created_only = events(&app, &f.org, &f.owner, "?event=organization.created").await;
    assert_eq!(created_only["data"], json!([created]));
    let none = events(&app, &f.org, &f.owner, "?event=webhook.created").await;
    assert_eq!(none, json!({"data": [], "nextCursor": null}));
    let message =
        format!("event must be one of the following values: {EVENT_CATALOG}, webhook.test");
    for bad in ["nope", "", "webhook.testing", "MEMBER.ADDED"] {
        let (status, body) = app.get(&format!("{path}?event={bad}"), Some(&f.owner.token)).await;
        assert_validation(status, &body, &[message.as_str()]);
    }

    // Pages.
    let page1 = events(&app, &f.org, &f.owner, "?limit=2").await;
    assert_eq!(ids(&page1), ids(&log)[..2].to_vec());
    let cursor = page1["nextCursor"].as_str().expect("next cursor").to_owned();
    let page2 = events(&app, &f.org, &f.owner, &format!("?limit=2&cursor={cursor}")).await;
    assert_eq!(ids(&page2), ids(&log)[2..].to_vec());
    assert_eq!(page2["nextCursor"], Value::Null);
    // Pages of a filtered log.
    let page1 = events(&app, &f.org, &f.owner, "?event=member.added&limit=1").await;
    assert_eq!(ids(&page1), ids(&log)[..1].to_vec());
    let cursor = page1["nextCursor"].as_str().expect("next cursor").to_owned();
    let page2 =
        events(&app, &f.org, &f.owner, &format!("?event=member.added&limit=1&cursor={cursor}"))
            .await;
    assert_eq!(ids(&page2), ids(&log)[1..2].to_vec());
    assert_eq!(page2["nextCursor"], Value::Null);
    for (query, message) in [
        ("limit=0", "limit must not be less than 1"),
        ("limit=1000", "limit must not be greater than 100"),
        ("cursor=Zm9v", "cursor must be a cursor returned by a previous page"),
    ] {
        let (status, body) = app.get(&format!("{path}?{query}"), Some(&f.owner.token)).await;
        assert_validation(status, &body, &[message]);
    }

    // A rename shows up in later entries only; earlier ones keep the name they had.
    let (status, _) =
        app.patch(&org_path(&f.org), Some(&f.owner.token), json!({"slug": "acme-two"})).await;
    assert_eq!(status, StatusCode::OK);
    let log = events(&app, &f.org, &f.owner, "").await;
    assert_eq!(log["data"][0]["organization"]["slug"], "acme-two");
    assert_eq!(log["data"][3]["organization"]["slug"], "acme-corp");
    assert_eq!(log["data"][3]["event"], "organization.created");
    app.stop().await;
}

async fn input_hygiene_across_routes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let token = Some(f.owner.token.as_str());
    let json_ct = Some("application/json");
    let org = org_path(&f.org);

    // Routes that take a JSON body.
    let bodied: Vec<(Method, String)> = vec![
        (Method::POST, "/api/organizations".into()),
        (Method::PATCH, org.clone()),
        (Method::POST, format!("{org}/members")),
        (Method::PATCH, format!("{org}/members/{}", f.member.id)),
        (Method::POST, "/api/users/me/tokens".into()),
    ];
    for (method, path) in &bodied {
        let (status, body) =
            raw_json(&app, method.clone(), path, token, json_ct, b"{\"name\": ").await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "Request body must be valid JSON");
        let (status, body) = raw_json(&app, method.clone(), path, token, json_ct, b"name=x").await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "Request body must be valid JSON");
        for not_object in [&b"[1, 2]"[..], b"\"text\"", b"42", b"null"] {
            let (status, body) =
                raw_json(&app, method.clone(), path, token, json_ct, not_object).await;
            assert_error(
                status,
                &body,
                StatusCode::BAD_REQUEST,
                "Request body must be a JSON object",
            );
        }
        let (status, body) =
            raw_json(&app, method.clone(), path, token, Some("text/plain"), b"{\"name\":\"x\"}")
                .await;
        assert_error(
            status,
            &body,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json",
        );
        let (status, body) = raw_json(
            &app,
            method.clone(),
            path,
            token,
            Some("application/x-www-form-urlencoded"),
            b"name=x",
        )
        .await;
        assert_error(
            status,
            &body,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json",
        );
    }
    // Register takes no token but the same body rules.
    let (status, body) =
        raw_json(&app, Method::POST, "/api/auth/register", None, json_ct, b"{oops}").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "Request body must be valid JSON");

    // A charset parameter and a +json type are still JSON.
    let (status, body) = raw_json(
        &app,
        Method::POST,
        "/api/organizations",
        token,
        Some("application/json; charset=utf-8"),
        br#"{"name": "Charset Co"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Bodies over 1 MiB.
    let mut big = br#"{"name": ""#.to_vec();
    big.extend(std::iter::repeat_n(b'a', 1024 * 1024));
    big.extend(br#""}"#);
    for (method, path) in
        [(Method::POST, "/api/organizations".to_owned()), (Method::PATCH, org.clone())]
    {
        let (status, body) = raw_json(&app, method, &path, token, json_ct, &big).await;
        assert_error(
            status,
            &body,
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request body must not exceed 1 MiB",
        );
    }
    // Just under the limit is read, and then refused by validation, not by size.
    let mut near = br#"{"name": ""#.to_vec();
    near.extend(std::iter::repeat_n(b'a', 1024 * 1024 - 20));
    near.extend(br#""}"#);
    let (status, body) =
        raw_json(&app, Method::POST, "/api/organizations", token, json_ct, &near).await;
    assert_validation(status, &body, &["name must be shorter than or equal to 100 characters"]);

    // Unknown routes and wrong methods.
    for (method, path) in [
        (Method::GET, "/api/nope"),
        (Method::POST, "/api/nope"),
        (Method::GET, "/nope"),
        (Method::GET, "/api/organizations/x/y/z/w"),
    ] {
        let (status, body) = raw_json(&app, method.clone(), path, token, None, b"").await;
        assert_eq!(
            (status, body),
            (
                StatusCode::NOT_FOUND,
                json!({"statusCode": 404, "message": format!("Cannot {method} {path}")})
            )
        );
    }
    for (method, path) in [
        (Method::PUT, "/api/organizations".to_owned()),
        (Method::DELETE, "/api/organizations".to_owned()),
        (Method::POST, org.clone()),
        (Method::PUT, format!("{org}/events")),
        (Method::DELETE, "/api/health".to_owned()),
    ] {
        let (status, body) = raw_json(&app, method.clone(), &path, token, None, b"").await;
        assert_eq!(
            (status, body),
            (
                StatusCode::METHOD_NOT_ALLOWED,
                json!({"statusCode": 405, "message": format!("Cannot {method} {path}")})
            )
        );
    }

    // Odd but well-formed input is a 4xx or a success, never a 5xx.
    // PostgreSQL cannot store NUL in text: both backends refuse it up front.
    let (status, body) =
        app.post("/api/organizations", token, json!({"name": "nul\u{0}byte"})).await;
    assert_validation(status, &body, &["name must not contain null characters"]);
    let (status, body) = app.patch(&org, token, json!({"name": "a\u{0}"})).await;
    assert_validation(status, &body, &["name must not contain null characters"]);
    let (status, body) = app
        .post(
            "/api/auth/register",
            None,
            json!({"email": "nul@example.com", "password": "correct horse battery", "name": "a\u{0}b"}),
        )
        .await;
    assert_validation(status, &body, &["name must not contain null characters"]);
    let odd_names =
        ["emoji 🚀 org", "'; DROP TABLE organizations; --", "\u{202e}rtl", "tab\tand\nnewline"];
    for name in odd_names {
        let (status, body) = app.post("/api/organizations", token, json!({"name": name})).await;
        assert!(
            status == StatusCode::CREATED || status == StatusCode::BAD_REQUEST,
            "{name:?}: {status} {body}"
        );
        if status == StatusCode::CREATED {
            let (status, read) = app.get(&org_path(body["id"].as_str().expect("id")), token).await;
            assert_eq!(status, StatusCode::OK, "{read}");
            assert_eq!(read["name"], name.trim());
            assert!(is_valid_slug(read["slug"].as_str().expect("slug")), "{read}");
        }
    }
    let (status, body) =
        app.post("/api/organizations", token, json!({"name": "S", "slug": "nul\u{0}slug"})).await;
    assert_validation(status, &body, &["slug must not contain null characters"]);
    for slug in ["ünïcode", "a--b-", "UPPER-case"] {
        let (status, body) =
            app.post("/api/organizations", token, json!({"name": "S", "slug": slug})).await;
        assert_validation(status, &body, &[SLUG_RULE]);
    }
    let long_query = format!("/api/organizations?cursor={}", "A".repeat(4000));
    let (status, body) = app.get(&long_query, token).await;
    assert_validation(status, &body, &["cursor must be a cursor returned by a previous page"]);
    // Deeply nested JSON is refused cleanly.
    let deep = format!("{{\"name\": {}1{}}}", "[".repeat(10_000), "]".repeat(10_000));
    let (status, body) =
        raw_json(&app, Method::POST, "/api/organizations", token, json_ct, deep.as_bytes()).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "Request body must be valid JSON");

    // The server is still healthy after all of it.
    let (status, _) = app.get("/api/ready", None).await;
    assert_eq!(status, StatusCode::OK);
    app.stop().await;
}

async fn tenants_are_isolated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let bobs_friend = app.register("friend").await;
    let org_a = app.create_org(&alice, "Alpha").await;
    let org_b = app.create_org(&bob, "Bravo").await;
    app.add_member(&org_b, &bob, &bobs_friend, "MEMBER").await;
    let b = org_path(&org_b);
    let token = Some(alice.token.as_str());
    let (_, b_before) = app.get(&b, Some(&bob.token)).await;
    let b_events_before = app.event_types(&org_b, &bob).await;

    let attempts: Vec<(StatusCode, Value)> = vec![
        app.get(&b, token).await,
        app.patch(&b, token, json!({"name": "Pwned"})).await,
        app.delete(&b, token).await,
        app.get(&format!("{b}/events"), token).await,
        app.get(&format!("{b}/members"), token).await,
        app.post(&format!("{b}/members"), token, json!({"email": alice.email, "role": "OWNER"}))
            .await,
        app.patch(&format!("{b}/members/{}", bobs_friend.id), token, json!({"role": "ADMIN"}))
            .await,
        app.delete(&format!("{b}/members/{}", bobs_friend.id), token).await,
        app.delete(&format!("{b}/members/{}", bob.id), token).await,
    ];
    for (status, body) in &attempts {
        assert_error(*status, body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    }
    // Her own organization is fine, and the answers for B equal those for a missing ID.
    let (status, _) = app.get(&org_path(&org_a), token).await;
    assert_eq!(status, StatusCode::OK);
    let (_, missing) = app.get(&org_path(&unknown_id()), token).await;
    assert_eq!(attempts[0].1, missing);

    // Nothing about B changed.
    let (_, b_after) = app.get(&b, Some(&bob.token)).await;
    assert_eq!(b_after, b_before);
    assert_eq!(app.event_types(&org_b, &bob).await, b_events_before);
    let (_, members) = app.get(&format!("{b}/members"), Some(&bob.token)).await;
    assert_eq!(members["data"].as_array().expect("data").len(), 2);
    let (_, list) = app.get("/api/organizations", token).await;
    assert_eq!(ids(&list), vec![org_a.clone()]);
    // And B's owner sees nothing of A.
    let (status, body) = app.get(&format!("{}/events", org_path(&org_a)), Some(&bob.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    app.stop().await;
}

async fn operations_endpoints(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app.get("/api/health", None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));
    let (status, body) = app.get("/api/ready", None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));

    // Metrics label requests by route template, not by raw path.
    let owner = app.register("owner").await;
    let org = app.create_org(&owner, "Metered").await;
    let (status, _) = app.get(&org_path(&org), Some(&owner.token)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.get("/api/no-such-route", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, headers, text) = raw(&app, Method::GET, "/metrics", None, None, None).await;
    assert_eq!(status, StatusCode::OK);
    let content_type = headers[reqwest::header::CONTENT_TYPE].to_str().expect("content type");
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    assert!(text.contains("# TYPE roster_http_requests_total counter"), "{text}");
    let line = text
        .lines()
        .find(|l| {
            l.starts_with("roster_http_requests_total{")
                && l.contains(r#"route="/api/organizations/{id}""#)
                && l.contains(r#"method="GET""#)
                && l.contains(r#"status="200""#)
        })
        .unwrap_or_else(|| panic!("a GET /api/organizations/{{id}} 200 line: {text}"));
    assert!(line.ends_with(" 1"), "{line}");
    assert!(
        text.lines().any(|l| l.starts_with("roster_http_requests_total{")
            && l.contains(r#"route="/api/organizations""#)
            && l.contains(r#"method="POST""#)
            && l.contains(r#"status="201""#)),
        "{text}"
    );
    assert!(!text.contains(&org), "no raw IDs in labels");
    assert!(!text.contains("no-such-route"), "no raw unmatched paths in labels");
    assert!(text.contains("roster_http_request_duration_seconds_bucket"), "{text}");

    // The OpenAPI document.
    let (status, doc) = app.get("/api/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    let version = doc["openapi"].as_str().expect("openapi version");
    assert!(version.starts_with("3.1"), "{version}");
    let paths = doc["paths"].as_object().expect("paths");
    let expected: &[(&str, &[&str])] = &[
        ("/api/health", &["get"]),
        ("/api/ready", &["get"]),
        ("/api/auth/register", &["post"]),
        ("/api/auth/login", &["post"]),
        ("/api/users/me", &["get"]),
        ("/api/users/me/tokens", &["get", "post"]),
        ("/api/users/me/tokens/{tokenId}", &["delete"]),
        ("/api/organizations", &["get", "post"]),
        ("/api/organizations/{id}", &["delete", "get", "patch"]),
        ("/api/organizations/{id}/events", &["get"]),
        ("/api/organizations/{id}/members", &["get", "post"]),
        ("/api/organizations/{id}/members/{userId}", &["delete", "patch"]),
        ("/api/organizations/{id}/oauth-apps", &["get", "post"]),
        ("/api/oauth/authorize", &["get", "post"]),
        ("/api/oauth/token", &["post"]),
        ("/api/oauth/revoke", &["post"]),
        ("/api/oauth/introspect", &["post"]),
        ("/.well-known/oauth-authorization-server", &["get"]),
    ];
    for (path, methods) in expected {
        let item = paths.get(*path).unwrap_or_else(|| panic!("{path} is documented"));
        let documented: BTreeSet<&str> =
            item.as_object().expect("path item").keys().map(String::as_str).collect();
        for method in *methods {
            assert!(documented.contains(method), "{method} {path}: {documented:?}");
        }
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object(), "bearer scheme");
    // The OAuth2 scheme lists every scope, and each organization route names the one it needs.
    let oauth2 = &doc["components"]["securitySchemes"]["oauth2"];
    let scopes = oauth2["flows"]["clientCredentials"]["scopes"].as_object().expect("scopes");
    assert_eq!(scopes.len(), 8, "{oauth2}");
    assert!(oauth2["flows"]["authorizationCode"]["authorizationUrl"].is_string(), "{oauth2}");
    assert_eq!(
        paths["/api/organizations/{id}/members"]["post"]["security"],
        json!([{"bearer": []}, {"oauth2": ["members:write"]}])
    );
    assert_eq!(paths["/api/users/me"]["get"]["security"], json!([{"bearer": []}]));
    // Every documented operation is served: none answers the router's 404 or 405 fallback.
    for (path, item) in paths {
        let concrete = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { unknown_id() } else { seg.to_owned() })
            .collect::<Vec<_>>()
            .join("/");
        for method in item.as_object().expect("path item").keys() {
            let Ok(method) = Method::from_bytes(method.to_ascii_uppercase().as_bytes()) else {
                continue;
            };
            if !["GET", "POST", "PATCH", "PUT", "DELETE"].contains(&method.as_str()) {
                continue;
            }
            let body = (method != Method::GET && method != Method::DELETE).then(|| b"{}".to_vec());
            let ct = body.as_ref().map(|_| "application/json");
            let (status, _, text) = raw(&app, method.clone(), &concrete, None, ct, body).await;
            assert!(
                !(status == StatusCode::METHOD_NOT_ALLOWED
                    || (status == StatusCode::NOT_FOUND && text.contains("Cannot "))),
                "{method} {path} is documented but not served: {status} {text}"
            );
            assert!(!status.is_server_error(), "{method} {path}: {status} {text}");
        }
    }

    // The docs page, with its assets served by the binary.
    let (status, headers, html) = raw(&app, Method::GET, "/api/docs/", None, None, None).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let content_type = headers[reqwest::header::CONTENT_TYPE].to_str().expect("content type");
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(!html.contains("http://") && !html.contains("https://"), "no CDN URLs: {html}");
    let mut assets = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for part in html.split(attr).skip(1) {
            let url = part.split('"').next().expect("attribute value");
            assets.push(url.to_owned());
        }
    }
    assert!(assets.iter().any(|a| a.ends_with(".js")), "scripts: {assets:?}");
    assert!(assets.iter().any(|a| a.ends_with(".css")), "styles: {assets:?}");
    for asset in &assets {
        assert!(!asset.starts_with("//"), "protocol-relative URL {asset}");
        let path = match asset.strip_prefix("./") {
            Some(rest) => format!("/api/docs/{rest}"),
            None if asset.starts_with('/') => asset.clone(),
            None => format!("/api/docs/{asset}"),
        };
        let (status, _, text) = raw(&app, Method::GET, &path, None, None, None).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(!text.is_empty(), "{path} is empty");
    }
    // The page is found at the address without the trailing slash too.
    let (status, _, _) = raw(&app, Method::GET, "/api/docs", None, None, None).await;
    assert_eq!(status, StatusCode::OK);
    app.stop().await;
}

/// Organizations created with one name at the same moment all get their own derived slug.
async fn concurrent_creates_with_one_name_all_succeed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.register("owner").await;
    let creates = (0..12)
        .map(|_| app.post("/api/organizations", Some(&owner.token), json!({"name": "Iota X"})));
    let answers = futures::future::join_all(creates).await;
    let slugs: BTreeSet<String> = answers
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, StatusCode::CREATED, "{body}");
            body["slug"].as_str().expect("slug").to_owned()
        })
        .collect();
    assert_eq!(slugs.len(), 12, "{slugs:?}");
    assert!(slugs.contains("iota-x"));
    app.stop().await;
}

on_both_backends!(
    create_org_answers_201_with_derived_and_unique_slugs,
    create_org_rejects_bad_input,
    list_orgs_is_scoped_newest_first_and_paginated,
    get_org_is_for_members_only,
    patch_org_checks_roles_and_records_changes,
    delete_org_is_for_owners_only,
    event_log_access_shape_filter_and_pages,
    input_hygiene_across_routes,
    tenants_are_isolated,
    operations_endpoints,
    concurrent_creates_with_one_name_all_succeed,
);
