//! Revoking an app deactivates the webhooks it created.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use super::{code_grant, get_webhook, post_webhook, revoke_app, webhooks_path};
use crate::common::receiver::Receiver;
use crate::common::{Backend, TestApp};

/// How long a webhook delivery may take to arrive.
const WAIT: Duration = Duration::from_secs(10);

async fn revoking_an_app_deactivates_its_webhooks(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let app_receiver = Receiver::start().await;
    let owner_receiver = Receiver::start().await;
    let oauth = app
        .create_oauth_app(&f.org, &f.owner, &["webhooks:write", "webhooks:read", "members:read"])
        .await;
    let token = app.client_credentials_token(&oauth, None).await;
    let (status, _, body) =
        post_webhook(&app, &f.org, &token, &app_receiver.url, &["member.added"]).await;
    assert_eq!(status, StatusCode::CREATED, "app's webhook: {body}");
    let app_hook = body["id"].as_str().expect("webhook id").to_owned();
    let (owner_hook, _) =
        app.create_webhook(&f.org, &f.owner, &owner_receiver.url, &["member.added"]).await;

    // Both deliver before the revocation.
    let first = app.register("first").await;
    app.add_member(&f.org, &f.owner, &first, "MEMBER").await;
    app_receiver.wait_for(1, WAIT).await;
    owner_receiver.wait_for(1, WAIT).await;
    assert_eq!(get_webhook(&app, &f.org, &f.owner, &app_hook).await["isActive"], json!(true));

    revoke_app(&app, &f.org, &f.owner, &oauth).await;

    // At once, with no wait: the revocation did it in the same request.
    let hook = get_webhook(&app, &f.org, &f.owner, &app_hook).await;
    assert_eq!(hook["isActive"], json!(false), "the app's webhook is inactive: {hook}");
    let hook = get_webhook(&app, &f.org, &f.owner, &owner_hook).await;
    assert_eq!(hook["isActive"], json!(true), "a person's webhook stays active: {hook}");
    let listed = app.list_all(&webhooks_path(&f.org), &f.owner.token).await;
    let listed_app_hook =
        listed.iter().find(|w| w["id"] == json!(app_hook)).expect("the app's webhook is listed");
    assert_eq!(listed_app_hook["isActive"], json!(false), "{listed_app_hook}");

    // A new event reaches the person's webhook only.
    let second = app.register("second").await;
    app.add_member(&f.org, &f.owner, &second, "MEMBER").await;
    let got = owner_receiver.wait_for(2, WAIT).await;
    assert_eq!(got[1].json()["event"], json!("member.added"));
    app_receiver.assert_stays_at(1, Duration::from_millis(1500)).await;
    app.stop().await;
}

/// A webhook created with an `authorization_code` token of the app is the app's too.
async fn revoking_an_app_deactivates_webhooks_of_its_user_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app
        .create_oauth_app(&f.org, &f.owner, &["webhooks:write", "webhooks:read", "members:read"])
        .await;
    let other = app.create_oauth_app(&f.org, &f.owner, &["webhooks:write", "members:read"]).await;
    let grant = code_grant(&app, &oauth, &f.admin, None).await;
    let (status, _, body) =
        post_webhook(&app, &f.org, &grant.access, "https://a.example.com/h", &["member.added"])
            .await;
    assert_eq!(status, StatusCode::CREATED, "code token's webhook: {body}");
    let code_hook = body["id"].as_str().expect("webhook id").to_owned();
    let other_token = app.client_credentials_token(&other, None).await;
    let (status, _, body) =
        post_webhook(&app, &f.org, &other_token, "https://b.example.com/h", &["member.added"])
            .await;
    assert_eq!(status, StatusCode::CREATED, "another app's webhook: {body}");
    let other_hook = body["id"].as_str().expect("webhook id").to_owned();
    let (admin_hook, _) =
        app.create_webhook(&f.org, &f.admin, "https://c.example.com/h", &["member.added"]).await;

    revoke_app(&app, &f.org, &f.owner, &oauth).await;

    let hook = get_webhook(&app, &f.org, &f.owner, &code_hook).await;
    assert_eq!(hook["isActive"], json!(false), "made with the app's code token: {hook}");
    let hook = get_webhook(&app, &f.org, &f.owner, &other_hook).await;
    assert_eq!(hook["isActive"], json!(true), "another app's webhook stays active: {hook}");
    let hook = get_webhook(&app, &f.org, &f.owner, &admin_hook).await;
    assert_eq!(hook["isActive"], json!(true), "the same person's own webhook stays: {hook}");
    app.stop().await;
}

on_both_backends!(
    revoking_an_app_deactivates_its_webhooks,
    revoking_an_app_deactivates_webhooks_of_its_user_tokens
);
