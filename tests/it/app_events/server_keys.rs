//! Server keys: made, listed and revoked with the real `roster keys` command against the
//! server's database; accepted only where they are documented to be, never from a browser.

use std::process::Command;

use reqwest::{Method, StatusCode};
use roster::domain::key_scope::KeyScope;
use serde_json::json;

use super::{full_key, server_key};
use crate::common::{AUTH_REQUIRED, Backend, TestApp, assert_error};

fn keys(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let url = &app.db.as_ref().expect("a database of its own").url;
    let out = Command::new(env!("CARGO_BIN_EXE_roster"))
        .arg("keys")
        .args(args)
        .env("ROSTER_DATABASE_URL", url)
        .env("ROSTER_SECRET_KEY", roster::config::SecretKey([42; 32]).to_base64())
        .env("NO_COLOR", "1")
        .output()
        .expect("roster runs");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

async fn the_cli_makes_lists_and_revokes_keys(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (ok, key, err) =
        keys(&app, &["create", "--name", "backend", "--scope", "event-types:write"]);
    assert!(ok, "{err}");
    let key = key.trim().to_owned();
    assert!(key.starts_with("rst_sk_") && !key.contains('\n'), "only the key on stdout: {key}");
    assert!(err.contains("shown only now"), "{err}");

    let (status, body) = super::put_type(&app, &key, "invoice.paid", super::invoice_schema()).await;
    assert_eq!(status, StatusCode::CREATED, "the key works at once: {body}");
    let owner = app.register("owner").await;
    let org = app.create_org(&owner, "Acme").await;
    let (status, body) =
        super::publish(&app, &org, &key, json!({"type": "invoice.paid", "data": super::invoice()}))
            .await;
    assert_error(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "Access denied. This server key lacks the events:publish scope.",
    );

    let (ok, list, err) = keys(&app, &["list"]);
    assert!(ok, "{err}");
    assert!(list.contains("backend") && list.contains("event-types:write"), "{list}");
    assert!(list.contains("active") && !list.contains(&key), "never the key itself: {list}");
    let id = list.lines().nth(1).and_then(|l| l.split_whitespace().next()).expect("an ID");

    let (ok, _, err) = keys(&app, &["revoke", id]);
    assert!(ok, "{err}");
    let (status, body) = app.get("/api/event-types", Some(&key)).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    let (ok, list, _) = keys(&app, &["list"]);
    assert!(ok && list.contains("revoked"), "{list}");
    let (ok, _, err) = keys(&app, &["revoke", id]);
    assert!(!ok && err.contains("no active server key"), "a second revoke fails: {err}");
    let (ok, _, err) = keys(&app, &["create", "--name", "x", "--scope", "webhooks:write"]);
    assert!(!ok && err.contains("events:publish, event-types:write"), "{err}");
    let (ok, _, err) = keys(&app, &["create", "--name", "  "]);
    assert!(!ok && err.contains("--name"), "{err}");
}

async fn keys_open_only_their_own_routes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = full_key(&app).await;
    let owner = app.register("owner").await;
    let org = app.create_org(&owner, "Acme").await;
    let refused =
        "Access denied. Server keys can only publish events and manage the event catalogue.";
    for (method, path) in [
        (Method::GET, "/api/users/me".to_owned()),
        (Method::GET, "/api/organizations".to_owned()),
        (Method::GET, format!("/api/organizations/{org}")),
        (Method::GET, format!("/api/organizations/{org}/events")),
        (Method::GET, format!("/api/organizations/{org}/webhooks")),
        (Method::POST, format!("/api/organizations/{org}/webhooks")),
        (Method::DELETE, format!("/api/organizations/{org}")),
    ] {
        let body = (method == Method::POST)
            .then(|| json!({"url": "https://example.com", "events": ["member.added"]}));
        let (status, answer) = app.call(method.clone(), &path, Some(&key), body).await;
        assert_error(status, &answer, StatusCode::FORBIDDEN, refused);
    }
    let (status, body) = app.get("/api/organizations", Some("rst_sk_not-a-key")).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    let (status, body) = app.get("/api/event-types", Some("rst_sk_not-a-key")).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    let reader = server_key(&app, &[KeyScope::EventsPublish]).await;
    let (status, _) = app.get("/api/event-types", Some(&reader)).await;
    assert_eq!(status, StatusCode::OK, "any key reads the catalogue");
    let (status, body) =
        super::put_type(&app, &reader, "invoice.paid", super::invoice_schema()).await;
    assert_error(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "Access denied. This server key lacks the event-types:write scope.",
    );
}

async fn browsers_cannot_use_keys(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = full_key(&app).await;
    let url = format!("{}/api/event-types", app.base);
    for (name, value) in [
        ("origin", "https://app.example"),
        ("cookie", "session=1"),
        ("sec-fetch-site", "same-origin"),
        ("sec-fetch-mode", "cors"),
    ] {
        let res = app
            .client
            .get(&url)
            .bearer_auth(&key)
            .header(name, value)
            .send()
            .await
            .expect("answer");
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{name}");
        assert!(res.headers().get("access-control-allow-origin").is_none(), "no CORS");
        let body: serde_json::Value = res.json().await.expect("json");
        assert_eq!(body["message"], "Access denied. Server keys cannot be used from a browser.");
    }
    let res = app
        .client
        .request(Method::OPTIONS, &url)
        .header("origin", "https://app.example")
        .header("access-control-request-method", "PUT")
        .send()
        .await
        .expect("answer");
    assert!(res.headers().get("access-control-allow-origin").is_none(), "no preflight passes");
}

on_both_backends!(
    the_cli_makes_lists_and_revokes_keys,
    keys_open_only_their_own_routes,
    browsers_cannot_use_keys
);
