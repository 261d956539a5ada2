//! Updates and deactivation.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use super::{
    BAD_EVENT, BAD_URL, EVENTS_EMPTY, NOT_ARRAY, QUIET, WAIT, WEBHOOK_NOT_FOUND, assert_no_secret,
    assert_signed_by, assert_webhook_view, hook_path, rename, strings, time_of,
};
use crate::common::messages::{ORG_NOT_FOUND, denied};
use crate::common::receiver::Receiver;
use crate::common::{AUTH_REQUIRED, Backend, TestApp, assert_error, assert_validation, random_id};

const NOT_BOOLEAN: &str = "isActive must be a boolean value";

async fn update_changes_url_events_and_activity(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let (hook, _) =
        app.create_webhook(&f.org, &f.owner, "https://example.com/a", &["member.added"]).await;
    let path = hook_path(&f.org, &hook);
    let (_, before) = app.get(&path, Some(&f.owner.token)).await;

    let (status, body) =
        app.patch(&path, Some(&f.admin.token), json!({"url": "https://example.com/b"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_webhook_view(&body, &f.org, "https://example.com/b", &["member.added"], true);
    assert_eq!(body["createdAt"], before["createdAt"]);
    assert!(time_of(&body["updatedAt"]) >= time_of(&before["updatedAt"]));

    let (status, body) = app
        .patch(
            &path,
            Some(&f.owner.token),
            json!({"events": ["organization.updated", "invite.created", "invite.created"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["events"].as_array().expect("events").len(), 2, "{body}");
    assert_eq!(
        strings(&body["events"]),
        strings(&json!(["organization.updated", "invite.created"]))
    );
    assert_eq!(body["url"], "https://example.com/b");

    let (status, body) = app.patch(&path, Some(&f.owner.token), json!({"isActive": false})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["isActive"], false);
    assert_eq!(body["url"], "https://example.com/b");

    let (status, body) = app
        .patch(
            &path,
            Some(&f.owner.token),
            json!({"url": "https://example.com/c", "events": ["member.removed"], "isActive": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_webhook_view(&body, &f.org, "https://example.com/c", &["member.removed"], true);
    assert_no_secret(&body);

    // An empty patch changes nothing.
    let (status, body) = app.patch(&path, Some(&f.owner.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_webhook_view(&body, &f.org, "https://example.com/c", &["member.removed"], true);

    // What GET reads is what PATCH answered.
    let (status, read) = app.get(&path, Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_webhook_view(&read, &f.org, "https://example.com/c", &["member.removed"], true);

    // Validation, all at once, and nothing changes.
    let token = Some(f.owner.token.as_str());
    let (status, body) = app.patch(&path, token, json!({"isActive": "yes"})).await;
    assert_validation(status, &body, &[NOT_BOOLEAN]);
    let (status, body) = app.patch(&path, token, json!({"isActive": 1})).await;
    assert_validation(status, &body, &[NOT_BOOLEAN]);
    let (status, body) = app.patch(&path, token, json!({"url": "nope"})).await;
    assert_validation(status, &body, &[BAD_URL]);
    let (status, body) =
        app.patch(&path, token, json!({"url": "https://user:pass@example.com/h"})).await;
    assert_validation(status, &body, &["url must not contain credentials"]);
    let (status, body) = app.patch(&path, token, json!({"events": []})).await;
    assert_validation(status, &body, &[EVENTS_EMPTY]);
    let (status, body) = app.patch(&path, token, json!({"events": "member.added"})).await;
    assert_validation(status, &body, &[NOT_ARRAY]);
    let (status, body) = app.patch(&path, token, json!({"events": ["nope"]})).await;
    assert_validation(status, &body, &[BAD_EVENT]);
    let (status, body) = app.patch(&path, token, json!({"secret": "whsec_mine"})).await;
    assert_validation(status, &body, &["property secret should not exist"]);
    let (status, body) =
        app.patch(&path, token, json!({"url": 5, "events": [], "isActive": "no"})).await;
    assert_validation(status, &body, &[BAD_URL, EVENTS_EMPTY, NOT_BOOLEAN]);
    let (_, after) = app.get(&path, token).await;
    assert_eq!(after, read);

    // Who may.
    let (status, body) = app.patch(&path, Some(&f.member.token), json!({"isActive": false})).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, &denied("update webhooks"));
    let (status, body) =
        app.patch(&path, Some(&f.outsider.token), json!({"isActive": false})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.patch(&path, None, json!({"isActive": false})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    let (status, body) =
        app.patch(&hook_path(&f.org, &random_id()), token, json!({"isActive": false})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);
    let (_, after) = app.get(&path, token).await;
    assert_eq!(after, read);
}

async fn an_inactive_webhook_receives_nothing_until_reactivated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let paused = Receiver::start().await;
    let control = Receiver::start().await;
    let (hook, secret) =
        app.create_webhook(&f.org, &f.owner, &paused.url, &["organization.updated"]).await;
    app.create_webhook(&f.org, &f.owner, &control.url, &["organization.updated"]).await;

    let (status, body) = app
        .patch(&hook_path(&f.org, &hook), Some(&f.owner.token), json!({"isActive": false}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["isActive"], false);

    rename(&app, &f.org, &f.owner, "Acme While Paused").await;
    control.wait_for(1, WAIT).await;
    paused.assert_stays_at(0, QUIET).await;

    let (status, body) =
        app.patch(&hook_path(&f.org, &hook), Some(&f.admin.token), json!({"isActive": true})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["isActive"], true);

    rename(&app, &f.org, &f.owner, "Acme Again").await;
    let got = paused.wait_for(1, WAIT).await;
    control.wait_for(2, WAIT).await;
    let payload = got[0].json();
    assert_eq!(payload["event"], "organization.updated");
    assert_eq!(payload["data"]["changes"]["name"]["current"], "Acme Again", "{payload}");
    assert_signed_by(&got[0], &secret);
    paused.assert_stays_at(1, Duration::from_millis(300)).await;
}

on_both_backends!(
    update_changes_url_events_and_activity,
    an_inactive_webhook_receives_nothing_until_reactivated
);
