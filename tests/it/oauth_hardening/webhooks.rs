//! Webhook subscriptions made by OAuth tokens are limited to what the token could read.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{code_grant, get_webhook, post_webhook, webhooks_path};
use crate::common::oauth::{ALL_SCOPES, assert_insufficient_scope};
use crate::common::{Backend, TestApp, TestUser, assert_error};

const OAUTH_APP_EVENTS_REFUSED: &str =
    "Access denied. OAuth tokens cannot subscribe to oauth_app events.";

/// The IDs of every webhook of the organization, as `by` lists them.
async fn webhook_ids(app: &TestApp, org: &str, by: &TestUser) -> Vec<String> {
    let mut ids: Vec<String> = app
        .list_all(&webhooks_path(org), &by.token)
        .await
        .iter()
        .map(|w| w["id"].as_str().expect("webhook id").to_owned())
        .collect();
    ids.sort();
    ids
}

/// The fields of a webhook a PATCH could change.
fn webhook_state(w: &Value) -> Value {
    json!({"url": w["url"], "events": w["events"], "isActive": w["isActive"]})
}

/// Creating a webhook with an OAuth token: every subscribed event type must be readable by
/// the token; the first missing scope is named in the order organization:read, members:read,
/// invites:read, webhooks:read; nothing is created on refusal.
async fn oauth_webhook_creation_limited_to_readable_events(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &ALL_SCOPES).await;
    let url = "https://hooks.example.com/in";
    let before = webhook_ids(&app, &f.org, &f.owner).await;

    // Only webhooks:write: nothing at all is readable.
    let write_only = app.client_credentials_token(&oauth, Some("webhooks:write")).await;
    let cases: [(&[&str], &str); 9] = [
        (&["organization.created"], "organization:read"),
        (&["organization.updated", "organization.deleted"], "organization:read"),
        (&["member.added"], "members:read"),
        (&["member.removed", "member.role_updated"], "members:read"),
        (&["invite.created", "invite.accepted", "invite.cancelled"], "invites:read"),
        (&["webhook.created"], "webhooks:read"),
        // The first missing scope in the fixed order, whatever the order of the events.
        (&["webhook.created", "invite.created", "member.added"], "members:read"),
        (&["webhook.created", "invite.cancelled"], "invites:read"),
        (&["webhook.created", "member.removed", "organization.deleted"], "organization:read"),
    ];
    for (events, scope) in cases {
        let (status, headers, body) = post_webhook(&app, &f.org, &write_only, url, events).await;
        assert_insufficient_scope(
            &format!("POST webhook {events:?} with webhooks:write only"),
            status,
            &headers,
            &body,
            scope,
        );
    }

    // Holding some read scopes: the first one still missing is named.
    let partial = app
        .client_credentials_token(&oauth, Some("webhooks:write organization:read members:read"))
        .await;
    for (events, scope) in [
        (&["organization.updated", "member.added", "invite.created"][..], "invites:read"),
        (&["member.added", "webhook.created"][..], "webhooks:read"),
    ] {
        let (status, headers, body) = post_webhook(&app, &f.org, &partial, url, events).await;
        assert_insufficient_scope(
            &format!("POST webhook {events:?} with organization:read members:read"),
            status,
            &headers,
            &body,
            scope,
        );
    }

    // An authorization_code token of an ADMIN is limited the same way.
    let admin_grant = code_grant(&app, &oauth, &f.admin, Some("webhooks:write")).await;
    let (status, headers, body) =
        post_webhook(&app, &f.org, &admin_grant.access, url, &["member.added"]).await;
    assert_insufficient_scope(
        "POST member.added webhook with an ADMIN's authorization_code token",
        status,
        &headers,
        &body,
        "members:read",
    );

    // oauth_app events: never, even with every scope.
    let everything = app.client_credentials_token(&oauth, None).await;
    let admin_everything = code_grant(&app, &oauth, &f.admin, None).await;
    for token in [&everything, &admin_everything.access] {
        for events in [
            &["oauth_app.created"][..],
            &["oauth_app.revoked"][..],
            &["member.added", "oauth_app.revoked"][..],
        ] {
            let (status, _, body) = post_webhook(&app, &f.org, token, url, events).await;
            assert_error(status, &body, StatusCode::FORBIDDEN, OAUTH_APP_EVENTS_REFUSED);
        }
    }

    assert_eq!(
        webhook_ids(&app, &f.org, &f.owner).await,
        before,
        "no webhook may be created by a refused request"
    );

    // What the token can read, it can subscribe to.
    let members_reader =
        app.client_credentials_token(&oauth, Some("webhooks:write members:read")).await;
    let (status, _, body) =
        post_webhook(&app, &f.org, &members_reader, url, &["member.added"]).await;
    assert_eq!(status, StatusCode::CREATED, "member.added with members:read: {body}");
    assert_eq!(body["events"], json!(["member.added"]), "{body}");
    let (status, _, body) = post_webhook(
        &app,
        &f.org,
        &members_reader,
        url,
        &["member.added", "member.removed", "member.role_updated"],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "member.* with members:read: {body}");
    let (status, _, body) = post_webhook(
        &app,
        &f.org,
        &everything,
        url,
        &[
            "organization.updated",
            "member.added",
            "invite.created",
            "invite.accepted",
            "webhook.created",
        ],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "every readable event with every scope: {body}");
    let (status, _, body) = post_webhook(
        &app,
        &f.org,
        &admin_everything.access,
        url,
        &["member.added", "webhook.created"],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "ADMIN's code token with every scope: {body}");

    // People's own tokens are not limited this way, oauth_app events included.
    for person in [&f.owner, &f.admin] {
        let (status, _, body) = post_webhook(
            &app,
            &f.org,
            &person.token,
            url,
            &["oauth_app.created", "oauth_app.revoked", "member.added", "webhook.created"],
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "a person's own token: {body}");
    }
    assert_eq!(webhook_ids(&app, &f.org, &f.owner).await.len(), before.len() + 6);
    app.stop().await;
}

