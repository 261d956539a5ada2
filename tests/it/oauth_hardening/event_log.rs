//! The event log shows an OAuth token only the events its scopes read through the API, by the
//! rule that limits its webhook subscriptions; the filter runs in the query, so pages stay full.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{code_grant, webhooks_path};
use crate::common::oauth::{ALL_SCOPES, assert_insufficient_scope, org_path};
use crate::common::receiver::Receiver;
use crate::common::{Backend, RoleFixture, TestApp, assert_error};

pub const OAUTH_APP_EVENTS_UNREADABLE: &str =
    "Access denied. OAuth tokens cannot read oauth_app events.";

fn events_path(org: &str) -> String {
    format!("{}/events", org_path(org))
}

/// The event types of every entry of the log `token` reads, newest first; `filter` is a query
/// such as `?event=member.added`, whose answers fit on one page here.
async fn logged_types(app: &TestApp, org: &str, token: &str, filter: &str) -> Vec<String> {
    let entries = if filter.is_empty() {
        app.list_all(&events_path(org), token).await
    } else {
        let path = format!("{}{filter}&limit=100", events_path(org));
        let (status, body) = app.get(&path, Some(token)).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        assert_eq!(body["nextCursor"], Value::Null, "one page: {body}");
        body["data"].as_array().expect("data").clone()
    };
    entries.iter().map(|e| e["event"].as_str().expect("event").to_owned()).collect()
}

