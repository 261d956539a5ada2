//! Per-organization, per-user and per-app quotas: past one, creating another is refused with
//! a clear answer and nothing is written; removing one makes room again.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::oauth::creds;
use crate::common::receiver::Receiver;
use crate::common::{Backend, PASSWORD, TestApp, assert_error};

async fn spawn_with_quota(
    backend: Backend,
    set: impl FnOnce(&mut roster::config::Quotas),
) -> TestApp {
    TestApp::spawn_with(backend, |config| set(&mut config.quotas)).await
}

async fn webhooks_per_organization(backend: Backend) {
    let app = spawn_with_quota(backend, |q| q.webhooks_per_org = 2).await;
    let receiver = Receiver::start().await;
    let f = app.org_with_roles().await;
    let path = format!("/api/organizations/{}/webhooks", f.org);
    let body = json!({"url": receiver.url, "events": ["member.added"]});
    let (first, _) = app.create_webhook(&f.org, &f.owner, &receiver.url, &["member.added"]).await;
    app.create_webhook(&f.org, &f.admin, &receiver.url, &["member.added"]).await;
    let (status, refused) = app.post(&path, Some(&f.owner.token), body.clone()).await;
    assert_error(
        status,
        &refused,
        StatusCode::CONFLICT,
        "The organization has reached its limit of 2 webhooks; remove some first",
    );
    assert_eq!(app.list_all(&path, &f.owner.token).await.len(), 2);
    // Another organization has a quota of its own.
    let other = app.create_org(&f.outsider, "Other").await;
    app.create_webhook(&other, &f.outsider, &receiver.url, &["member.added"]).await;

    let (status, _) = app.delete(&format!("{path}/{first}"), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app.post(&path, Some(&f.owner.token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// Concurrent creations are counted one after the other: exactly the quota succeeds.
async fn concurrent_webhook_creations_never_overshoot(backend: Backend) {
    let app = spawn_with_quota(backend, |q| q.webhooks_per_org = 3).await;
    let receiver = Receiver::start().await;
    let f = app.org_with_roles().await;
    let path = format!("/api/organizations/{}/webhooks", f.org);
    let body = json!({"url": receiver.url, "events": ["member.added"]});
    let answers = futures::future::join_all(
        (0..10).map(|_| app.post(&path, Some(&f.owner.token), body.clone())),
    )
    .await;
    let created = answers.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
    let refused = answers.iter().filter(|(s, _)| *s == StatusCode::CONFLICT).count();
    assert_eq!((created, refused), (3, 7), "{answers:?}");
    assert_eq!(app.list_all(&path, &f.owner.token).await.len(), 3);
}

async fn pending_invites_per_organization(backend: Backend) {
    let app = spawn_with_quota(backend, |q| q.pending_invites_per_org = 2).await;
    let f = app.org_with_roles().await;
    let path = format!("/api/organizations/{}/invites", f.org);
    let invite = |n: u32| json!({"email": format!("guest{n}@example.com"), "role": "MEMBER"});
    let (status, first) = app.post(&path, Some(&f.owner.token), invite(1)).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, _) = app.post(&path, Some(&f.owner.token), invite(2)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = app.post(&path, Some(&f.owner.token), invite(3)).await;
    assert_error(
        status,
        &body,
        StatusCode::CONFLICT,
        "The organization has reached its limit of 2 pending invites; remove some first",
    );
    let first_id = first["invite"]["id"].as_str().or(first["id"].as_str()).expect("invite id");
    let (status, body) = app.delete(&format!("{path}/{first_id}"), Some(&f.owner.token)).await;
    assert!(status.is_success(), "cancel: {status} {body}");
    let (status, body) = app.post(&path, Some(&f.owner.token), invite(3)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn oauth_apps_per_organization(backend: Backend) {
    let app = spawn_with_quota(backend, |q| q.oauth_apps_per_org = 1).await;
    let f = app.org_with_roles().await;
    let first = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let path = format!("/api/organizations/{}/oauth-apps", f.org);
    let body = json!({"name": "Two", "redirectUris": ["https://example.com/cb"], "scopes": ["members:read"]});
    let (status, refused) = app.post(&path, Some(&f.owner.token), body.clone()).await;
    assert_error(
        status,
        &refused,
        StatusCode::CONFLICT,
        "The organization has reached its limit of 1 OAuth apps; remove some first",
    );
    let (status, _) =
        app.post(&format!("{path}/{}/revoke", first.id), Some(&f.owner.token), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app.post(&path, Some(&f.owner.token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn personal_tokens_per_user(backend: Backend) {
    let app = spawn_with_quota(backend, |q| q.personal_tokens_per_user = 2).await;
    let user = app.register("tokens").await;
    let path = "/api/users/me/tokens";
    let mut ids = Vec::new();
    for n in 0..2 {
        let (status, body) = app
            .post(
                path,
                Some(&user.token),
                json!({"name": format!("t{n}"), "currentPassword": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        ids.push(body["id"].as_str().expect("token id").to_owned());
    }
    let (status, body) =
        app.post(path, Some(&user.token), json!({"name": "t3", "currentPassword": PASSWORD})).await;
    assert_error(
        status,
        &body,
        StatusCode::CONFLICT,
        "Your account has reached its limit of 2 personal access tokens; remove some first",
    );
    let (status, _) = app.delete(&format!("{path}/{}", ids[0]), Some(&user.token)).await;
    assert!(status.is_success());
    let (status, body) =
        app.post(path, Some(&user.token), json!({"name": "t3", "currentPassword": PASSWORD})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn access_tokens_per_oauth_app(backend: Backend) {
    let app = spawn_with_quota(backend, |q| q.oauth_tokens_per_app = 2).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let first = app.client_credentials_token(&oauth, None).await;
    app.client_credentials_token(&oauth, None).await;
    let form = [("grant_type", "client_credentials")];
    let (status, _, body): (StatusCode, _, Value) =
        app.oauth_form("/api/oauth/token", creds(&oauth), &form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], json!("invalid_request"));
    let description = body["error_description"].as_str().expect("a description");
    assert!(description.contains("limit of 2 live access tokens"), "{description}");

    let (status, _, _) =
        app.oauth_form("/api/oauth/revoke", creds(&oauth), &[("token", first.as_str())]).await;
    assert_eq!(status, StatusCode::OK);
    app.client_credentials_token(&oauth, None).await;
    // The token's life ends the count too.
    app.advance(std::time::Duration::from_secs(3601));
    app.client_credentials_token(&oauth, None).await;
    app.client_credentials_token(&oauth, None).await;
}

on_both_backends!(
    webhooks_per_organization,
    concurrent_webhook_creations_never_overshoot,
    pending_invites_per_organization,
    oauth_apps_per_organization,
    personal_tokens_per_user,
    access_tokens_per_oauth_app,
);
