//! Deleting a webhook.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{QUIET, WAIT, WEBHOOK_NOT_FOUND, deliveries_path, hook_path, rename};
use crate::common::messages::{BAD_UUID, ORG_NOT_FOUND, denied};
use crate::common::receiver::Receiver;
use crate::common::{AUTH_REQUIRED, Backend, TestApp, assert_error, random_id};

async fn delete_removes_the_webhook_and_its_deliveries_stop(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let doomed = Receiver::start().await;
    let control = Receiver::start().await;
    let (hook, _) =
        app.create_webhook(&f.org, &f.owner, &doomed.url, &["organization.updated"]).await;
    app.create_webhook(&f.org, &f.owner, &control.url, &["organization.updated"]).await;
    let path = hook_path(&f.org, &hook);

    rename(&app, &f.org, &f.owner, "Acme Before").await;
    doomed.wait_for(1, WAIT).await;
    control.wait_for(1, WAIT).await;

    let (status, body) = app.delete(&path, Some(&f.member.token)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, &denied("delete webhooks"));
    let (status, body) = app.delete(&path, Some(&f.outsider.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.delete(&path, None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);

    let (status, body) = app.delete(&path, Some(&f.admin.token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(body, Value::Null, "204 has no body");

    let token = Some(f.owner.token.as_str());
    let (status, body) = app.get(&path, token).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);
    let (status, body) = app.delete(&path, token).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);
    let (status, body) = app.patch(&path, token, json!({"isActive": true})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);
    let (status, body) = app.post(&format!("{path}/rotate-secret"), token, json!({})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);
    let (status, body) = app.post(&format!("{path}/test"), token, json!({})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);
    let (status, body) = app.get(&deliveries_path(&f.org, &hook), token).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);

    rename(&app, &f.org, &f.owner, "Acme After").await;
    control.wait_for(2, WAIT).await;
    doomed.assert_stays_at(1, QUIET).await;

    let (status, body) = app.delete(&hook_path(&f.org, &random_id()), token).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);
    let (status, body) = app.delete(&hook_path(&f.org, "nope"), token).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, BAD_UUID);
}

on_both_backends!(delete_removes_the_webhook_and_its_deliveries_stop);
