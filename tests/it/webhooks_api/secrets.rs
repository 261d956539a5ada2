//! Secret rotation, with both signatures during the overlap.

use reqwest::StatusCode;
use roster::delivery::signature::{verify_legacy, verify_standard};
use serde_json::json;

use super::{
    WAIT, WEBHOOK_NOT_FOUND, assert_no_secret, assert_secret, assert_signed_by, hook_path, rename,
};
use crate::common::messages::{ORG_NOT_FOUND, denied};
use crate::common::receiver::Receiver;
use crate::common::{AUTH_REQUIRED, Backend, TestApp, assert_error, assert_timestamp, random_id};

async fn rotating_the_secret_signs_with_both_during_the_overlap(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let receiver = Receiver::start().await;
    let (hook, old) =
        app.create_webhook(&f.org, &f.owner, &receiver.url, &["organization.updated"]).await;
    let path = hook_path(&f.org, &hook);

    rename(&app, &f.org, &f.owner, "Acme One").await;
    let got = receiver.wait_for(1, WAIT).await;
    assert_signed_by(&got[0], &old);
    assert_eq!(got[0].header("webhook-signature").split_whitespace().count(), 1);

    let (_, before) = app.get(&path, Some(&f.owner.token)).await;
    let (status, body) =
        app.post(&format!("{path}/rotate-secret"), Some(&f.admin.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({
            "id": hook, "organizationId": f.org, "url": receiver.url,
            "events": ["organization.updated"], "isActive": true, "secret": body["secret"],
            "createdAt": before["createdAt"], "updatedAt": body["updatedAt"],
        })
    );
    assert_secret(&body["secret"]);
    assert_timestamp(&body["updatedAt"]);
    let new = body["secret"].as_str().expect("secret").to_owned();
    assert_ne!(new, old);

    // Not shown again.
    let (status, read) = app.get(&path, Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_no_secret(&read);

    rename(&app, &f.org, &f.owner, "Acme Two").await;
    let got = receiver.wait_for(2, WAIT).await;
    let r = &got[1];
    assert_eq!(r.json()["data"]["changes"]["name"]["current"], "Acme Two");
    let legacy = r.header("x-webhook-signature");
    assert!(verify_legacy(&new, &r.body, legacy), "X-Webhook-Signature uses the new secret");
    assert!(!verify_legacy(&old, &r.body, legacy), "X-Webhook-Signature is not the old one");

    let id = r.header("webhook-id");
    let ts: i64 = r.header("webhook-timestamp").parse().expect("webhook-timestamp");
    let header = r.header("webhook-signature");
    let entries: Vec<&str> = header.split(' ').collect();
    assert_eq!(entries.len(), 2, "two space-separated signatures: {header}");
    assert!(entries.iter().all(|e| e.starts_with("v1,")), "{header}");
    let by_new: Vec<bool> =
        entries.iter().map(|e| verify_standard(&new, id, ts, &r.body, e)).collect();
    let by_old: Vec<bool> =
        entries.iter().map(|e| verify_standard(&old, id, ts, &r.body, e)).collect();
    assert_eq!(by_new.iter().filter(|b| **b).count(), 1, "one entry by the new secret: {header}");
    assert_eq!(by_old.iter().filter(|b| **b).count(), 1, "one entry by the old secret: {header}");
    assert_ne!(by_new, by_old, "the two entries are by different secrets");
    assert!(verify_standard(&new, id, ts, &r.body, header));
    assert!(verify_standard(&old, id, ts, &r.body, header));

    // Who may.
    let rotate = format!("{path}/rotate-secret");
    let (status, body) = app.post(&rotate, Some(&f.member.token), json!({})).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, &denied("rotate webhook secrets"));
    let (status, body) = app.post(&rotate, Some(&f.outsider.token), json!({})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.post(&rotate, None, json!({})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    let (status, body) = app
        .post(
            &format!("{}/rotate-secret", hook_path(&f.org, &random_id())),
            Some(&f.owner.token),
            json!({}),
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);

    // The refused calls rotated nothing: deliveries still verify with `new`.
    rename(&app, &f.org, &f.owner, "Acme Three").await;
    let got = receiver.wait_for(3, WAIT).await;
    assert!(verify_legacy(&new, &got[2].body, got[2].header("x-webhook-signature")));
}

on_both_backends!(rotating_the_secret_signs_with_both_during_the_overlap);
