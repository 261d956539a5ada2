//! Custom headers: sent with every delivery, refused where they would replace Roster's own,
//! stored sealed and never shown again; and who may set them.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{WAIT, hook_path, hooks_path, view};
use crate::common::messages::{ORG_NOT_FOUND, denied};
use crate::common::oauth::{ALL_SCOPES, lacks};
use crate::common::receiver::Receiver;
use crate::common::{Backend, TestApp, assert_error, assert_validation};

async fn custom_headers_are_sent_and_never_shown(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let receiver = Receiver::start().await;
    let f = app.org_with_roles().await;
    let headers = json!({"Authorization": "Bearer s3cret-token", "X-Tenant": "tenant-one"});
    let (status, created) = app
        .post(
            &hooks_path(&f.org),
            Some(&f.admin.token),
            json!({"url": receiver.url, "events": ["member.removed"], "headers": headers}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let hook = created["id"].as_str().expect("id").to_owned();
    let read = view(&app, &f.org, &hook, &f.owner).await;
    assert_eq!(read["headerNames"], json!(["Authorization", "X-Tenant"]), "{read}");

    app.remove_member(&f.org, &f.owner, &f.member).await;
    let got = receiver.wait_for(1, WAIT).await;
    assert_eq!(got[0].header("authorization"), "Bearer s3cret-token");
    assert_eq!(got[0].header("x-tenant"), "tenant-one");
    assert_eq!(got[0].header("content-type"), "application/json");

    // Replaced as a whole; the change names headers, never values.
    let path = hook_path(&f.org, &hook);
    let (status, body) = app
        .patch(&path, Some(&f.owner.token), json!({"headers": {"X-Tenant": "tenant-two"}}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["headerNames"], json!(["X-Tenant"]), "{body}");
    let temp = app.register("temp").await;
    app.add_member(&f.org, &f.owner, &temp, "MEMBER").await;
    app.remove_member(&f.org, &f.owner, &temp).await;
    let got = receiver.wait_for(2, WAIT).await;
    assert_eq!(got[1].header("x-tenant"), "tenant-two");
    assert_eq!(got[1].header("authorization"), "");

    // A new url takes the headers again, or none: their values may be the receiver's token.
    let elsewhere = json!({"url": "https://elsewhere.example/hook"});
    let (status, body) = app.patch(&path, Some(&f.owner.token), elsewhere).await;
    assert_validation(
        status,
        &body,
        &["headers must be given again with a new url: their values go only where they were set"],
    );
    let same = json!({"url": receiver.url});
    let (status, body) = app.patch(&path, Some(&f.owner.token), same).await;
    assert_eq!(status, StatusCode::OK, "the same url keeps them: {body}");
    assert_eq!(body["headerNames"], json!(["X-Tenant"]), "{body}");

    let (status, body) = app.patch(&path, Some(&f.owner.token), json!({"headers": null})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["headerNames"], json!([]), "{body}");

    // Neither the log nor any read holds a value.
    let events = app.events(&f.org, &f.owner).await;
    let updated: Vec<&Value> = events.iter().filter(|e| e["event"] == "webhook.updated").collect();
    assert_eq!(
        updated.last().map(|e| &e["data"]["changes"]["headerNames"]),
        Some(&json!({"previous": ["Authorization", "X-Tenant"], "current": ["X-Tenant"]}))
    );
    let everything = format!("{events:?}{read}{created}");
    for secret in ["s3cret-token", "tenant-one", "tenant-two"] {
        assert!(!everything.contains(secret), "{secret} leaked");
    }
    app.stop().await;
}

async fn reserved_and_malformed_headers_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let url = "https://hooks.example.com/in";
    let too_many: serde_json::Map<String, Value> =
        (0..21).map(|i| (format!("X-H{i}"), json!("v"))).collect();
    let cases: Vec<(Value, Vec<String>)> = vec![
        (json!({"X-Webhook-Signature": "x"}), vec![reserved("X-Webhook-Signature")]),
        (json!({"webhook-id": "1"}), vec![reserved("webhook-id")]),
        (json!({"content-type": "text/plain"}), vec![reserved("content-type")]),
        (json!({"User-Agent": "me"}), vec![reserved("User-Agent")]),
        (json!({"Host": "a.example"}), vec![reserved("Host")]),
        (json!({"Transfer-Encoding": "chunked"}), vec![reserved("Transfer-Encoding")]),
        (json!({"Content-Length": "1"}), vec![reserved("Content-Length")]),
        (json!({"Connection": "close"}), vec![reserved("Connection")]),
        (
            json!({"bad name": "x"}),
            vec!["header name \"bad name\" must be an HTTP token of at most 64 characters".into()],
        ),
        (json!({"X-Ok": "caf\u{e9}"}), vec![bad_value("X-Ok")]),
        (json!({"X-Ok": "a\nb"}), vec![bad_value("X-Ok")]),
        (json!({"X-Ok": 5}), vec![bad_value("X-Ok")]),
        (json!({"X-Ok": "x".repeat(1025)}), vec![bad_value("X-Ok")]),
        (Value::Object(too_many), vec!["headers must have at most 20 entries".into()]),
        (json!("Authorization: x"), vec!["headers must be an object".into()]),
    ];
    let (hook, _) = app.create_webhook(&f.org, &f.owner, url, &["member.added"]).await;
    for (headers, messages) in cases {
        let expected: Vec<&str> = messages.iter().map(String::as_str).collect();
        let body = json!({"url": url, "events": ["member.added"], "headers": headers});
        let (status, answer) = app.post(&hooks_path(&f.org), Some(&f.owner.token), body).await;
        assert_validation(status, &answer, &expected);
        let body = json!({"headers": headers});
        let (status, answer) =
            app.patch(&hook_path(&f.org, &hook), Some(&f.owner.token), body).await;
        assert_validation(status, &answer, &expected);
    }
    app.stop().await;
}

fn reserved(name: &str) -> String {
    format!("header {name} is set by Roster and cannot be set")
}

fn bad_value(name: &str) -> String {
    format!(
        "header {name} must be a string of at most 1024 visible ASCII characters, with no \
         space at either end"
    )
}

/// Only OWNERs and ADMINs set headers and rate limits, in their own organization, and an
/// OAuth token needs `webhooks:write`.
async fn only_managers_set_delivery_settings(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let url = "https://hooks.example.com/in";
    let (hook, _) = app.create_webhook(&f.org, &f.owner, url, &["member.added"]).await;
    let path = hook_path(&f.org, &hook);
    let change = json!({"headers": {"X-Tenant": "tenant-one"}, "rateLimit": 5});
    let create = json!({"url": url, "events": ["member.added"], "headers": {"X-A": "1"},
                        "rateLimit": 3});

    let (status, body) = app.patch(&path, Some(&f.member.token), change.clone()).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, &denied("update webhooks"));
    let (status, body) = app.post(&hooks_path(&f.org), Some(&f.member.token), create.clone()).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, &denied("create webhooks"));
    let (status, body) = app.patch(&path, Some(&f.outsider.token), change.clone()).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let other_org = app.create_org(&f.outsider, "Globex").await;
    let (status, body) =
        app.patch(&hook_path(&other_org, &hook), Some(&f.outsider.token), change.clone()).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "Webhook not found");

    let oauth = app.create_oauth_app(&f.org, &f.owner, &ALL_SCOPES).await;
    let read_only = app.client_credentials_token(&oauth, Some("webhooks:read")).await;
    let (status, body) = app.patch(&path, Some(&read_only), change.clone()).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, &lacks("webhooks:write"));
    let (status, body) = app.post(&hooks_path(&f.org), Some(&read_only), create).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, &lacks("webhooks:write"));
    let unchanged = view(&app, &f.org, &hook, &f.owner).await;
    assert_eq!(unchanged["headerNames"], json!([]), "{unchanged}");
    assert_eq!(unchanged["rateLimit"], Value::Null, "{unchanged}");

    let (status, body) = app.patch(&path, Some(&f.admin.token), change).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["headerNames"], json!(["X-Tenant"]), "{body}");
    assert_eq!(body["rateLimit"], 5, "{body}");
    app.stop().await;
}

on_both_backends!(
    custom_headers_are_sent_and_never_shown,
    reserved_and_malformed_headers_are_refused,
    only_managers_set_delivery_settings
);