/// An organization whose log holds at least one event of every family: organization.*,
/// member.*, invite.*, oauth_app.* and webhook.*, the log-only ones included.
async fn busy_org(app: &TestApp) -> (RoleFixture, Receiver) {
    let f = app.org_with_roles().await;
    let receiver = Receiver::start().await;
    let (status, body) =
        app.patch(&org_path(&f.org), Some(&f.owner.token), json!({"name": "Acme Busy"})).await;
    assert_eq!(status, StatusCode::OK, "rename: {body}");
    app.invite(&f.org, &f.owner, "carol@example.com", "MEMBER").await;
    let (hook, _) = app.create_webhook(&f.org, &f.owner, &receiver.url, &["member.added"]).await;
    let (status, body) = app
        .post(&format!("{}/{hook}/test", webhooks_path(&f.org)), Some(&f.owner.token), json!({}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "test delivery: {body}");
    let hook_path = format!("{}/{hook}", webhooks_path(&f.org));
    let change = json!({"events": ["member.added", "member.removed"]});
    let (status, body) = app.patch(&hook_path, Some(&f.owner.token), change).await;
    assert_eq!(status, StatusCode::OK, "webhook change: {body}");
    let (status, body) =
        app.post(&format!("{hook_path}/rotate-secret"), Some(&f.owner.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "webhook rotation: {body}");
    let other = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let app_path = format!("{}/oauth-apps/{}", org_path(&f.org), other.id);
    let (status, body) = app.patch(&app_path, Some(&f.owner.token), json!({"name": "Other"})).await;
    assert_eq!(status, StatusCode::OK, "app change: {body}");
    let (status, body) =
        app.post(&format!("{app_path}/rotate-secret"), Some(&f.owner.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "app rotation: {body}");
    (f, receiver)
}

fn families(types: &[String]) -> Vec<&str> {
    let mut seen: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    seen.sort();
    seen.dedup();
    seen
}

async fn event_log_follows_the_token_scopes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (f, _receiver) = busy_org(&app).await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &ALL_SCOPES).await;
    let everything = logged_types(&app, &f.org, &f.owner.token, "").await;
    for family in [
        "member.added",
        "invite.created",
        "webhook.created",
        "webhook.test",
        "webhook.updated",
        "webhook.secret_rotated",
        "oauth_app.created",
        "oauth_app.updated",
        "oauth_app.secret_rotated",
    ] {
        assert!(everything.iter().any(|t| t == family), "{family} in the log: {everything:?}");
    }

    // organization:read alone: organization.* and nothing else, filtered or not.
    let org_only = app.client_credentials_token(&oauth, Some("organization:read")).await;
    let code_org_only = code_grant(&app, &oauth, &f.owner, Some("organization:read")).await;
    for token in [&org_only, &code_org_only.access] {
        let seen = logged_types(&app, &f.org, token, "").await;
        let expected: Vec<String> =
            everything.iter().filter(|t| t.starts_with("organization.")).cloned().collect();
        assert_eq!(seen, expected, "organization:read reads organization.* only");
        for (event, scope) in [
            ("member.added", "members:read"),
            ("member.removed", "members:read"),
            ("invite.created", "invites:read"),
            ("webhook.created", "webhooks:read"),
            ("webhook.test", "webhooks:read"),
            ("webhook.updated", "webhooks:read"),
            ("webhook.deleted", "webhooks:read"),
            ("webhook.secret_rotated", "webhooks:read"),
        ] {
            let path = format!("{}?event={event}", events_path(&f.org));
            let (status, headers, body) = app.send(Method::GET, &path, Some(token), None).await;
            assert_insufficient_scope(&format!("GET {path}"), status, &headers, &body, scope);
        }
        let renamed = logged_types(&app, &f.org, token, "?event=organization.updated").await;
        assert_eq!(renamed, ["organization.updated"]);
    }

    // Each read scope opens its own family.
    let members = app
        .client_credentials_token(&oauth, Some("organization:read members:read webhooks:read"))
        .await;
    let seen = logged_types(&app, &f.org, &members, "").await;
    assert_eq!(
        families(&seen),
        [
            "member.added",
            "organization.created",
            "organization.updated",
            "webhook.created",
            "webhook.secret_rotated",
            "webhook.test",
            "webhook.updated"
        ]
    );
    let added = logged_types(&app, &f.org, &members, "?event=member.added").await;
    assert_eq!(added.len(), 2, "the fixture's two members: {added:?}");

    // Every scope: everything but oauth_app.*, which is for people only.
    let all = app.client_credentials_token(&oauth, None).await;
    let seen = logged_types(&app, &f.org, &all, "").await;
    let expected: Vec<String> =
        everything.iter().filter(|t| !t.starts_with("oauth_app.")).cloned().collect();
    assert_eq!(seen, expected);
    for event in
        ["oauth_app.created", "oauth_app.revoked", "oauth_app.updated", "oauth_app.secret_rotated"]
    {
        let path = format!("{}?event={event}", events_path(&f.org));
        let (status, body) = app.get(&path, Some(&all)).await;
        assert_error(status, &body, StatusCode::FORBIDDEN, OAUTH_APP_EVENTS_UNREADABLE);
    }

    // People read it all, oauth_app.* included.
    assert_eq!(logged_types(&app, &f.org, &f.admin.token, "").await, everything);
    app.stop().await;
}

/// The scope filter is part of the query: a page holds `limit` readable events, and
/// `nextCursor` is null exactly when none is left.
async fn event_log_pages_stay_full_for_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["organization:read"]).await;
    let token = app.client_credentials_token(&oauth, None).await;
    // Oldest first: organization.created, two member.added, then renames between members.
    for (i, name) in ["Acme One", "Acme Two"].into_iter().enumerate() {
        for n in 0..3 {
            let user = app.register(&format!("joiner-{i}-{n}")).await;
            app.add_member(&f.org, &f.owner, &user, "MEMBER").await;
        }
        let (status, body) =
            app.patch(&org_path(&f.org), Some(&f.owner.token), json!({"name": name})).await;
        assert_eq!(status, StatusCode::OK, "rename: {body}");
        let user = app.register(&format!("late-{i}")).await;
        app.add_member(&f.org, &f.owner, &user, "MEMBER").await;
    }

    let (status, first) = app.get(&format!("{}?limit=2", events_path(&f.org)), Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let names = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|e| e["data"]["changes"]["name"]["current"].as_str().unwrap_or("-").to_owned())
            .collect()
    };
    assert_eq!(names(&first), ["Acme Two", "Acme One"], "{first}");
    let cursor = first["nextCursor"].as_str().expect("a next page");
    let (status, second) =
        app.get(&format!("{}?limit=2&cursor={cursor}", events_path(&f.org)), Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let data = second["data"].as_array().expect("data");
    assert_eq!(data.len(), 1, "{second}");
    assert_eq!(data[0]["event"], json!("organization.created"), "{second}");
    assert_eq!(second["nextCursor"], Value::Null, "{second}");
    app.stop().await;
}

on_both_backends!(event_log_follows_the_token_scopes, event_log_pages_stay_full_for_tokens);
