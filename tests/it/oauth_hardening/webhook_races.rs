//! The end of an app's or a person's access racing a change of a webhook they control: no
//! deadlock, and the webhook never ends up delivering what that access no longer allows.

use reqwest::StatusCode;
use serde_json::json;

use super::{app_with_webhook, code_grant, get_webhook, post_webhook};
use crate::common::messages::ORG_NOT_FOUND;
use crate::common::oauth::org_path;
use crate::common::{AUTH_REQUIRED, Backend, TestApp, assert_error};

const ROUNDS: usize = 15;

/// A person leaving while their token creates a webhook: it ends up inactive, or was never made.
async fn leaving_racing_webhook_creation_leaves_no_active_webhook(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["webhooks:write", "members:read"]).await;
    let mut created = 0;
    for round in 0..ROUNDS {
        let leaver = app.register(&format!("leaver-{round}")).await;
        app.add_member(&f.org, &f.owner, &leaver, "ADMIN").await;
        let grant = code_grant(&app, &oauth, &leaver, None).await;
        let removal = format!("{}/members/{}", org_path(&f.org), leaver.id);
        let url = "https://race.example.com/h";
        let (made, removed) = tokio::join!(
            post_webhook(&app, &f.org, &grant.access, url, &["member.added"]),
            app.delete(&removal, Some(&f.owner.token)),
        );
        assert_eq!(removed.0, StatusCode::NO_CONTENT, "round {round}: removal: {}", removed.1);
        let (status, _, body) = made;
        if status == StatusCode::CREATED {
            created += 1;
            let id = body["id"].as_str().expect("webhook id");
            let hook = get_webhook(&app, &f.org, &f.owner, id).await;
            assert_eq!(hook["isActive"], json!(false), "round {round}: {hook}");
        } else if status == StatusCode::NOT_FOUND {
            // The token was still live, its user no longer a member.
            assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
        } else {
            assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
        }
    }
    eprintln!("{backend:?}: {created} of {ROUNDS} webhooks created during the removal");
    app.stop().await;
}

/// A person reactivating an app's paused webhook while the app is revoked: the webhook ends up
/// inactive either way.
async fn revoking_racing_a_persons_reactivation_leaves_it_inactive(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    for round in 0..ROUNDS {
        let (oauth, token, path) =
            app_with_webhook(&app, &f.org, &f.owner, &["webhooks:write", "members:read"]).await;
        let (status, body) = app.patch(&path, Some(&token), json!({"isActive": false})).await;
        assert_eq!(status, StatusCode::OK, "round {round}: pause: {body}");
        let revoke_path = format!("{}/oauth-apps/{}/revoke", org_path(&f.org), oauth.id);
        let (patched, revoked) = tokio::join!(
            app.patch(&path, Some(&f.admin.token), json!({"isActive": true})),
            app.post(&revoke_path, Some(&f.owner.token), json!({})),
        );
        assert_eq!(revoked.0, StatusCode::OK, "round {round}: revoke: {}", revoked.1);
        assert!(
            [StatusCode::OK, StatusCode::CONFLICT].contains(&patched.0),
            "round {round}: reactivation: {}",
            patched.1
        );
        let (_, hook) = app.get(&path, Some(&f.owner.token)).await;
        assert_eq!(hook["isActive"], json!(false), "round {round}: {hook}");
    }
    app.stop().await;
}

/// A person subscribing an app's webhook to invites while the app loses `invites:read`: the
/// webhook never keeps `invite.created`.
async fn narrowing_racing_a_persons_subscription_keeps_nothing_unreadable(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let scopes = ["members:read", "invites:read", "webhooks:write"];
    for round in 0..ROUNDS {
        let (oauth, _, path) = app_with_webhook(&app, &f.org, &f.owner, &scopes).await;
        let app_path = format!("{}/oauth-apps/{}", org_path(&f.org), oauth.id);
        let subscribe = json!({"events": ["member.added", "invite.created"]});
        let narrow = json!({"scopes": ["members:read", "webhooks:write"]});
        let (patched, narrowed) = tokio::join!(
            app.patch(&path, Some(&f.admin.token), subscribe),
            app.patch(&app_path, Some(&f.owner.token), narrow),
        );
        assert_eq!(narrowed.0, StatusCode::OK, "round {round}: narrow: {}", narrowed.1);
        assert!(
            [StatusCode::OK, StatusCode::FORBIDDEN].contains(&patched.0),
            "round {round}: subscribe: {}",
            patched.1
        );
        let (_, hook) = app.get(&path, Some(&f.owner.token)).await;
        assert_eq!(hook["events"], json!(["member.added"]), "round {round}: {hook}");
    }
    app.stop().await;
}

on_both_backends!(
    leaving_racing_webhook_creation_leaves_no_active_webhook,
    revoking_racing_a_persons_reactivation_leaves_it_inactive,
    narrowing_racing_a_persons_subscription_keeps_nothing_unreadable
);
