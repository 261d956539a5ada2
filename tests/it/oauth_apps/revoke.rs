//! Revocation stops every token at once, and is recorded once.

use reqwest::StatusCode;
use serde_json::json;

use super::{
    app_path, assert_app_view, assert_invalid_client, assert_no_secret, assert_secret_refused,
    assert_secret_works, events_of,
};
use crate::common::oauth::ALL_SCOPES;
use crate::common::{AUTH_REQUIRED, Backend, TestApp, assert_error, str_of};

async fn revoke_stops_every_token_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &ALL_SCOPES).await;
    let bystander = app.create_oauth_app(&f.org, &f.owner, &ALL_SCOPES).await;
    let token = app.client_credentials_token(&oauth, None).await;
    let narrow = app.client_credentials_token(&oauth, Some("members:read")).await;
    let other_token = app.client_credentials_token(&bystander, None).await;
    let grant = app.authorization_code_grant(&oauth, &f.member, None).await;
    let user_token = str_of(&grant, "access_token").to_owned();
    let refresh = str_of(&grant, "refresh_token").to_owned();
    let org_path = format!("/api/organizations/{}", f.org);
    for t in [&token, &user_token] {
        let (status, body) = app.get(&org_path, Some(t)).await;
        assert_eq!(status, StatusCode::OK, "the token works before: {body}");
    }
    let path = app_path(&f.org, &oauth.id);
    let (status, before) = app.get(&path, Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{before}");

    let (status, body) = app.post(&format!("{path}/revoke"), Some(&f.admin.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let uri = oauth.redirect_uri.as_str();
    assert_app_view(&body, &f.org, "Test app", &[uri], &ALL_SCOPES, "revoked");
    assert_eq!(body["id"], before["id"]);
    assert_eq!(body["clientId"], before["clientId"]);
    assert_no_secret(&body, &[&oauth.client_secret]);
    let revoked = body.clone();

    // Every token it holds stops at once, a user's included.
    for t in [&token, &narrow, &user_token] {
        let (status, body) = app.get(&org_path, Some(t)).await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
        let (status, body) = app.get(&format!("{org_path}/members"), Some(t)).await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    }
    // The app can get no new ones, not even with the refresh token it holds.
    assert_secret_refused(&app, &oauth.client_id, &oauth.client_secret).await;
    let (status, headers, body) = app
        .oauth_form(
            "/api/oauth/token",
            Some((&oauth.client_id, &oauth.client_secret)),
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        )
        .await;
    assert_invalid_client(status, &headers, &body);
    // Other apps are untouched.
    let (status, body) = app.get(&org_path, Some(&other_token)).await;
    assert_eq!(status, StatusCode::OK, "another app's token still works: {body}");
    assert_secret_works(&app, &bystander.client_id, &bystander.client_secret).await;

    // Revoking again answers 200 and changes nothing.
    let (status, again) =
        app.post(&format!("{path}/revoke"), Some(&f.owner.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again, revoked, "a second revoke changes nothing");
    let (status, got) = app.get(&path, Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got, revoked);

    // One oauth_app.revoked, by the ADMIN who revoked it.
    let events = events_of(&app, &f.org, &f.owner, "oauth_app.revoked").await;
    assert_eq!(events.len(), 1, "revoked is emitted once: {events:?}");
    assert_eq!(
        events[0]["data"],
        json!({
            "actor": {"type": "user", "id": f.admin.id},
            "appId": oauth.id,
            "name": "Test app",
            "clientId": oauth.client_id,
        })
    );
}

async fn concurrent_revokes_emit_one_event(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let path = format!("{}/revoke", app_path(&f.org, &oauth.id));
    let answers = futures::future::join_all((0..6).map(|i| {
        let api = app.api.clone();
        let path = path.clone();
        let token = if i % 2 == 0 { f.owner.token.clone() } else { f.admin.token.clone() };
        async move { api.post(&path, Some(&token), json!({})).await }
    }))
    .await;
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "revoked", "{body}");
    }
    let events = events_of(&app, &f.org, &f.owner, "oauth_app.revoked").await;
    assert_eq!(events.len(), 1, "one oauth_app.revoked however many revokes raced: {events:?}");
    assert_eq!(events[0]["data"]["appId"], json!(oauth.id));
    assert_secret_refused(&app, &oauth.client_id, &oauth.client_secret).await;
}

on_both_backends!(revoke_stops_every_token_at_once, concurrent_revokes_emit_one_event);
