//! Changing, rotating and deleting a webhook is recorded in the event log, never with a
//! secret, and is never delivered: these types are in the log only.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{hook_path, time_of};
use crate::common::{Backend, TestApp, TestUser};

/// The organization's events of `event`, newest first, as `by` reads them.
async fn logged(app: &TestApp, org: &str, by: &TestUser, event: &str) -> Vec<Value> {
    let path = format!("/api/organizations/{org}/events?event={event}&limit=100");
    let (status, body) = app.get(&path, Some(&by.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].as_array().expect("data").clone()
}

async fn webhook_changes_are_recorded(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let (hook, first_secret) =
        app.create_webhook(&f.org, &f.owner, "https://example.com/a", &["member.added"]).await;
    // Subscribed to every catalog type: none of the log-only ones reaches it.
    let every = [
        "organization.updated",
        "member.added",
        "invite.created",
        "oauth_app.created",
        "webhook.created",
    ];
    let (watcher, _) = app.create_webhook(&f.org, &f.owner, "https://example.com/w", &every).await;
    let path = hook_path(&f.org, &hook);
    let change = json!({"url": "https://example.com/b", "events": ["invite.created", "member.added"],
                        "isActive": false});
    let (status, body) = app.patch(&path, Some(&f.admin.token), change.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The same change again changes nothing, and records nothing.
    let (status, body) = app.patch(&path, Some(&f.admin.token), change).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, rotated) =
        app.post(&format!("{path}/rotate-secret"), Some(&f.owner.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let (status, body) = app.delete(&path, Some(&f.admin.token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let admin = json!({"type": "user", "id": f.admin.id});
    let updated = logged(&app, &f.org, &f.owner, "webhook.updated").await;
    assert_eq!(updated.len(), 1, "{updated:?}");
    assert_eq!(
        updated[0]["data"],
        json!({
            "webhookId": hook,
            "changes": {
                "url": {"previous": "https://example.com/a", "current": "https://example.com/b"},
                "events": {"previous": ["member.added"],
                           "current": ["member.added", "invite.created"]},
                "isActive": {"previous": true, "current": false},
            },
            "actor": admin,
        })
    );
    let rotations = logged(&app, &f.org, &f.owner, "webhook.secret_rotated").await;
    assert_eq!(rotations.len(), 1, "{rotations:?}");
    let data = &rotations[0]["data"];
    assert!(time_of(&data["previousSecretExpiresAt"]) > time_of(&rotations[0]["timestamp"]));
    assert_eq!(
        data,
        &json!({"webhookId": hook, "previousSecretExpiresAt": data["previousSecretExpiresAt"],
                "actor": {"type": "user", "id": f.owner.id}})
    );
    let deleted = logged(&app, &f.org, &f.owner, "webhook.deleted").await;
    assert_eq!(
        deleted.iter().map(|e| e["data"].clone()).collect::<Vec<_>>(),
        [json!({"webhookId": hook, "url": "https://example.com/b",
                "events": ["member.added", "invite.created"], "actor": admin})]
    );

    // No secret in the log, old or new.
    let log = json!(app.events(&f.org, &f.owner).await).to_string();
    let second_secret = rotated["secret"].as_str().expect("secret");
    for secret in [first_secret.as_str(), second_secret] {
        assert!(!log.contains(secret), "a webhook secret in the event log");
    }
    // Recorded, never delivered.
    let delivered: Vec<String> = app
        .deliveries(&f.org, &watcher, &f.owner)
        .await
        .iter()
        .map(|d| d["event"].as_str().expect("event").to_owned())
        .collect();
    assert_eq!(delivered, ["webhook.created"], "only its own creation");
    app.stop().await;
}

/// An app's token taking a webhook over is a change too, even when no field changes.
async fn a_change_of_control_is_recorded(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["members:read", "webhooks:write"]).await;
    let token = app.client_credentials_token(&oauth, None).await;
    let (hook, _) =
        app.create_webhook(&f.org, &f.owner, "https://example.com/a", &["member.added"]).await;
    let path = hook_path(&f.org, &hook);
    let (status, body) = app.patch(&path, Some(&token), json!({"isActive": true})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.patch(&path, Some(&token), json!({"isActive": true})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let updated = logged(&app, &f.org, &f.owner, "webhook.updated").await;
    assert_eq!(
        updated.iter().map(|e| e["data"].clone()).collect::<Vec<_>>(),
        [json!({"webhookId": hook, "changes": {},
                "actor": {"type": "oauth_app", "id": oauth.id}})]
    );
    app.stop().await;
}

on_both_backends!(webhook_changes_are_recorded, a_change_of_control_is_recorded);