/// Changing a webhook with an OAuth token: the check applies to the resulting subscription,
/// even when only the URL changes; a refused PATCH changes nothing.
async fn oauth_webhook_update_limited_to_readable_events(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &ALL_SCOPES).await;
    let (members_hook, _) = app
        .create_webhook(&f.org, &f.owner, "https://owner.example.com/m", &["member.added"])
        .await;
    let (apps_hook, _) = app
        .create_webhook(&f.org, &f.owner, "https://owner.example.com/a", &["oauth_app.created"])
        .await;
    let members_before = get_webhook(&app, &f.org, &f.owner, &members_hook).await;
    let apps_before = get_webhook(&app, &f.org, &f.owner, &apps_hook).await;
    let members_hook_path = format!("{}/{members_hook}", webhooks_path(&f.org));
    let apps_hook_path = format!("{}/{apps_hook}", webhooks_path(&f.org));

    // webhooks:write (and webhooks:read) but not members:read: cannot repoint it.
    let no_members =
        app.client_credentials_token(&oauth, Some("webhooks:write webhooks:read")).await;
    let (status, headers, body) = app
        .send(
            Method::PATCH,
            &members_hook_path,
            Some(&no_members),
            Some(json!({"url": "https://attacker.example.com/steal"})),
        )
        .await;
    assert_insufficient_scope(
        "PATCH url of a member.added webhook without members:read",
        status,
        &headers,
        &body,
        "members:read",
    );
    // Adding events it cannot read is refused too.
    let (status, headers, body) = app
        .send(
            Method::PATCH,
            &members_hook_path,
            Some(&no_members),
            Some(json!({"events": ["member.added", "invite.created"]})),
        )
        .await;
    assert_insufficient_scope(
        "PATCH events to member.added + invite.created without members:read",
        status,
        &headers,
        &body,
        "members:read",
    );
    let (status, headers, body) = app.send(Method::PATCH,
        &members_hook_path,
        Some(&no_members),
        Some(json!({"url": "https://attacker.example.com/steal", "events": ["organization.updated"]})),
    )
    .await;
    assert_insufficient_scope(
        "PATCH events to organization.updated without organization:read",
        status,
        &headers,
        &body,
        "organization:read",
    );
    // The same with an ADMIN's authorization_code token.
    let admin_grant =
        code_grant(&app, &oauth, &f.admin, Some("webhooks:write webhooks:read")).await;
    let (status, headers, body) = app
        .send(
            Method::PATCH,
            &members_hook_path,
            Some(&admin_grant.access),
            Some(json!({"url": "https://attacker.example.com/steal"})),
        )
        .await;
    assert_insufficient_scope(
        "PATCH url with an ADMIN's code token without members:read",
        status,
        &headers,
        &body,
        "members:read",
    );

    // oauth_app events: neither added, nor kept by a URL change.
    let everything = app.client_credentials_token(&oauth, None).await;
    let (status, _, body) = app
        .send(
            Method::PATCH,
            &members_hook_path,
            Some(&everything),
            Some(json!({"events": ["member.added", "oauth_app.revoked"]})),
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, OAUTH_APP_EVENTS_REFUSED);
    let (status, _, body) = app
        .send(
            Method::PATCH,
            &apps_hook_path,
            Some(&everything),
            Some(json!({"url": "https://attacker.example.com/apps"})),
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, OAUTH_APP_EVENTS_REFUSED);

    // Nothing changed.
    let members_after = get_webhook(&app, &f.org, &f.owner, &members_hook).await;
    assert_eq!(webhook_state(&members_after), webhook_state(&members_before), "unchanged");
    assert_eq!(members_after["updatedAt"], members_before["updatedAt"], "unchanged");
    let apps_after = get_webhook(&app, &f.org, &f.owner, &apps_hook).await;
    assert_eq!(webhook_state(&apps_after), webhook_state(&apps_before), "unchanged");

    // With members:read the same URL change goes through.
    let with_members = app
        .client_credentials_token(&oauth, Some("webhooks:write webhooks:read members:read"))
        .await;
    let (status, _, body) = app
        .send(
            Method::PATCH,
            &members_hook_path,
            Some(&with_members),
            Some(json!({"url": "https://app.example.com/m"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "PATCH url with members:read: {body}");
    assert_eq!(body["url"], json!("https://app.example.com/m"), "{body}");
    assert_eq!(body["events"], json!(["member.added"]), "{body}");

    // Replacing the subscription with one the token can read is allowed.
    let (status, _, body) = app
        .send(
            Method::PATCH,
            &members_hook_path,
            Some(&no_members),
            Some(json!({"events": ["webhook.created"], "url": "https://app.example.com/w"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "PATCH to a readable subscription: {body}");
    assert_eq!(body["events"], json!(["webhook.created"]), "{body}");

    // People's own tokens are not limited.
    let (status, _, body) = app.send(Method::PATCH,
        &apps_hook_path,
        Some(&f.admin.token),
        Some(json!({"url": "https://admin.example.com/a", "events": ["oauth_app.created", "oauth_app.revoked", "member.added"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "a person's PATCH: {body}");
    assert_eq!(body["url"], json!("https://admin.example.com/a"), "{body}");
    app.stop().await;
}

on_both_backends!(
    oauth_webhook_creation_limited_to_readable_events,
    oauth_webhook_update_limited_to_readable_events
);
