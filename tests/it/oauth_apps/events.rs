//! The events that registering, changing, rotating and revoking apps record.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{app_path, assert_no_secret, create_raw, time_of};
use crate::common::{Backend, TestApp, str_of};

async fn creation_and_revocation_are_recorded_as_events(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let (status, org) =
        app.get(&format!("/api/organizations/{}", f.org), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{org}");
    let org_ref = json!({"id": org["id"], "slug": org["slug"], "name": org["name"]});

    let (status, body) = create_raw(
        &app,
        &f.org,
        &f.owner,
        json!({
            "name": "Reporting",
            "redirectUris": ["https://r.example/cb"],
            "scopes": ["webhooks:read", "organization:read"],
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = str_of(&body, "id").to_owned();
    let client_id = str_of(&body, "clientId").to_owned();
    let secret = str_of(&body, "clientSecret").to_owned();
    let path = app_path(&f.org, &id);
    let change = json!({"name": "Reports", "redirectUris": ["https://r.example/cb"],
                        "scopes": ["organization:read", "members:read"]});
    let (status, body) = app.patch(&path, Some(&f.admin.token), change.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The same change again changes nothing and records nothing.
    let (status, body) = app.patch(&path, Some(&f.admin.token), change).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) =
        app.post(&format!("{path}/rotate-secret"), Some(&f.admin.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let new_secret = str_of(&body, "clientSecret").to_owned();
    let (status, body) = app.post(&format!("{path}/revoke"), Some(&f.admin.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let events = app.events(&f.org, &f.owner).await;
    let ours: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"].as_str().is_some_and(|t| t.starts_with("oauth_app.")))
        .collect();
    assert_eq!(ours.len(), 4, "{ours:?}");
    // Newest first.
    let (revoked, rotated, updated, created) = (ours[0], ours[1], ours[2], ours[3]);
    let admin = json!({"type": "user", "id": f.admin.id});
    assert_eq!(updated["event"], "oauth_app.updated");
    assert_eq!(
        updated["data"],
        json!({
            "appId": id, "name": "Reports", "clientId": client_id,
            "changes": {
                "name": {"previous": "Reporting", "current": "Reports"},
                "scopes": {"previous": ["organization:read", "webhooks:read"],
                           "current": ["organization:read", "members:read"]},
            },
            "actor": admin,
        })
    );
    assert_eq!(rotated["event"], "oauth_app.secret_rotated");
    let overlap_ends = time_of(&rotated["data"], "previousSecretExpiresAt");
    assert!(overlap_ends > time_of(rotated, "timestamp"), "{rotated}");
    assert_eq!(
        rotated["data"],
        json!({
            "appId": id, "name": "Reports", "clientId": client_id,
            "previousSecretExpiresAt": rotated["data"]["previousSecretExpiresAt"],
            "actor": admin,
        })
    );
    assert_eq!(created["event"], "oauth_app.created");
    assert_eq!(created["organization"], org_ref);
    assert_eq!(
        created["data"],
        json!({
            "actor": {"type": "user", "id": f.owner.id},
            "appId": id,
            "name": "Reporting",
            "clientId": client_id,
            "scopes": ["organization:read", "webhooks:read"],
        })
    );
    uuid::Uuid::parse_str(str_of(created, "id")).expect("event id is a UUID");
    time_of(created, "timestamp");
    assert_eq!(revoked["event"], "oauth_app.revoked");
    assert_eq!(revoked["organization"], org_ref);
    assert_eq!(
        revoked["data"],
        json!({
            "actor": {"type": "user", "id": f.admin.id},
            "appId": id,
            "name": "Reports",
            "clientId": client_id,
        })
    );
    // The event log never carries a secret.
    assert_no_secret(&json!(events), &[&secret, &new_secret]);

    // Filterable by type.
    let (status, body) = app
        .get(
            &format!("/api/organizations/{}/events?event=oauth_app.created", f.org),
            Some(&f.owner.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = body["data"].as_array().expect("data");
    assert_eq!(data.len(), 1, "{body}");
    assert_eq!(&data[0], created);
}

on_both_backends!(creation_and_revocation_are_recorded_as_events);
